import { CancelCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import { systemClock, type Clock } from '../../drain/clock';
import {
  MonitoringStoppedError,
  type ExecutionListener,
  type ExecutionRequest,
  type InstanceExecutor,
} from '../../drain/executor';
import { describeError, silentLogger, type Logger } from '../../log';
import type { Target } from '../../drain/targets';
import type { Action } from '../../../ssm/actions';
import {
  DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  DEFAULT_LOOKUP_DELAYS_MS,
  dispatch,
  SSM_MAX_INSTANCES_PER_COMMAND,
  type TrackedCommand,
} from './dispatch';
import { pollDelayMs } from './poll-interval';
import { pollRound } from './polling';
import { HEALTHY, judgeRound, MAX_CONSECUTIVE_FAILED_ROUNDS, type RoundVerdict } from './polling-health';

/** The commands someone else sent (the bot), tracked like dispatched ones; their targets only. */
function follow(request: ExecutionRequest, listener: ExecutionListener): TrackedCommand[] {
  const byId = new Map(request.targets.map((t) => [t.instanceId, t]));
  return (request.sent ?? []).map(({ handle, instanceIds }) => {
    const pending = new Map<string, Target>();
    for (const id of instanceIds) {
      const target = byId.get(id);
      if (target) pending.set(id, target);
    }
    listener.dispatched(handle, [...pending.keys()]);
    return { commandId: handle, pending, running: new Set<string>() };
  });
}

export interface SsmExecutorOptions {
  documentName(action: Action): string;
  clock?: Clock;
  log?: Logger;
  /** Instances per SendCommand (≤ 50). */
  batchSize?: number;
  /** SendCommand TimeoutSeconds: how long SSM tries to deliver before giving up on an instance. */
  deliveryTimeoutSeconds?: number;
  /** Parallel SSM calls within a round (the SDK's adaptive limiter paces them further). */
  concurrency?: number;
  pollDelay?: (elapsedMs: number, throttledStreak: number) => number;
  /**
   * The client SendCommand goes through (createAwsClients' `ssmSendCommand`, which retries only
   * failures that certainly did not create the command); defaults to the polling client.
   */
  sendCommandClient?: SSMClient;
  /** Waits before each ListCommands look-up for a command whose SendCommand answer was lost. */
  lookupDelaysMs?: readonly number[];
  /** Failed polling rounds in a row before the executor stops following (polling-health.ts). */
  maxFailedRounds?: number;
}

/**
 * InstanceExecutor over SSM Run Command: dispatch the batches (dispatch.ts), then poll rounds
 * (polling.ts) until every instance has finished, the deadline passes or the run is interrupted.
 * A round that failed after the SDK's retries is skipped and slows the next ones; only a
 * non-retryable error or many failed rounds in a row stop the following, with a
 * MonitoringStoppedError naming the commands that may still run (polling-health.ts).
 */
export class SsmExecutor implements InstanceExecutor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly sendClient: SSMClient;
  readonly deliveryTimeoutSeconds: number;

  constructor(
    private readonly ssm: SSMClient,
    private readonly opts: SsmExecutorOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.batchSize = Math.min(SSM_MAX_INSTANCES_PER_COMMAND, Math.max(1, opts.batchSize ?? 50));
    this.deliveryTimeoutSeconds = opts.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS;
    this.sendClient = opts.sendCommandClient ?? ssm;
  }

  /** Cancelled run: SSM stops each command's script where it has not finished (one call per command). */
  async cancel(handles: readonly string[], signal: AbortSignal): Promise<string[]> {
    const results = await Promise.allSettled(
      handles.map((CommandId) =>
        this.ssm.send(new CancelCommandCommand({ CommandId }), { abortSignal: signal }),
      ),
    );
    return handles.filter((_, i) => results[i]!.status === 'fulfilled');
  }

  async execute(request: ExecutionRequest, listener: ExecutionListener, signal: AbortSignal): Promise<void> {
    const limit = pLimit(this.opts.concurrency ?? 8);
    const started = this.clock.now();
    const commands = request.sent
      ? follow(request, listener)
      : await dispatch(request, listener, signal, {
          ssm: this.ssm,
          sendClient: this.sendClient,
          clock: this.clock,
          log: this.log,
          limit,
          documentName: this.opts.documentName(request.action),
          batchSize: this.batchSize,
          deliveryTimeoutSeconds: this.deliveryTimeoutSeconds,
          lookupDelaysMs: this.opts.lookupDelaysMs ?? DEFAULT_LOOKUP_DELAYS_MS,
        });

    let health = HEALTHY;
    let active = commands.filter((c) => c.pending.size > 0);
    while (active.length > 0 && !signal.aborted) {
      const now = this.clock.now();
      if (now >= request.deadline) break;
      const delay = (this.opts.pollDelay ?? pollDelayMs)(now - started, health.slowdownStreak);
      await this.clock.sleep(Math.min(delay, request.deadline - now), signal);
      if (signal.aborted) break;

      const errors = await pollRound(active, listener, signal, { ssm: this.ssm, log: this.log, limit });
      if (signal.aborted) break;
      const verdict = judgeRound(health, errors, this.opts.maxFailedRounds ?? MAX_CONSECUTIVE_FAILED_ROUNDS);
      active = active.filter((c) => c.pending.size > 0);
      if (verdict.stop) throw this.stoppedFollowing(verdict, active);
      if (errors.length > 0)
        this.log.warn('SSM polling round failed after retries; skipping it and slowing down', {
          errors: [...new Set(errors.map(describeError))].slice(0, 3),
          failedRoundsInARow: verdict.health.failedRounds,
        });
      health = verdict.health;
      listener.cycle?.();
    }
  }

  private stoppedFollowing(
    verdict: Extract<RoundVerdict, { stop: true }>,
    active: readonly TrackedCommand[],
  ): MonitoringStoppedError {
    const publicReason =
      verdict.why === 'not_retryable'
        ? 'SSM refused to report on the commands'
        : `SSM polling failed ${verdict.failedRounds} rounds in a row`;
    const why =
      verdict.why === 'not_retryable'
        ? `${publicReason}: ${describeError(verdict.cause)}`
        : `${publicReason} (last: ${describeError(verdict.cause)})`;
    const handles = active.map((c) => c.commandId);
    this.log.error('stopped following the SSM commands; they may still be running', {
      reason: why,
      commandIds: handles,
    });
    return new MonitoringStoppedError(why, handles, publicReason);
  }
}
