/**
 * Publish: the last step of every successful run, and the summary of every failed one (from its status-change
 * event, status-change.ts). Writes the run summary (runs/<runId>/summary.json)
 * and its static HTML report (runs/<runId>/report.html) to the object store, and notifies the alarm topic
 * when the run failed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { RUNS_PREFIX } from '../core/bronze.ts';
import type { RunSummary, RunWindow } from '../core/run-summary.ts';
import { getObjectBytes, parseS3Uri, putObjectBytes } from '../core/s3.ts';
import { renderRunReport } from '../core/report.ts';

/** What the workflow hands to the publish step: whatever the run produced before it ended. */
export interface PublishRequest {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly runId: string;
  readonly window: RunWindow;
  readonly startedAt: string;
  readonly load?: RunSummary['loader'];
  /** Where the dbt task uploaded its run_results.json. */
  readonly dbtResultsUri?: string;
  readonly reconcile?: {
    readonly ok: boolean;
    readonly counts: RunSummary['counts'];
    readonly checks: NonNullable<RunSummary['reconciliation']>['checks'];
    readonly gold?: RunSummary['gold'];
  };
  /** The execution's error and cause, and the name of the state it failed in when known. */
  readonly failure?: { readonly Error?: string; readonly Cause?: string; readonly state?: string };
  readonly stepSeconds?: Readonly<Record<string, number>>;
}

/**
 * What the workflow's PublishSummary state sends (stepfunctions/workflow.ts); a failed run's is made from its
 * status-change event (status-change.ts).
 */
export interface PublisherEvent {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly executionName: string;
  readonly startedAt: string;
  /** The whole workflow state: input, plan?, load?, dbt?, reconcile?, failure? ({Error, Cause, state?}). */
  readonly run: {
    readonly window?: Partial<RunWindow>;
    readonly plan?: { readonly runId: string; readonly window: RunWindow };
    /** The load's total; while LoadBronze is still looping, the running total with `complete: false`. */
    readonly load?: RunSummary['loader'] & { readonly complete?: boolean };
    readonly dbt?: unknown;
    readonly reconcile?: PublishRequest['reconcile'];
    readonly failure?: { readonly Error?: string; readonly Cause?: string; readonly state?: string };
    readonly stepSeconds?: Readonly<Record<string, number>>;
  };
}

/** When the failed state is not named: the first step whose result is missing from the state. */
function failedState(run: PublisherEvent['run']): string {
  if (!run.plan) return 'PlanWindow';
  if (!run.load || run.load.complete === false) return 'LoadBronze';
  if (!run.dbt) return 'RunDbt';
  if (!run.reconcile) return 'Reconcile';
  return 'PublishSummary';
}

/** Turns the workflow state into a publish request; dbt's results are where the RunDbt task put them. */
export function publishRequestFromEvent(event: PublisherEvent, bucket: string): PublishRequest {
  const { run } = event;
  const runId = run.plan?.runId ?? event.executionName;
  const window = run.plan?.window ?? { start: run.window?.start ?? '', end: run.window?.end ?? '' };
  return {
    status: event.status,
    runId,
    window,
    startedAt: event.startedAt,
    ...(run.load ? { load: run.load } : {}),
    ...(run.plan ? { dbtResultsUri: `s3://${bucket}/${RUNS_PREFIX}${runId}/dbt/run_results.json` } : {}),
    ...(run.reconcile ? { reconcile: run.reconcile } : {}),
    ...(run.failure ? { failure: { ...run.failure, state: run.failure.state ?? failedState(run) } } : {}),
    ...(run.stepSeconds ? { stepSeconds: run.stepSeconds } : {}),
  };
}

export interface PublishDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly sns?: SNSClient;
  readonly topicArn?: string;
  readonly now?: () => Date;
}

export interface PublishResult {
  readonly summaryUri: string;
  readonly reportUri: string;
  readonly status: RunSummary['status'];
}

/** A status-change event that writes nothing (see status-change.ts), and why. */
export interface PublishSkipped {
  readonly skipped: string;
}

export async function publishRun(deps: PublishDeps, req: PublishRequest): Promise<PublishResult> {
  return publishSummary(deps, await buildSummary(deps, req));
}

/** Writes summary.json and report.html under runs/<runId>/ and notifies when the run failed. */
export async function publishSummary(deps: PublishDeps, summary: RunSummary): Promise<PublishResult> {
  const base = `${RUNS_PREFIX}${summary.runId}/`;
  await putObjectBytes(deps.s3, deps.bucket, `${base}summary.json`, JSON.stringify(summary, null, 2), {
    contentType: 'application/json',
  });
  await putObjectBytes(deps.s3, deps.bucket, `${base}report.html`, renderRunReport(summary), {
    contentType: 'text/html; charset=utf-8',
  });
  const result = {
    summaryUri: `s3://${deps.bucket}/${base}summary.json`,
    reportUri: `s3://${deps.bucket}/${base}report.html`,
    status: summary.status,
  };
  if (summary.status === 'FAILED' && deps.sns && deps.topicArn) {
    await deps.sns.send(
      new PublishCommand({
        TopicArn: deps.topicArn,
        Subject: `Spotify MDS run ${summary.runId} failed`.slice(0, 100),
        Message: failureMessage(summary, result.reportUri),
      }),
    );
  }
  return result;
}

export async function buildSummary(deps: PublishDeps, req: PublishRequest): Promise<RunSummary> {
  const now = (deps.now ?? (() => new Date()))();
  const dbt = req.dbtResultsUri ? await readDbtResults(deps.s3, req.dbtResultsUri) : undefined;
  const summary: RunSummary = {
    runId: req.runId,
    status: req.status,
    window: req.window,
    startedAt: req.startedAt,
    finishedAt: now.toISOString(),
    stepSeconds: req.stepSeconds ?? {},
    counts: req.reconcile?.counts ?? {
      landed: 0,
      quarantined: 0,
      loaded: req.load?.rowsLoaded ?? 0,
      modelled: 0,
    },
    ...(req.load ? { loader: req.load } : {}),
    ...(dbt ? { dbt } : {}),
    ...(req.reconcile ? { reconciliation: { ok: req.reconcile.ok, checks: req.reconcile.checks } } : {}),
    ...(req.reconcile?.gold ? { gold: req.reconcile.gold } : {}),
    ...(req.failure
      ? {
          failure: {
            state: req.failure.state ?? 'unknown',
            error: req.failure.Error ?? 'Error',
            cause: causeMessage(req.failure.Cause),
          },
        }
      : {}),
  };
  return summary;
}

/** Lambda errors arrive as a JSON Cause (`{"errorType","errorMessage",...}`); show the message. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message itself
  }
  return cause;
}

async function readDbtResults(s3: S3Client, uri: string): Promise<RunSummary['dbt'] | undefined> {
  const { bucket, key } = parseS3Uri(uri);
  let raw: Uint8Array;
  try {
    raw = await getObjectBytes(s3, bucket, key);
  } catch {
    return undefined; // dbt never got to write its results (it failed before, or did not run)
  }
  const parsed = JSON.parse(Buffer.from(raw).toString('utf8')) as {
    results?: { unique_id: string; status: string; execution_time: number; message?: string | null }[];
  };
  const results = (parsed.results ?? []).map((r) => ({
    unique_id: r.unique_id,
    status: r.status,
    execution_time: r.execution_time,
    message: r.message ?? null,
  }));
  const failed = results.some((r) => r.status === 'error' || r.status === 'fail');
  return { status: failed ? 'error' : 'success', results };
}

function failureMessage(summary: RunSummary, reportUri: string): string {
  return [
    `Run ${summary.runId} for ${summary.window.start} .. ${summary.window.end} failed.`,
    summary.failure
      ? `State: ${summary.failure.state}\nError: ${summary.failure.error}\nCause: ${summary.failure.cause}`
      : '',
    `Report: ${reportUri}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
