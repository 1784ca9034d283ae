// The local S3-API server (s3rver) as a process of its own, as a compose service runs one:
// node s3-server-process.mjs DIR PORT prints "listening on http://127.0.0.1:PORT" and runs until SIGTERM.
// It creates no bucket: a client creates what it needs.
import { register } from 'tsx/esm/api';

register();
const { startLocalS3 } = await import('../../localstack/s3-server.ts');
const [directory, port = '0'] = process.argv.slice(2);
const s3 = await startLocalS3({ directory, port: Number(port) });
console.log(`listening on ${s3.endpoint}`);
process.once('SIGTERM', () => void s3.close().then(() => process.exit(0)));
