/**
 * A live mds process holding a data directory's lock: prints "held", keeps it until stdin closes, or, with
 * `crash` as the second argument, ends on an uncaught error once stdin closes.
 */
import { acquireLock } from '../../localstack/state.ts';

const dataDir = process.argv[2] as string;
const lock = await acquireLock(dataDir, 'hold-lock');
process.stdout.write('held\n');
process.stdin.resume();
process.stdin.on('end', () => {
  if (process.argv[3] === 'crash') throw new Error('an error nothing caught');
  void lock.release().then(() => process.exit(0));
});
