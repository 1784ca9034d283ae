/** A live mds process holding a data directory's lock: prints "held", keeps it until stdin closes. */
import { acquireLock } from '../../localstack/state.ts';

const dataDir = process.argv[2] as string;
const lock = await acquireLock(dataDir, 'hold-lock');
process.stdout.write('held\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void lock.release().then(() => process.exit(0));
});
