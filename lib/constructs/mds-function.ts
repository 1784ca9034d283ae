import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledge.ts';
import { fromRoot, PROJECT_ROOT } from './project.ts';

export interface MdsFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'architecture' | 'role'
> {
  /** The handler file, relative to the project root, e.g. 'lambdas/consumer/handler.ts'. */
  readonly entryPath: string;
  /** Days to keep the function's logs. */
  readonly logRetentionDays: logs.RetentionDays;
  /** Metrics namespace for Powertools (the handlers read POWERTOOLS_METRICS_NAMESPACE). @default METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
}

/** The CloudWatch namespace of the functions' own metrics (and of the alarms on them). */
export const METRICS_NAMESPACE = 'SpotifyMds';

/** The runtime every function of the app uses: the newest Node.js LTS that Lambda offers, on Graviton. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * A project Lambda: Node.js on ARM, bundled by the local esbuild into one ESM file (no Docker),
 * its own log group with a retention, X-Ray tracing and the Powertools settings. Its role may write
 * to its own log group only (instead of the managed policy that allows every log group).
 */
export class MdsFunction extends NodejsFunction {
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of the function's metrics and the logs' service. */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE: where the function's metrics go. */
  readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: MdsFunctionProps) {
    const { entryPath, logRetentionDays, metricsNamespace = METRICS_NAMESPACE, ...rest } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logRetentionDays });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);
    if (rest.vpc) {
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      acknowledge(
        role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'A function in a VPC must create and delete its network interfaces; the service picks them at run time.',
      );
    }
    super(scope, id, {
      role,
      memorySize: 512,
      timeout: Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...rest,
      entry: fromRoot(entryPath),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fromRoot('package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      environment: {
        POWERTOOLS_SERVICE_NAME: id,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
        ...rest.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        // Error classes name themselves after their class (errors.ts); minified names would reach Step
        // Functions as `r` or `t`, and no Retry or Catch by error name would ever match.
        keepNames: true,
        sourceMap: true,
        // CommonJS dependencies (kafkajs, snowflake-sdk) call require() and read __dirname/__filename; an
        // ESM bundle has to provide them.
        banner: [
          "import { createRequire as __mdsCreateRequire } from 'node:module';",
          "import { fileURLToPath as __mdsFileURLToPath } from 'node:url';",
          "import { dirname as __mdsDirname } from 'node:path';",
          'const require = __mdsCreateRequire(import.meta.url);',
          'const __filename = __mdsFileURLToPath(import.meta.url);',
          'const __dirname = __mdsDirname(__filename);',
        ].join(' '),
        // The Lambda Node.js runtime ships the AWS SDK v3; native add-ons only run on a laptop.
        externalModules: ['@aws-sdk/*', '@duckdb/*'],
        ...rest.bundling,
      },
    });
    this.serviceName = id;
    this.metricsNamespace = metricsNamespace;
  }
}
