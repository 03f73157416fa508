import { systemClock, type Clock } from './clock';
import { MonitoringStoppedError, type InstanceExecutor } from './executor';
import { describeError, silentLogger, type Logger } from '../log';
import { withErrorId, type ErrorDetail } from '../error-id';
import { EXIT_FAILURE, exitCodeFor, type InstanceOutcome } from './outcome';
import { onlyInstances, type Target } from './targets';
import type { ProgressSnapshot, Reporter, RunSummary } from './reporter';
import type { RunRequest } from '../request';
import type { TargetSource } from './targets';

export interface RunDrainOptions {
  request: RunRequest;
  targets: TargetSource;
  executor: InstanceExecutor;
  reporter: Reporter;
  clock?: Clock;
  /** Aborted on SIGTERM: stop waiting, tell people what keeps running, return. */
  signal?: AbortSignal;
  log?: Logger;
  /**
   * Seconds beyond the execution timeout before the runner stops waiting: covers delivery
   * (SendCommand's TimeoutSeconds, 600 by default) and status propagation.
   */
  deadlineMarginSeconds?: number;
}

export interface RunResult {
  exitCode: number;
  outcomes: InstanceOutcome[];
  commandIds: string[];
  interrupted: boolean;
  error?: string;
  /** The executor stopped following commands that may still run (see RunSummary). */
  monitoringStopped?: { reason: string; commandIds: string[] };
}

export const DEFAULT_DEADLINE_MARGIN_SECONDS = 720;
/** Wall-clock time the SSM cancellations may take before the interruption is reported anyway. */
const CANCEL_BUDGET_MS = 10_000;

/**
 * Pure: the outcome of a target that has none when the executor returned. Reached by a command
 * the runner stopped following: the script may still run there ('unknown', never 'failed').
 * Never reached (the executor failed first): failed. Otherwise the deadline passed: timed out.
 */
export function unfinishedOutcome(
  target: Target,
  why: { stoppedFollowing?: string; error?: string; commandId?: string },
): InstanceOutcome {
  if (why.commandId && (why.stoppedFollowing ?? why.error))
    return {
      ...target,
      kind: 'unknown',
      reason: `the runner stopped following SSM command ${why.commandId} (${why.stoppedFollowing ?? why.error}); the script may still be running here`,
    };
  if (why.error) return { ...target, kind: 'failed', reason: `not started: ${why.error}` };
  return {
    ...target,
    kind: 'timed_out',
    reason: "no final status before the runner's deadline (execution timeout + delivery time)",
  };
}

/** Pure: when the runner gives up waiting, derived from the execution timeout SSM enforces. */
export const deadlineFor = (
  startedAt: number,
  executionTimeoutSeconds: number,
  marginSeconds = DEFAULT_DEADLINE_MARGIN_SECONDS,
): number => startedAt + (executionTimeoutSeconds + marginSeconds) * 1000;

/**
 * The drain, independent of how instances are found (TargetSource), reached (InstanceExecutor)
 * or told about (Reporter): resolve targets → report the plan → execute → collect one outcome per
 * instance → summary and exit code. The Fargate runner wires SSM and Slack into it; the command
 * line wires a local executor and a console reporter.
 *
 * Exit codes: 0 every instance done · 2 some still busy at the drain timeout · 1 any failure
 * (including no matching environment, an AWS error, an interruption).
 */
export async function runDrain(opts: RunDrainOptions): Promise<RunResult> {
  const { request, reporter } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? silentLogger;
  const signal = opts.signal ?? new AbortController().signal;
  const startedAt = clock.now();
  const commandIds: string[] = [];
  const outcomes = new Map<string, InstanceOutcome>();
  const running = new Set<string>();
  /** Instance → the command (executor handle) it was sent with, to name it when following stops. */
  const handleOf = new Map<string, string>();
  let planned: Array<{ name: string; targets: Target[] }> = [];

  const snapshot = (): ProgressSnapshot => ({
    request,
    elapsedMs: clock.now() - startedAt,
    environments: planned.map((e) => ({
      name: e.name,
      total: e.targets.length,
      done: e.targets.filter((t) => outcomes.has(t.instanceId)).length,
      running: e.targets.filter((t) => running.has(t.instanceId) && !outcomes.has(t.instanceId)).length,
    })),
  });
  const finish = async (
    extra: Pick<RunSummary, 'error' | 'errorDetails' | 'noMatch' | 'monitoringStopped'> & {
      exitCode?: number;
    },
  ): Promise<RunResult> => {
    const list = [...outcomes.values()];
    const exitCode =
      extra.exitCode ??
      (extra.error || extra.monitoringStopped ? EXIT_FAILURE : exitCodeFor(request.action, list));
    const summary: RunSummary = {
      request,
      exitCode,
      elapsedMs: clock.now() - startedAt,
      outcomes: list,
      commandIds,
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.errorDetails?.length ? { errorDetails: extra.errorDetails } : {}),
      ...(extra.noMatch ? { noMatch: extra.noMatch } : {}),
      ...(extra.monitoringStopped ? { monitoringStopped: extra.monitoringStopped } : {}),
    };
    // With 'targets resolved' and 'instance finished', enough for `snowwhite --follow` to redraw
    // the summary from the log.
    log[exitCode === 0 ? 'info' : 'warn']('run finished', {
      exitCode,
      error: extra.error,
      ...(extra.errorDetails?.length ? { errorDetails: extra.errorDetails } : {}),
      counts: countByKind(list),
      commandIds,
      elapsedMs: summary.elapsedMs,
      ...(extra.noMatch ? { otherEnvironments: extra.noMatch.otherEnvironments } : {}),
      ...(extra.monitoringStopped ? { monitoringStopped: extra.monitoringStopped } : {}),
    });
    await safely(log, 'finished', () => reporter.finished(summary));
    return {
      exitCode,
      outcomes: list,
      commandIds,
      interrupted: false,
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.monitoringStopped ? { monitoringStopped: extra.monitoringStopped } : {}),
    };
  };
  const interrupted = async (): Promise<RunResult> => {
    // Stopped (Cancel, or ECS): the scripts stop too, within a few seconds, so the report is sent
    // well before Fargate's SIGKILL.
    let cancelled: string[] = [];
    if (commandIds.length && opts.executor.cancel) {
      try {
        cancelled = await opts.executor.cancel(commandIds, AbortSignal.timeout(CANCEL_BUDGET_MS));
      } catch (err) {
        log.error('could not cancel the commands', { error: describeError(err) });
      }
    }
    log.warn('interrupted', { commandIds, cancelled });
    await safely(log, 'interrupted', () =>
      reporter.interrupted({ request, commandIds, cancelledCommandIds: cancelled, snapshot: snapshot() }),
    );
    return { exitCode: EXIT_FAILURE, outcomes: [...outcomes.values()], commandIds, interrupted: true };
  };

  let plan;
  try {
    plan = onlyInstances(
      await opts.targets.resolve({ application: request.application, envPattern: request.envPattern }),
      request.instanceIds,
    );
  } catch (err) {
    if (signal.aborted) return interrupted();
    const failed = withErrorId('could not list the targets', err);
    log.error('could not list the targets', { errorId: failed.errorId, error: failed.detail });
    return finish({ error: failed.text, errorDetails: [{ errorId: failed.errorId, detail: failed.detail }] });
  }
  if (signal.aborted) return interrupted();
  if (plan.environments.length === 0)
    return finish({ noMatch: { otherEnvironments: plan.otherEnvironments } });

  planned = plan.environments.map((e) => ({ name: e.name, targets: [...e.reachable, ...e.unreachable] }));
  const reachable = plan.environments.flatMap((e) => e.reachable);
  log.info('targets resolved', {
    environments: plan.environments.map((e) => e.name),
    reachable: reachable.length,
    unreachable: plan.environments.reduce((n, e) => n + e.unreachable.length, 0),
    plan: plan.environments.map((e) => ({
      name: e.name,
      reachable: e.reachable.length,
      unreachable: e.unreachable.length,
    })),
  });
  for (const e of plan.environments)
    for (const u of e.unreachable) {
      const outcome: InstanceOutcome = { ...u, kind: 'unreachable' };
      outcomes.set(u.instanceId, outcome);
      log.info('instance finished', { ...outcome });
    }
  await safely(log, 'started', () =>
    reporter.started({
      request,
      environments: plan.environments.map((e) => ({
        name: e.name,
        reachable: e.reachable.length,
        unreachable: e.unreachable.length,
      })),
    }),
  );

  let error: string | undefined;
  let stopped: MonitoringStoppedError | undefined;
  /** The public reason (with its error id) and the details of what stopped the run, if anything did. */
  let failure: (ErrorDetail & { text: string }) | undefined;
  if (reachable.length > 0) {
    const progress = () => safelySync(log, () => reporter.progress(snapshot()));
    try {
      await opts.executor.execute(
        {
          runId: request.runId,
          action: request.action,
          targets: reachable,
          drainTimeoutSeconds: request.drainTimeoutSeconds,
          executionTimeoutSeconds: request.executionTimeoutSeconds,
          deadline: deadlineFor(startedAt, request.executionTimeoutSeconds, opts.deadlineMarginSeconds),
          ...(plan.sent ? { sent: plan.sent } : {}),
        },
        {
          dispatched: (handle, instanceIds) => {
            commandIds.push(handle);
            for (const id of instanceIds) handleOf.set(id, handle);
            log.info('command sent', { commandId: handle, instances: instanceIds.length });
          },
          running: (instanceId) => {
            running.add(instanceId);
            progress();
          },
          finished: (outcome) => {
            if (outcomes.has(outcome.instanceId)) return;
            outcomes.set(outcome.instanceId, outcome);
            log.info('instance finished', { ...outcome });
            progress();
          },
          cycle: progress,
        },
        signal,
      );
    } catch (err) {
      // Stopped following is not "the run failed": the commands may still drain the instances.
      if (err instanceof MonitoringStoppedError) {
        stopped = err;
        failure = withErrorId(err.publicReason, err.message);
      } else {
        failure = withErrorId('the SSM commands could not be sent or followed', err);
        error = failure.text;
      }
      log.error(stopped ? 'stopped following the commands' : 'executor failed', {
        errorId: failure.errorId,
        error: failure.detail,
        ...(stopped ? { commandIds: stopped.handles } : {}),
      });
    }
  }
  if (signal.aborted) return interrupted();

  for (const t of reachable) {
    if (outcomes.has(t.instanceId)) continue;
    const commandId = handleOf.get(t.instanceId);
    outcomes.set(
      t.instanceId,
      unfinishedOutcome(t, {
        ...(stopped && failure ? { stoppedFollowing: failure.text } : {}),
        ...(error ? { error } : {}),
        ...(commandId ? { commandId } : {}),
      }),
    );
  }
  const errorDetails = failure ? [{ errorId: failure.errorId, detail: failure.detail }] : [];
  if (stopped && failure)
    return finish({
      monitoringStopped: { reason: failure.text, commandIds: [...stopped.handles] },
      errorDetails,
    });
  return finish(error ? { error, errorDetails } : {});
}

function countByKind(outcomes: readonly InstanceOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

/** Reporters promise not to throw; this keeps a broken one from failing the drain anyway. */
async function safely(log: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.error(`reporter ${what} failed`, { error: describeError(err) });
  }
}

function safelySync(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error('reporter progress failed', { error: describeError(err) });
  }
}
