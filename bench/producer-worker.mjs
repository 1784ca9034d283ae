// Worker entry: loads the TypeScript producer worker through tsx, as bin/mds.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./producer-worker.ts');
