// Worker entry: loads the TypeScript worker through tsx, as bin/mds.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./produce-worker.ts');
