import { ListCommandsCommand, SendCommandCommand, type Command, type SSMClient } from '@aws-sdk/client-ssm';
import type pLimit from 'p-limit';
import type { Clock } from '../../drain/clock';
import type { ExecutionListener, ExecutionRequest } from '../../drain/executor';
import type { Target } from '../../drain/targets';
import { describeError, type Logger } from '../../log';
import { withErrorId } from '../../error-id';
import type { Action } from '../../../ssm/actions';
import { mayHaveTakenEffect } from '../errors';

/** SSM's limit on InstanceIds in one SendCommand. */
export const SSM_MAX_INSTANCES_PER_COMMAND = 50;
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
  return `${commentPrefixFor(action, runId)}${batch + 1}/${batches}`.slice(0, 100);
}

/** Pure: how every Comment of a run's commands starts (the runner checks what it follows by it). */
export const commentPrefixFor = (action: Action, runId: string): string =>
  `snowwhite ${action} run ${runId} batch `;

/**
 * Pure: the targets in SendCommand batches of at most `size`, one environment per batch (so each
 * command id stands for one environment), in the order given. The same targets always give the
 * same batches, so a retried send finds each batch's command by its Comment.
 */
export function batchesOf(targets: readonly Target[], size: number): Target[][] {
  const batches: Target[][] = [];
  let current: Target[] = [];
  for (const t of targets) {
    if (current.length >= size || (current.length > 0 && current[0]!.environment !== t.environment)) {
      batches.push(current);
      current = [];
    }
    current.push(t);
  }
  if (current.length) batches.push(current);
  return batches;
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

/** A command SSM accepted, and the instances of its batch that have not finished yet. */
export interface TrackedCommand {
  commandId: string;
  pending: Map<string, Target>;
  running: Set<string>;
}

export interface DispatchContext {
  /** Polling client: ListCommands for the look-up of a lost command. */
  ssm: SSMClient;
  /** SendCommand's client, which retries only failures that certainly did not create the command. */
  sendClient: SSMClient;
  clock: Clock;
  log: Logger;
  limit: pLimit.Limit;
  documentName: string;
  batchSize: number;
  deliveryTimeoutSeconds: number;
  lookupDelaysMs: readonly number[];
  /**
   * An earlier attempt at this very run may have sent some batches (a retried delivery whose first
   * attempt died mid-send): look each batch's command up by its Comment first, send only if absent.
   */
  lookUpFirst?: boolean;
}

/**
 * SendCommand in batches of at most `batchSize` instance ids, MaxConcurrency and MaxErrors at 100%
 * so one failing instance never stops the others. SendCommand is never re-sent after a failure that
 * may have created the command (see runner/aws/clients.ts): the batch's command is looked up by its
 * Comment instead, and followed if SSM did create it. Batches that did not start are reported finished
 * ('failed', or 'unknown' when nobody could tell); if none started at all, the first error is thrown.
 */
export async function dispatch(
  request: ExecutionRequest,
  listener: ExecutionListener,
  signal: AbortSignal,
  ctx: DispatchContext,
): Promise<TrackedCommand[]> {
  const batches = batchesOf(request.targets, ctx.batchSize);

  const { documentName } = ctx;
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
      ctx.limit(async () => {
        // Once interrupted, start nothing new; what already runs keeps running.
        if (signal.aborted) return;
        const comment = commandComment(request.action, request.runId, index, batches.length);
        const instanceIds = batch.map((t) => t.instanceId);
        const sentAt = ctx.clock.now();
        if (ctx.lookUpFirst) {
          const earlier = await lookUpLostCommand({ comment, documentName, instanceIds, sentAt }, signal, {
            ...ctx,
            lookupDelaysMs: [0],
          });
          if (earlier.commandId) {
            ctx.log.warn('an earlier attempt already sent this batch; following its command', {
              commandId: earlier.commandId,
            });
            return follow(earlier.commandId, batch);
          }
          if (!earlier.checked) {
            failures.push({
              batch,
              err: new Error(earlier.error ?? 'ListCommands failed'),
              reason: `could not check whether an earlier attempt sent "${comment}" (${earlier.error ?? 'ListCommands failed'}); nothing was sent, to avoid sending twice`,
              uncertain: true,
            });
            return;
          }
        }
        try {
          // No abortSignal here: an aborted SendCommand may still have started, and we must know its id.
          const res = await ctx.sendClient.send(
            new SendCommandCommand({
              DocumentName: documentName,
              InstanceIds: instanceIds,
              Parameters: {
                drainTimeout: [String(request.drainTimeoutSeconds)],
                executionTimeout: [String(request.executionTimeoutSeconds)],
              },
              TimeoutSeconds: ctx.deliveryTimeoutSeconds,
              MaxConcurrency: '100%',
              MaxErrors: '100%',
              Comment: comment,
            }),
          );
          const commandId = res.Command?.CommandId;
          if (!commandId) throw new Error('SendCommand returned no command id');
          follow(commandId, batch);
        } catch (err) {
          // The AWS error names accounts and roles: instance reasons are public, so they carry its id.
          const failed = withErrorId('SendCommand failed', err);
          ctx.log.error('SendCommand failed', {
            errorId: failed.errorId,
            error: failed.detail,
            instances: batch.length,
          });
          if (!mayHaveTakenEffect(err)) {
            failures.push({ batch, err, reason: failed.text, uncertain: false });
            return;
          }
          // The answer was lost, not necessarily the command: find out before calling the batch failed.
          const lookup = await lookUpLostCommand({ comment, documentName, instanceIds, sentAt }, signal, ctx);
          if (lookup.commandId) {
            ctx.log.warn('SendCommand failed but SSM created the command; following it', {
              commandId: lookup.commandId,
              error: describeError(err),
            });
            follow(lookup.commandId, batch);
          } else
            failures.push({
              batch,
              err,
              reason: lookup.checked
                ? `${failed.text}; no command was found for these instances afterwards, so the script did not start`
                : `${failed.text}; the command may have been created anyway and could not be looked up: check Systems Manager → Run Command for "${comment}"`,
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
async function lookUpLostCommand(
  want: { comment: string; documentName: string; instanceIds: readonly string[]; sentAt: number },
  signal: AbortSignal,
  ctx: DispatchContext,
): Promise<{ commandId?: string; checked: boolean; error?: string }> {
  let checked = false;
  let error: string | undefined;
  for (const [i, delay] of ctx.lookupDelaysMs.entries()) {
    // Interrupted: no more waiting (a look already under way still counts for the report).
    if (i > 0 && signal.aborted) break;
    if (delay > 0) await ctx.clock.sleep(delay, signal);
    try {
      const commands = await listCommandsSince(
        ctx.ssm,
        want.documentName,
        want.sentAt - LOOKUP_CLOCK_SKEW_MS,
      );
      checked = true;
      const { found, others } = findBatchCommand(commands, want);
      if (others.length)
        ctx.log.error('several SSM commands match one batch; following the oldest', {
          commandIds: [found, ...others].map((c) => c?.CommandId),
        });
      if (found?.CommandId) return { commandId: found.CommandId, checked };
    } catch (err) {
      error = describeError(err);
      ctx.log.warn('ListCommands failed while looking for a lost command', { error });
    }
  }
  return { checked, ...(error && !checked ? { error } : {}) };
}

async function listCommandsSince(ssm: SSMClient, documentName: string, after: number): Promise<Command[]> {
  const commands: Command[] = [];
  let NextToken: string | undefined;
  let pages = 0;
  do {
    const page = await ssm.send(
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
