import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import { SIDEKIQCTL_STEP_NAME } from '../ssm/documents';
import { isThrottlingError } from './aws-errors';
import { systemClock, type Clock } from './clock';
import type { ExecutionListener, ExecutionRequest, InstanceExecutor } from './executor';
import { describeError, silentLogger, type Logger } from './log';
import { isTerminalStatus, outcomeOf, parseScriptReport, type FinishedRun, type Target } from './outcome';
import { pollDelayMs } from './poll-interval';
import type { Action } from './request';

/**
 * InstanceExecutor over SSM Run Command.
 * - SendCommand in batches of at most 50 instance ids (SSM's limit), MaxConcurrency and MaxErrors
 *   at 100% so one failing instance never stops the others.
 * - One paginated ListCommandInvocations (Details on, 50 per page) per command per round: at most
 *   ceil(N/50) calls a round, never one per instance.
 * - The script's JSON line comes from the plugin output in that listing; GetCommandInvocation
 *   (with the step's plugin name) only when that output is truncated or missing.
 * - Throttling left over after the SDK's adaptive retries skips the round and slows the next ones.
 */

/** SSM's limit on InstanceIds in one SendCommand. */
export const SSM_MAX_INSTANCES_PER_COMMAND = 50;
/** ListCommandInvocations' page size ceiling. */
const LIST_PAGE_SIZE = 50;
/** The runShellScript plugin's output puts stderr after this line. */
const STDERR_MARKER = '----------ERROR-------';

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
}

export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 600;

interface TrackedCommand {
  commandId: string;
  pending: Map<string, Target>;
  running: Set<string>;
}

export class SsmExecutor implements InstanceExecutor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly batchSize: number;
  readonly deliveryTimeoutSeconds: number;

  constructor(
    private readonly ssm: SSMClient,
    private readonly opts: SsmExecutorOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.batchSize = Math.min(SSM_MAX_INSTANCES_PER_COMMAND, Math.max(1, opts.batchSize ?? 50));
    this.deliveryTimeoutSeconds = opts.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS;
  }

  async execute(request: ExecutionRequest, listener: ExecutionListener, signal: AbortSignal): Promise<void> {
    const limit = pLimit(this.opts.concurrency ?? 8);
    const started = this.clock.now();
    const commands = await this.dispatch(request, listener, signal, limit);

    let throttledStreak = 0;
    let active = commands.filter((c) => c.pending.size > 0);
    while (active.length > 0 && !signal.aborted) {
      const now = this.clock.now();
      if (now >= request.deadline) break;
      const delay = (this.opts.pollDelay ?? pollDelayMs)(now - started, throttledStreak);
      await this.clock.sleep(Math.min(delay, request.deadline - now), signal);
      if (signal.aborted) break;

      let throttled = false;
      await Promise.all(
        active.map((cmd) =>
          limit(async () => {
            try {
              await this.poll(cmd, listener, signal);
            } catch (err) {
              if (signal.aborted) return;
              if (!isThrottlingError(err)) throw err;
              throttled = true;
            }
          }),
        ),
      );
      if (throttled) this.log('warn', 'SSM throttled a polling round after retries; slowing down');
      throttledStreak = throttled ? throttledStreak + 1 : 0;
      listener.cycle?.();
      active = active.filter((c) => c.pending.size > 0);
    }
  }

  private async dispatch(
    request: ExecutionRequest,
    listener: ExecutionListener,
    signal: AbortSignal,
    limit: pLimit.Limit,
  ): Promise<TrackedCommand[]> {
    const batches: Target[][] = [];
    for (let i = 0; i < request.targets.length; i += this.batchSize)
      batches.push(request.targets.slice(i, i + this.batchSize));

    const commands: TrackedCommand[] = [];
    const failures: Array<{ batch: Target[]; err: unknown }> = [];
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          // Once interrupted, start nothing new; what already runs keeps running.
          if (signal.aborted) return;
          try {
            // No abortSignal here: an aborted SendCommand may still have started, and we must know its id.
            const res = await this.ssm.send(
              new SendCommandCommand({
                DocumentName: this.opts.documentName(request.action),
                InstanceIds: batch.map((t) => t.instanceId),
                Parameters: {
                  drainTimeout: [String(request.drainTimeoutSeconds)],
                  executionTimeout: [String(request.executionTimeoutSeconds)],
                },
                TimeoutSeconds: this.deliveryTimeoutSeconds,
                MaxConcurrency: '100%',
                MaxErrors: '100%',
                Comment: `snowwhite ${request.action} run ${request.runId}`.slice(0, 100),
              }),
            );
            const commandId = res.Command?.CommandId;
            if (!commandId) throw new Error('SendCommand returned no command id');
            commands.push({
              commandId,
              pending: new Map(batch.map((t) => [t.instanceId, t])),
              running: new Set(),
            });
            listener.dispatched(
              commandId,
              batch.map((t) => t.instanceId),
            );
          } catch (err) {
            this.log('error', 'SendCommand failed', { error: describeError(err), instances: batch.length });
            failures.push({ batch, err });
          }
        }),
      ),
    );
    // Nothing started at all: that is the run's error (AccessDenied, InvalidDocument…), not N instance failures.
    if (commands.length === 0 && failures.length > 0) throw failures[0]!.err;
    for (const { batch, err } of failures)
      for (const t of batch)
        listener.finished({ ...t, kind: 'failed', reason: `SendCommand failed: ${describeError(err)}` });
    return commands;
  }

  private async poll(cmd: TrackedCommand, listener: ExecutionListener, signal: AbortSignal): Promise<void> {
    const done: Array<{ target: Target; inv: CommandInvocation }> = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ssm.send(
        new ListCommandInvocationsCommand({
          CommandId: cmd.commandId,
          Details: true,
          MaxResults: LIST_PAGE_SIZE,
          NextToken,
        }),
        { abortSignal: signal },
      );
      for (const inv of page.CommandInvocations ?? []) {
        const target = inv.InstanceId ? cmd.pending.get(inv.InstanceId) : undefined;
        if (!target) continue;
        if (isTerminalStatus(inv.Status, inv.StatusDetails)) done.push({ target, inv });
        else if (inv.Status === 'InProgress' && !cmd.running.has(target.instanceId)) {
          cmd.running.add(target.instanceId);
          listener.running(target.instanceId);
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);

    for (const { target, inv } of done) {
      const run = await this.finishedRun(cmd.commandId, inv, signal);
      cmd.pending.delete(target.instanceId);
      listener.finished(outcomeOf(target, run));
    }
  }

  private async finishedRun(
    commandId: string,
    inv: CommandInvocation,
    signal: AbortSignal,
  ): Promise<FinishedRun> {
    const plugin =
      inv.CommandPlugins?.find((p) => p.Name === SIDEKIQCTL_STEP_NAME) ?? inv.CommandPlugins?.[0];
    const [stdout, stderr] = splitPluginOutput(plugin?.Output);
    const run: FinishedRun = {
      status: inv.Status ?? 'Failed',
      ...(inv.StatusDetails ? { statusDetails: inv.StatusDetails } : {}),
      ...(plugin?.ResponseCode !== undefined ? { exitCode: plugin.ResponseCode } : {}),
      stdout,
      stderr,
    };
    const scriptRan = plugin?.ResponseCode !== undefined && plugin.ResponseCode >= 0;
    if (!scriptRan || parseScriptReport(stdout)) return run;

    // The listing's output is capped at 2,500 characters; the full stdout is one call away.
    try {
      const full = await this.ssm.send(
        new GetCommandInvocationCommand({
          CommandId: commandId,
          InstanceId: inv.InstanceId,
          PluginName: plugin?.Name ?? SIDEKIQCTL_STEP_NAME,
        }),
        { abortSignal: signal },
      );
      return {
        ...run,
        ...(full.ResponseCode !== undefined ? { exitCode: full.ResponseCode } : {}),
        stdout: full.StandardOutputContent ?? stdout,
        stderr: full.StandardErrorContent ?? stderr,
      };
    } catch (err) {
      // Throttled: keep the instance pending and try again next round. Anything else: go without the JSON.
      if (isThrottlingError(err) || signal.aborted) throw err;
      this.log('warn', 'GetCommandInvocation failed; classifying without the script report', {
        commandId,
        instanceId: inv.InstanceId,
        error: describeError(err),
      });
      return run;
    }
  }
}

/** Pure: runShellScript's combined Output → [stdout, stderr]. */
export function splitPluginOutput(output: string | undefined): [string, string] {
  if (!output) return ['', ''];
  const at = output.indexOf(STDERR_MARKER);
  if (at < 0) return [output, ''];
  return [output.slice(0, at), output.slice(at + STDERR_MARKER.length)];
}
