/**
 * The local EventBridge Scheduler: the workflow's schedule as a stored resource (its expression, time zone and
 * State, saved as workflow-schedule.json in the data directory) and an endpoint on 127.0.0.1 with the
 * Scheduler actions `mds schedule` uses, in the REST-JSON protocol of @aws-sdk/client-scheduler:
 *   GET /schedules/{Name}?groupName=   GetSchedule
 *   PUT /schedules/{Name}              UpdateSchedule (a full replacement, as in AWS: expression, target and
 *                                      flexible time window are required)
 *   GET /schedules?NamePrefix=&State=  ListSchedules
 * Errors carry their code in the X-Amzn-ErrorType header and `{"Message"}` in the body, with the HTTP status
 * the service model gives (ResourceNotFoundException 404, ValidationException 400).
 *
 * A change notifies the listeners: the local scheduler loop (runStoredSchedule) re-reads the schedule, so a
 * paused schedule (State DISABLED) fires no run and a resumed one fires again.
 */
import { existsSync, readFileSync, renameSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './definition.ts';
import { evaluateSchedule, type WorkflowSchedule } from './schedule.ts';
import type { ChangingSchedule } from './scheduler.ts';
import { AwsError, closeServer, listen, readBody, type LocalEndpoint } from './sfn-endpoint.ts';

export interface StoredSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly expression: string;
  readonly timeZone: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly targetArn: string;
  readonly targetRoleArn: string;
  readonly targetInput?: string;
  readonly description?: string;
  readonly creationDate: string;
  readonly lastModificationDate: string;
}

export const LOCAL_SCHEDULE_NAME = 'mds-local-workflow';

export class ScheduleStore {
  private current: StoredSchedule;
  private readonly listeners = new Set<() => void>();

  /**
   * The stored schedule of `file`, or `configured` the first time (as `cdk deploy` creates it). `file`
   * undefined keeps it in memory only.
   */
  constructor(
    configured: WorkflowSchedule,
    targetArn: string,
    private readonly file?: string,
  ) {
    const at = new Date().toISOString();
    const initial: StoredSchedule = {
      name: LOCAL_SCHEDULE_NAME,
      groupName: 'default',
      expression: configured.expression,
      timeZone: configured.timeZone,
      state: configured.enabled ? 'ENABLED' : 'DISABLED',
      targetArn,
      targetRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-scheduler`,
      targetInput: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
      description: 'Starts the workflow for the hour before the scheduled time',
      creationDate: at,
      lastModificationDate: at,
    };
    this.current =
      file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StoredSchedule) : initial;
  }

  get(): StoredSchedule {
    return this.current;
  }

  /** The schedule as the evaluator reads it. */
  workflowSchedule(): WorkflowSchedule {
    const s = this.current;
    return { expression: s.expression, timeZone: s.timeZone, enabled: s.state === 'ENABLED' };
  }

  update(change: Partial<Omit<StoredSchedule, 'name' | 'groupName' | 'creationDate'>>): StoredSchedule {
    const next = { ...this.current, ...change, lastModificationDate: new Date().toISOString() };
    // Refused as UpdateSchedule refuses it: the expression must parse.
    try {
      evaluateSchedule(
        { expression: next.expression, timeZone: next.timeZone, enabled: true },
        new Date(next.creationDate),
      );
    } catch (err) {
      throw new AwsError('ValidationException', (err as Error).message);
    }
    this.current = next;
    if (this.file) {
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(next, null, 2));
      renameSync(tmp, this.file);
    }
    for (const l of this.listeners) l();
    return next;
  }

  /**
   * Follows changes another process makes to the file (`mds schedule pause` while `mds local up` serves):
   * polls it every `intervalMs` and notifies the listeners when it changed. Returns the stop function.
   */
  watch(intervalMs = 2000): () => void {
    const file = this.file;
    if (!file) return () => undefined;
    const onFile = () => {
      try {
        const next = JSON.parse(readFileSync(file, 'utf8')) as StoredSchedule;
        if (JSON.stringify(next) === JSON.stringify(this.current)) return;
        this.current = next;
        for (const l of this.listeners) l();
      } catch {
        // half-written or removed: the next poll reads it
      }
    };
    watchFile(file, { interval: intervalMs, persistent: false }, onFile);
    // A change made before watchFile's first stat is in its baseline and never reported: read once more.
    const first = setTimeout(onFile, intervalMs * 2);
    first.unref();
    return () => {
      clearTimeout(first);
      unwatchFile(file, onFile);
    };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** The schedule as the local scheduler loop follows it (runStoredSchedule). */
  changing(): ChangingSchedule {
    return {
      current: () => evaluateSchedule(this.workflowSchedule(), new Date(this.current.creationDate)),
      onChange: (listener) => this.onChange(listener),
    };
  }
}

export function scheduleFile(dataRoot: string): string {
  return path.join(dataRoot, 'workflow-schedule.json');
}

export function scheduleArnOf(s: StoredSchedule): string {
  return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/${s.groupName}/${s.name}`;
}

export async function startSchedulerEndpoint(store: ScheduleStore, port = 0): Promise<LocalEndpoint> {
  const seconds = (iso: string) => Date.parse(iso) / 1000;
  const find = (name: string, group: string | null) => {
    const s = store.get();
    if (name !== s.name || (group ?? 'default') !== s.groupName) {
      throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    }
    return s;
  };
  const full = (s: StoredSchedule) => ({
    Arn: scheduleArnOf(s),
    Name: s.name,
    GroupName: s.groupName,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timeZone,
    State: s.state,
    Description: s.description,
    CreationDate: seconds(s.creationDate),
    LastModificationDate: seconds(s.lastModificationDate),
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: s.targetArn, RoleArn: s.targetRoleArn, Input: s.targetInput },
  });

  const server = createServer((req, res) => {
    void (async () => {
      const reply = (status: number, body: unknown, error?: string) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(error ? { 'x-amzn-errortype': error } : {}),
        });
        res.end(JSON.stringify(body));
      };
      try {
        const url = new URL(req.url ?? '/', 'http://local');
        const text = await readBody(req);
        const one = /^\/schedules\/([^/]+)$/.exec(url.pathname);
        if (req.method === 'GET' && one) {
          return reply(
            200,
            full(find(decodeURIComponent(one[1] as string), url.searchParams.get('groupName'))),
          );
        }
        if (req.method === 'PUT' && one) {
          const body = JSON.parse(text || '{}') as {
            ScheduleExpression?: string;
            ScheduleExpressionTimezone?: string;
            State?: string;
            GroupName?: string;
            Description?: string;
            Target?: { Arn?: string; RoleArn?: string; Input?: string };
            FlexibleTimeWindow?: unknown;
          };
          find(decodeURIComponent(one[1] as string), body.GroupName ?? null);
          if (!body.ScheduleExpression || !body.Target?.Arn || !body.FlexibleTimeWindow) {
            throw new AwsError(
              'ValidationException',
              'UpdateSchedule needs ScheduleExpression, Target and FlexibleTimeWindow',
            );
          }
          if (body.State !== undefined && body.State !== 'ENABLED' && body.State !== 'DISABLED') {
            throw new AwsError('ValidationException', `State must be ENABLED or DISABLED, not ${body.State}`);
          }
          const s = store.update({
            expression: body.ScheduleExpression,
            timeZone: body.ScheduleExpressionTimezone ?? 'UTC',
            // UpdateSchedule replaces the schedule: a State left out is ENABLED, its default.
            state: (body.State as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
            description: body.Description,
            targetArn: body.Target.Arn,
            targetRoleArn: body.Target.RoleArn ?? store.get().targetRoleArn,
            targetInput: body.Target.Input,
          });
          return reply(200, { ScheduleArn: scheduleArnOf(s) });
        }
        if (req.method === 'GET' && url.pathname === '/schedules') {
          const s = store.get();
          const prefix = url.searchParams.get('NamePrefix') ?? '';
          const state = url.searchParams.get('State');
          const group = url.searchParams.get('ScheduleGroup');
          const match =
            s.name.startsWith(prefix) && (!state || state === s.state) && (!group || group === s.groupName);
          const summary = {
            Arn: scheduleArnOf(s),
            Name: s.name,
            GroupName: s.groupName,
            State: s.state,
            CreationDate: seconds(s.creationDate),
            LastModificationDate: seconds(s.lastModificationDate),
            Target: { Arn: s.targetArn },
          };
          return reply(200, { Schedules: match ? [summary] : [] });
        }
        throw new AwsError(
          'ResourceNotFoundException',
          `no such resource ${req.method} ${url.pathname}`,
          404,
        );
      } catch (err) {
        const e = err instanceof AwsError ? err : new AwsError('InternalServerException', String(err), 500);
        reply(e.status, { Message: e.message }, e.code);
      }
    })();
  });
  const url = await listen(server, port);
  return { url, idle: async () => undefined, close: () => closeServer(server) };
}
