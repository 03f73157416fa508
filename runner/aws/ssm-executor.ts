import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type Command,
  type CommandInvocation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import { SIDEKIQCTL_STEP_NAME } from '../../ssm/documents';
import { isRetryableAwsError, mayHaveTakenEffect } from './errors';
import { systemClock, type Clock } from '../drain/clock';
import {
  MonitoringStoppedError,
  type ExecutionListener,
  type ExecutionRequest,
  type InstanceExecutor,
} from '../drain/executor';
import { describeError, silentLogger, type Logger } from '../log';
import { isTerminalStatus, outcomeOf, parseScriptReport, type FinishedRun } from '../drain/outcome';
import { type Target } from '../drain/targets';
import { pollDelayMs } from './poll-interval';
import { HEALTHY, judgeRound, MAX_CONSECUTIVE_FAILED_ROUNDS, type RoundVerdict } from './polling-health';
import type { Action } from '../../ssm/actions';

/**
 * InstanceExecutor over SSM Run Command.
 * - SendCommand in batches of at most 50 instance ids (SSM's limit), MaxConcurrency and MaxErrors
 *   at 100% so one failing instance never stops the others.
 * - One paginated ListCommandInvocations (Details on, 50 per page) per command per round: at most
 *   ceil(N/50) calls a round, never one per instance.
 * - The script's JSON line comes from the plugin output in that listing; GetCommandInvocation
 *   (with the step's plugin name) only when that output is truncated or missing.
 * - Throttling, a 5xx or a network error left over after the SDK's retries skips the round and
 *   slows the next ones (polling-health.ts); only a non-retryable error or many failed rounds in a
 *   row stop the following, with a MonitoringStoppedError naming the commands that may still run.
 * - SendCommand is never re-sent after a failure that may have created the command (see
 *   aws-clients.ts). After such a failure the batch's command is looked up with ListCommands, by
 *   the Comment that names the run and the batch, and followed if SSM did create it.
 */

/** SSM's limit on InstanceIds in one SendCommand. */
export const SSM_MAX_INSTANCES_PER_COMMAND = 50;
/** ListCommandInvocations' page size ceiling. */
const LIST_PAGE_SIZE = 50;
/** The runShellScript plugin's output puts stderr after this line. */
const STDERR_MARKER = '----------ERROR-------';
/** SSM cuts a plugin's Output in a ListCommandInvocations listing at this many characters. */
export const PLUGIN_OUTPUT_LIMIT = 2_500;

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

export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 600;
/** ListCommands can lag behind SendCommand for a moment: look now, then twice more. */
export const DEFAULT_LOOKUP_DELAYS_MS: readonly number[] = [0, 2_000, 5_000];
/** InvokedAfter is compared with SSM's clock: start the look-up window this much before the send. */
const LOOKUP_CLOCK_SKEW_MS = 15 * 60_000;
/** A look-up reads at most this many pages of ListCommands (50 commands each). */
const LOOKUP_MAX_PAGES = 20;

/**
 * Pure: the SendCommand Comment (SSM allows 100 characters). It names the run and the batch, so a
 * command whose SendCommand answer was lost can be found again with ListCommands. At most
 * "snowwhite status run " (21) + a 64-character run id + " batch 999/999" (14) = 99.
 */
export function commandComment(action: Action, runId: string, batch: number, batches: number): string {
  return `snowwhite ${action} run ${runId} batch ${batch + 1}/${batches}`.slice(0, 100);
}

/** Pure: the command a look-up found for a batch, if any (the oldest when, against all odds, several). */
export function findBatchCommand(
  commands: readonly Command[],
  want: { comment: string; documentName: string; instanceIds: readonly string[] },
): { found?: Command; others: Command[] } {
  const ids = [...want.instanceIds].sort().join(',');
  const matches = commands
    .filter(
      (c) =>
        c.CommandId &&
        c.Comment === want.comment &&
        c.DocumentName === want.documentName &&
        [...(c.InstanceIds ?? [])].sort().join(',') === ids,
    )
    .sort((a, b) => (a.RequestedDateTime?.getTime() ?? 0) - (b.RequestedDateTime?.getTime() ?? 0));
  const [found, ...others] = matches;
  return found ? { found, others } : { others };
}

interface TrackedCommand {
  commandId: string;
  pending: Map<string, Target>;
  running: Set<string>;
}

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
    const commands = await this.dispatch(request, listener, signal, limit);

    let health = HEALTHY;
    let active = commands.filter((c) => c.pending.size > 0);
    while (active.length > 0 && !signal.aborted) {
      const now = this.clock.now();
      if (now >= request.deadline) break;
      const delay = (this.opts.pollDelay ?? pollDelayMs)(now - started, health.slowdownStreak);
      await this.clock.sleep(Math.min(delay, request.deadline - now), signal);
      if (signal.aborted) break;

      const errors: unknown[] = [];
      await Promise.all(
        active.map((cmd) =>
          limit(async () => {
            try {
              await this.poll(cmd, listener, signal);
            } catch (err) {
              if (!signal.aborted) errors.push(err);
            }
          }),
        ),
      );
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
    const why =
      verdict.why === 'not_retryable'
        ? `SSM refused to report on the commands: ${describeError(verdict.cause)}`
        : `SSM polling failed ${verdict.failedRounds} rounds in a row (last: ${describeError(verdict.cause)})`;
    const handles = active.map((c) => c.commandId);
    this.log.error('stopped following the SSM commands; they may still be running', {
      reason: why,
      commandIds: handles,
    });
    return new MonitoringStoppedError(why, handles);
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

    const documentName = this.opts.documentName(request.action);
    const commands: TrackedCommand[] = [];
    const failures: Array<{ batch: Target[]; err: unknown; reason: string; uncertain: boolean }> = [];
    const follow = (commandId: string, batch: Target[]) => {
      commands.push({ commandId, pending: new Map(batch.map((t) => [t.instanceId, t])), running: new Set() });
      listener.dispatched(
        commandId,
        batch.map((t) => t.instanceId),
      );
    };
    await Promise.all(
      batches.map((batch, index) =>
        limit(async () => {
          // Once interrupted, start nothing new; what already runs keeps running.
          if (signal.aborted) return;
          const comment = commandComment(request.action, request.runId, index, batches.length);
          const instanceIds = batch.map((t) => t.instanceId);
          const sentAt = this.clock.now();
          try {
            // No abortSignal here: an aborted SendCommand may still have started, and we must know its id.
            const res = await this.sendClient.send(
              new SendCommandCommand({
                DocumentName: documentName,
                InstanceIds: instanceIds,
                Parameters: {
                  drainTimeout: [String(request.drainTimeoutSeconds)],
                  executionTimeout: [String(request.executionTimeoutSeconds)],
                },
                TimeoutSeconds: this.deliveryTimeoutSeconds,
                MaxConcurrency: '100%',
                MaxErrors: '100%',
                Comment: comment,
              }),
            );
            const commandId = res.Command?.CommandId;
            if (!commandId) throw new Error('SendCommand returned no command id');
            follow(commandId, batch);
          } catch (err) {
            this.log.error('SendCommand failed', { error: describeError(err), instances: batch.length });
            if (!mayHaveTakenEffect(err)) {
              failures.push({
                batch,
                err,
                reason: `SendCommand failed: ${describeError(err)}`,
                uncertain: false,
              });
              return;
            }
            // The answer was lost, not necessarily the command: find out before calling the batch failed.
            const lookup = await this.lookUpLostCommand(
              { comment, documentName, instanceIds, sentAt },
              signal,
            );
            if (lookup.commandId) {
              this.log.warn('SendCommand failed but SSM created the command; following it', {
                commandId: lookup.commandId,
                error: describeError(err),
              });
              follow(lookup.commandId, batch);
            } else
              failures.push({
                batch,
                err,
                reason: lookup.checked
                  ? `SendCommand failed: ${describeError(err)}; no command was found for these instances afterwards, so the script did not start`
                  : `SendCommand failed: ${describeError(err)}; the command may have been created anyway and could not be looked up (${lookup.error}): check Systems Manager → Run Command for "${comment}"`,
                uncertain: !lookup.checked,
              });
          }
        }),
      ),
    );
    // Nothing started at all: that is the run's error (AccessDenied, InvalidDocument…), not N instance failures.
    if (commands.length === 0 && failures.length > 0 && failures.every((f) => !f.uncertain))
      throw failures[0]!.err;
    for (const { batch, reason, uncertain } of failures)
      for (const t of batch) listener.finished({ ...t, kind: uncertain ? 'unknown' : 'failed', reason });
    return commands;
  }

  /**
   * Looks for the command of a batch whose SendCommand failed in a way that may have created it
   * (ListCommands: same document, invoked since the send, same Comment and instances). A few
   * tries, because the listing can lag behind the creation.
   */
  private async lookUpLostCommand(
    want: { comment: string; documentName: string; instanceIds: readonly string[]; sentAt: number },
    signal: AbortSignal,
  ): Promise<{ commandId?: string; checked: boolean; error?: string }> {
    const delays = this.opts.lookupDelaysMs ?? DEFAULT_LOOKUP_DELAYS_MS;
    let checked = false;
    let error: string | undefined;
    for (const [i, delay] of delays.entries()) {
      // Interrupted: no more waiting (a look already under way still counts for the report).
      if (i > 0 && signal.aborted) break;
      if (delay > 0) await this.clock.sleep(delay, signal);
      try {
        const commands = await this.listCommandsSince(want.documentName, want.sentAt - LOOKUP_CLOCK_SKEW_MS);
        checked = true;
        const { found, others } = findBatchCommand(commands, want);
        if (others.length)
          this.log.error('several SSM commands match one batch; following the oldest', {
            commandIds: [found, ...others].map((c) => c?.CommandId),
          });
        if (found?.CommandId) return { commandId: found.CommandId, checked };
      } catch (err) {
        error = describeError(err);
        this.log.warn('ListCommands failed while looking for a lost command', { error });
      }
    }
    return { checked, ...(error && !checked ? { error } : {}) };
  }

  private async listCommandsSince(documentName: string, after: number): Promise<Command[]> {
    const commands: Command[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await this.ssm.send(
        new ListCommandsCommand({
          Filters: [
            { key: 'InvokedAfter', value: new Date(after).toISOString() },
            { key: 'DocumentName', value: documentName },
          ],
          MaxResults: 50,
          NextToken,
        }),
      );
      commands.push(...(page.Commands ?? []));
      NextToken = page.NextToken;
      pages += 1;
    } while (NextToken && pages < LOOKUP_MAX_PAGES);
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

    // The listing's output is capped (PLUGIN_OUTPUT_LIMIT); the full stdout is one call away.
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
      // Throttled, 5xx, network: keep the instance pending and try again next round (the round
      // counts as failed, see polling-health.ts). Anything else: go without the JSON.
      if (isRetryableAwsError(err) || signal.aborted) throw err;
      this.log.warn('GetCommandInvocation failed; classifying without the script report', {
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

/**
 * Pure: runShellScript's combined Output for a script's stdout and stderr, as SSM builds it —
 * stdout, then stderr after the marker line, cut at PLUGIN_OUTPUT_LIMIT characters.
 */
export function joinPluginOutput(stdout: string, stderr: string): string {
  return `${stdout}${stderr ? `\n${STDERR_MARKER}\n${stderr}` : ''}`.slice(0, PLUGIN_OUTPUT_LIMIT);
}
