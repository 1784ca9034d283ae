/**
 * The runs page in real Chromium: the workflow's executions read through @aws-sdk/client-sfn from the local
 * Step Functions endpoint, with status, window, step durations, a failed run's cause and a link to each
 * published run's report.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardServer, type DashboardServer } from '../../dashboard/server.ts';
import { sfnRunsSource } from '../../dashboard/runs.ts';
import type { GoldWarehouse } from '../../dashboard/warehouse.ts';
import { STATE_MACHINE_ARN, startTestWorkflow, type TestWorkflow } from '../workflow/local-endpoints.ts';
import { launchChromium, watchErrors } from './browser.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const day = (d: number) => ({ start: `2026-11-${d}T00:00:00.000Z`, end: `2026-11-${d + 1}T00:00:00.000Z` });

describe('runs page in Chromium', () => {
  let w: TestWorkflow;
  let server: DashboardServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    w = await startTestWorkflow();
    const start = async (name: string, d: number) => {
      await w.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE_ARN,
          name,
          input: JSON.stringify({ window: day(d) }),
        }),
      );
      await w.endpoint.idle();
    };
    await start('ok-20', 20);
    w.dbtFailures = 1;
    await start('dbt-fails-21', 21);
    server = await createDashboardServer({
      warehouse: async () => {
        throw new Error('the runs page reads no warehouse');
      },
      log: quiet,
      runs: sfnRunsSource({
        sfn: w.sfn,
        stateMachineArn: STATE_MACHINE_ARN,
        report: async (runId) =>
          runId === 'run-1'
            ? '<!doctype html><title>Run run-1</title><link rel="icon" href="data:,"><h1>run-1</h1>'
            : undefined,
      }),
    });
    browser = await launchChromium();
    page = await browser.newPage();
    errors = watchErrors(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    w?.sfn.destroy();
    await w?.endpoint.close();
  });

  it('lists each run with status, window and step durations, and a failed run with its cause', async () => {
    await page.goto(`${server.url}runs`);
    await page.waitForSelector('body[data-state="ready"]');
    const rows = await page.$$eval('#runs tbody tr', (trs) =>
      trs.map((tr) => ({
        name: (tr as HTMLElement).dataset.name,
        cells: Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? ''),
        failedSteps: Array.from(tr.querySelectorAll('.steps li.failed'), (li) => li.textContent ?? ''),
        report: tr.querySelector('a')?.getAttribute('href') ?? null,
      })),
    );
    expect(rows.map((r) => r.name)).toEqual(['dbt-fails-21', 'ok-20']);
    const [failed, ok] = rows as [(typeof rows)[number], (typeof rows)[number]];
    expect(failed.cells[0]).toBe('FAILED');
    expect(failed.cells[1]).toBe('2026-11-21 00:00 – 00:00');
    expect(failed.cells[5]).toContain('States.TaskFailed');
    expect(failed.cells[5]).toContain('model.spotify.fct_plays (error: division by zero)');
    expect(failed.failedSteps).toHaveLength(1);
    expect(failed.failedSteps[0]).toMatch(/^RunDbt \d/);
    // A failed run has a summary and report too (written from its status-change event), under the plan's run id.
    expect(failed.report).toBe('/runs/run-2/report.html');
    expect(ok.cells[0]).toBe('SUCCEEDED');
    expect(ok.cells[4]).toMatch(/PlanWindow \d.*RunDbt \d.*PublishSummary \d/);
    expect(ok.cells[5]).toBe('');
    expect(ok.report).toBe('/runs/run-1/report.html');
    expect(await page.textContent('#span')).toBe('2 runs, 1 not succeeded');
    expect(errors).toEqual([]);
  });

  it("follows a run's report link", async () => {
    await page.goto(`${server.url}runs`);
    await page.waitForSelector('body[data-state="ready"]');
    await page.click('tr[data-name="ok-20"] a');
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe('run-1');
    expect(errors).toEqual([]);
  });

  it('without a runs source, says how to serve one', async () => {
    const bare = await createDashboardServer({
      warehouse: async () => ({}) as GoldWarehouse,
      log: quiet,
    });
    try {
      await page.goto(`${bare.url}runs`);
      await page.waitForSelector('body[data-state="error"]');
      expect(await page.textContent('#message')).toContain('mds dashboard');
    } finally {
      await bare.close();
    }
  });
});
