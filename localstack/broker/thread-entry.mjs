// Worker entry: loads the TypeScript broker thread through tsx, as bin/mds.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./thread-worker.ts');
