/** `mds runs show --env`: the run summary the Publisher wrote to S3, read from the local S3 server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { putObjectBytes } from '../../lambdas/core/s3.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { summaryFromS3 } from '../../bin/commands/runs.ts';
import { runIdOfHistory } from '../../lambdas/core/run-id.ts';

let dir: string;
let s3: LocalS3;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mds-summary-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['bronze'] });
});
afterAll(async () => {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the run summary of a deployed execution', () => {
  it('is runs/<runId>/summary.json of the Bronze bucket, the run id from the history', async () => {
    const events = [
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'PlanWindow', input: '{}' } },
      {
        type: 'TaskStateEntered',
        stateEnteredEventDetails: {
          name: 'RunDbt',
          input: JSON.stringify({ plan: { runId: 'r-42' } }),
        },
      },
    ] as HistoryEvent[];
    const client = s3.client();
    await putObjectBytes(
      client,
      'bronze',
      'runs/r-42/summary.json',
      JSON.stringify({ counts: { loaded: 1200, modelled: 1199 } }),
    );
    expect(runIdOfHistory(events, 'e-1')).toBe('r-42');
    expect(runIdOfHistory(events.slice(0, 1), 'e-1')).toBe('e-1');
    expect(await summaryFromS3(client, 'bronze', 'r-42')).toBe(
      'loaded 1,200, modelled 1,199 (s3://bronze/runs/r-42/report.html)',
    );
    expect(await summaryFromS3(client, 'bronze', 'r-missing')).toBeUndefined();
  });
});
