/**
 * The CDK app. Picks the environment from context and builds every stack for it:
 *   cdk deploy -c env=prod --all
 * Settings come from lib/config, with overrides from the context key mds:<env> (cdk.json or -c).
 */
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config/environments.ts';
import { buildApp } from '../lib/app.ts';
import { ConfigError } from '../lambdas/core/errors.ts';

const app = new App();
const envName = app.node.tryGetContext('env') ?? 'dev';
try {
  const config = loadConfig(envName, app.node.tryGetContext(`mds:${envName}`));
  buildApp(app, { envName, config });
} catch (err) {
  // A wrong setting: one readable line instead of a stack trace, and a failing exit code for CI.
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
app.synth();
