// Worker entry: loads the TypeScript consumer thread through tsx, as bin/mds.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./consumer-worker.ts');
