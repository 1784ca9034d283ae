/**
 * `npm run bench -- lambda`: each function of `cdk synth -c env=dev` as the local Lambda runtime runs it:
 * the size of its bundle (the asset CDK uploads, without its source map) and its cold start (a new execution
 * environment importing the bundle), median of 5 cold starts per function.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthesizeAssembly } from '../localstack/lambda/assembly.ts';
import { localFunctionSetup } from '../localstack/lambda/local-functions.ts';
import { LocalLambdaRuntime } from '../localstack/lambda/runtime.ts';

export default async function bench(): Promise<void> {
  const assembly = await synthesizeAssembly({ envName: 'dev', log: (l) => console.log(l) });
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-lambda-bench-'));
  const endpoints = {
    region: 'us-east-1',
    bucket: 'bench',
    s3Endpoint: 'http://127.0.0.1:9',
    warehouse: { kind: 'duckdb' as const, path: path.join(dir, 'w.duckdb') },
    kafkaBootstrap: '127.0.0.1:9',
    warehouseLock: <T>(fn: () => Promise<T>) => fn(),
  };
  console.log('function                      bundle KiB   cold start ms (median of 5)');
  try {
    for (const spec of assembly.functions) {
      const entry = ['index.mjs', 'index.js', 'framework.js']
        .map((f) => path.join(spec.codeDir, f))
        .find((f) => statSync(f, { throwIfNoEntry: false }));
      const kib = entry ? statSync(entry).size / 1024 : 0;
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
        rt.register(spec, localFunctionSetup(assembly, spec, endpoints));
        const t0 = performance.now();
        await rt.preflight();
        times.push(performance.now() - t0);
        await rt.close();
      }
      times.sort((a, b) => a - b);
      console.log(
        `${spec.id.padEnd(30)}${kib.toFixed(0).padStart(10)}   ${times[2]!.toFixed(0).padStart(8)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
