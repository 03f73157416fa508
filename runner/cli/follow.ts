import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import type { Clock } from '../drain/clock';
import { OUTCOME_KINDS, sidekiqProcessSchema, type InstanceOutcome } from '../drain/outcome';
import type { PlannedEnvironment, ProgressSnapshot, Reporter, RunSummary } from '../drain/reporter';
import type { RunRequest } from '../request';

export interface FollowTarget {
  cluster: string;
  taskArn: string;
  containerName: string;
  /** Without it only the task's state changes are shown. */
  logGroupName?: string;
}

/** A Reporter that can also show a line for the person (task state, runner warnings). */
export type NotingReporter = Reporter & { note(text: string): void };

export interface FollowDeps {
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
  clock: Clock;
  signal: AbortSignal;
  /** The request the runner was launched with: the log names it only by run id. */
  request: RunRequest;
  reporter: NotingReporter;
  pollMs?: number;
}

/** The awslogs stream name: <prefix>/<container>/<task id>; the SnowWhite stack's prefix is `runner`. */
export const logStreamFor = (taskArn: string, containerName: string, prefix = 'runner'): string =>
  `${prefix}/${containerName}/${taskArn.split('/').pop() ?? taskArn}`;

/** Pure: one runner log line (JSON, see runner/log.ts) as a person reads it. */
export function formatRunnerLogLine(raw: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof parsed !== 'object' || parsed === null) return raw;
  const { time, level, event, program: _program, runId: _runId, ...rest } = parsed as Record<string, unknown>;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${clock} ${level === 'info' || level === undefined ? '' : `${String(level).toUpperCase()} `}${String(event ?? '')}${extra}`.trim();
}

// The log is the runner's, but it crosses a boundary: every field is checked before it is shown.
const count = z.number().int().nonnegative();
const lineSchema = z.object({ time: z.string().optional(), level: z.string().optional(), event: z.string() });
const planSchema = z.object({
  plan: z.array(z.object({ name: z.string(), reachable: count, unreachable: count })),
});
const outcomeSchema = z.object({
  instanceId: z.string(),
  environment: z.string(),
  kind: z.enum(OUTCOME_KINDS),
  reason: z.string(),
  exitCode: z.number().int().optional(),
  busyJobs: count.optional(),
  processes: count.optional(),
  elapsedSeconds: z.number().optional(),
  sidekiq: z.array(sidekiqProcessSchema).optional(),
});
const finishedSchema = z.object({
  exitCode: z.number().int(),
  error: z.string().optional(),
  elapsedMs: z.number().optional(),
  commandIds: z.array(z.string()).optional(),
  otherEnvironments: z.array(z.string()).optional(),
  monitoringStopped: z.object({ reason: z.string(), commandIds: z.array(z.string()) }).optional(),
});
const interruptedSchema = z.object({
  commandIds: z.array(z.string()).default([]),
  cancelled: z.array(z.string()).default([]),
});

export type RunnerEvent =
  | { type: 'starting'; at: number }
  | { type: 'plan'; at: number; environments: PlannedEnvironment[] }
  | { type: 'outcome'; at: number; outcome: InstanceOutcome }
  | { type: 'finished'; at: number; finished: z.infer<typeof finishedSchema> }
  | { type: 'interrupted'; at: number; commandIds: string[]; cancelled: string[] }
  | { type: 'problem'; text: string };

/** Pure: what one runner log line means for the display; undefined for lines it need not show. */
export function parseRunnerLine(raw: string): RunnerEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const line = lineSchema.safeParse(json);
  if (!line.success) return undefined;
  const at = Date.parse(line.data.time ?? '') || 0;
  const as = <T>(schema: z.ZodType<T>) => schema.safeParse(json);
  switch (line.data.event) {
    case 'run starting':
      return { type: 'starting', at };
    case 'targets resolved': {
      const p = as(planSchema);
      if (p.success) return { type: 'plan', at, environments: p.data.plan };
      break;
    }
    case 'instance finished': {
      const o = as(outcomeSchema);
      if (o.success) return { type: 'outcome', at, outcome: withoutUndefined(o.data) };
      break;
    }
    case 'run finished': {
      const f = as(finishedSchema);
      if (f.success) return { type: 'finished', at, finished: f.data };
      break;
    }
    case 'interrupted': {
      const i = as(interruptedSchema);
      if (i.success) return { type: 'interrupted', at, ...i.data };
      break;
    }
  }
  return line.data.level === 'warn' || line.data.level === 'error'
    ? { type: 'problem', text: formatRunnerLogLine(raw) }
    : undefined;
}

const withoutUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Replays the runner's events into a Reporter, as if the run happened here. */
export class RunReplay {
  private startedAt: number | undefined;
  private planned: PlannedEnvironment[] = [];
  private readonly outcomes = new Map<string, InstanceOutcome>();
  finished = false;

  constructor(
    private readonly request: RunRequest,
    private readonly reporter: NotingReporter,
  ) {}

  async apply(e: RunnerEvent): Promise<void> {
    const at = 'at' in e ? e.at : 0;
    if (this.startedAt === undefined && at) this.startedAt = at;
    switch (e.type) {
      case 'starting':
        this.startedAt = e.at;
        return;
      case 'plan':
        this.planned = e.environments;
        await this.reporter.started({ request: this.request, environments: e.environments });
        this.reporter.progress(this.snapshot(at));
        return;
      case 'outcome':
        this.outcomes.set(e.outcome.instanceId, e.outcome);
        if (this.planned.length) this.reporter.progress(this.snapshot(at));
        return;
      case 'finished': {
        const f = e.finished;
        const summary: RunSummary = {
          request: this.request,
          exitCode: f.exitCode,
          elapsedMs: f.elapsedMs ?? this.elapsed(at),
          outcomes: [...this.outcomes.values()],
          commandIds: f.commandIds ?? [],
          ...(f.error ? { error: f.error } : {}),
          ...(f.otherEnvironments ? { noMatch: { otherEnvironments: f.otherEnvironments } } : {}),
          ...(f.monitoringStopped ? { monitoringStopped: f.monitoringStopped } : {}),
        };
        this.finished = true;
        await this.reporter.finished(summary);
        return;
      }
      case 'interrupted':
        this.finished = true;
        await this.reporter.interrupted({
          request: this.request,
          commandIds: e.commandIds,
          cancelledCommandIds: e.cancelled,
          snapshot: this.snapshot(at),
        });
        return;
      case 'problem':
        this.reporter.note(e.text);
    }
  }

  private elapsed(at: number): number {
    return this.startedAt !== undefined && at ? Math.max(0, at - this.startedAt) : 0;
  }

  private snapshot(at: number): ProgressSnapshot {
    return {
      request: this.request,
      elapsedMs: this.elapsed(at),
      environments: this.planned.map((p) => {
        const done = [...this.outcomes.values()].filter((o) => o.environment === p.name).length;
        const total = p.reachable + p.unreachable;
        return { name: p.name, total, done, running: Math.max(0, total - done) };
      }),
    };
  }
}

/**
 * `snowwhite --follow`: reads the runner's log (its awslogs stream) until the task stops, rebuilds
 * from it the same live progress and summary `--local` shows (or the same --json events), and
 * returns the runner's own exit code, so a script can chain on `snowwhite quiet … --follow`.
 */
export async function followRunner(target: FollowTarget, deps: FollowDeps): Promise<number> {
  const stream = logStreamFor(target.taskArn, target.containerName);
  const replay = new RunReplay(deps.request, deps.reporter);
  let nextToken: string | undefined;
  let lastStatus = '';

  const drainLogs = async () => {
    if (!target.logGroupName) return;
    for (;;) {
      let out;
      try {
        out = await deps.logs.send(
          new GetLogEventsCommand({
            logGroupName: target.logGroupName,
            logStreamName: stream,
            startFromHead: true,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return; // the task has not logged yet
        throw err;
      }
      for (const e of out.events ?? []) {
        const event = e.message ? parseRunnerLine(e.message) : undefined;
        if (event) await replay.apply(event);
      }
      const advanced = out.nextForwardToken !== undefined && out.nextForwardToken !== nextToken;
      nextToken = out.nextForwardToken;
      if (!advanced || (out.events ?? []).length === 0) return;
    }
  };

  while (!deps.signal.aborted) {
    const described = await deps.ecs.send(
      new DescribeTasksCommand({ cluster: target.cluster, tasks: [target.taskArn] }),
    );
    const task = described.tasks?.[0];
    if (!task) {
      const why = described.failures?.[0]?.reason ?? 'not found';
      throw new Error(`task ${target.taskArn}: ${why}`);
    }
    if (task.lastStatus && task.lastStatus !== lastStatus) {
      lastStatus = task.lastStatus;
      deps.reporter.note(`runner task ${lastStatus.toLowerCase()}`);
    }
    await drainLogs();
    if (task.lastStatus === 'STOPPED') {
      const container = task.containers?.find((c) => c.name === target.containerName) ?? task.containers?.[0];
      if (container?.exitCode !== undefined) return container.exitCode;
      deps.reporter.note(
        `the runner stopped without an exit code: ${task.stoppedReason ?? container?.reason ?? 'no reason given'}`,
      );
      return 1;
    }
    await deps.clock.sleep(deps.pollMs ?? 3000, deps.signal);
  }
  deps.reporter.note('stopped following; the runner keeps running on Fargate');
  return 130;
}
