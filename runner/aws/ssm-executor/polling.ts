import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  type CommandInvocation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type pLimit from 'p-limit';
import { SIDEKIQCTL_STEP_NAME } from '../../../ssm/documents';
import type { ExecutionListener } from '../../drain/executor';
import { describeError, type Logger } from '../../log';
import { isTerminalStatus, outcomeOf, parseScriptReport, type FinishedRun } from '../../drain/outcome';
import type { Target } from '../../drain/targets';
import { isRetryableAwsError } from '../errors';
import type { TrackedCommand } from './dispatch';
import { listedRun, stepPlugin } from './plugin-output';

/** ListCommandInvocations' page size ceiling. */
const LIST_PAGE_SIZE = 50;

export interface PollingContext {
  ssm: SSMClient;
  log: Logger;
  /** Parallel SSM calls within the round. */
  limit: pLimit.Limit;
}

/**
 * One polling round: one paginated ListCommandInvocations (Details on) per active command, so at
 * most ceil(N/50) calls a round, never one per instance. Returns what the calls threw, for
 * judgeRound (polling-health.ts) to weigh; an aborted round's errors are dropped.
 */
export async function pollRound(
  active: readonly TrackedCommand[],
  listener: ExecutionListener,
  signal: AbortSignal,
  ctx: PollingContext,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  await Promise.all(
    active.map((cmd) =>
      ctx.limit(async () => {
        try {
          await pollCommand(cmd, listener, signal, ctx);
        } catch (err) {
          if (!signal.aborted) errors.push(err);
        }
      }),
    ),
  );
  return errors;
}

async function pollCommand(
  cmd: TrackedCommand,
  listener: ExecutionListener,
  signal: AbortSignal,
  ctx: PollingContext,
): Promise<void> {
  const done: Array<{ target: Target; inv: CommandInvocation }> = [];
  let NextToken: string | undefined;
  do {
    const page = await ctx.ssm.send(
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
    const run = await finishedRun(cmd.commandId, inv, signal, ctx);
    cmd.pending.delete(target.instanceId);
    listener.finished(outcomeOf(target, run));
  }
}

/**
 * The script's JSON line comes from the plugin output in the listing; GetCommandInvocation
 * (with the step's plugin name) only when that output is truncated or missing.
 */
async function finishedRun(
  commandId: string,
  inv: CommandInvocation,
  signal: AbortSignal,
  ctx: PollingContext,
): Promise<FinishedRun> {
  const plugin = stepPlugin(inv);
  const run = listedRun(inv, plugin);
  const scriptRan = plugin?.ResponseCode !== undefined && plugin.ResponseCode >= 0;
  if (!scriptRan || parseScriptReport(run.stdout)) return run;

  // The listing's output is capped (PLUGIN_OUTPUT_LIMIT); the full stdout is one call away.
  try {
    const full = await ctx.ssm.send(
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
      stdout: full.StandardOutputContent ?? run.stdout,
      stderr: full.StandardErrorContent ?? run.stderr,
    };
  } catch (err) {
    // Throttled, 5xx, network: keep the instance pending and try again next round (the round
    // counts as failed, see polling-health.ts). Anything else: go without the JSON.
    if (isRetryableAwsError(err) || signal.aborted) throw err;
    ctx.log.warn('GetCommandInvocation failed; classifying without the script report', {
      commandId,
      instanceId: inv.InstanceId,
      error: describeError(err),
    });
    return run;
  }
}
