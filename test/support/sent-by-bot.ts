import type { SSMClient } from '@aws-sdk/client-ssm';
import { sendRun, splitReachable, type ConfirmedEnvironment } from '../../runner/aws/send-run';
import { systemClock, type Clock } from '../../runner/drain/clock';
import { silentLogger } from '../../runner/log';
import { runRequestSchema, type RunRequestInput } from '../../runner/request';

/**
 * What the bot does before it launches a runner, for runner tests: split the confirmed instances by
 * SSM reachability, send the action's document to the reachable ones (the real send code, through
 * `ssm`), and return the run request naming those commands — the request the runner is given.
 */
export async function sentByTheBot(
  ssm: SSMClient,
  request: RunRequestInput,
  environments: readonly ConfirmedEnvironment[],
  documentName: string,
  clock: Clock = systemClock,
): Promise<RunRequestInput> {
  const parsed = runRequestSchema.parse(request);
  const { reachable, unreachable } = await splitReachable(ssm, environments);
  const out = reachable.length
    ? await sendRun(
        { ssm, sendClient: ssm },
        {
          runId: parsed.runId,
          action: parsed.action,
          documentName,
          targets: reachable,
          drainTimeoutSeconds: parsed.drainTimeoutSeconds,
          executionTimeoutSeconds: parsed.executionTimeoutSeconds,
          clock,
          log: silentLogger,
        },
      )
    : { commands: [], notStarted: [] };
  const notReached = [
    ...unreachable,
    ...out.notStarted.map(({ instanceId, environment, reason }) => ({ instanceId, environment, reason })),
  ].map((u) => ({ ...u, reason: u.reason.slice(0, 120) }));
  return {
    ...request,
    ...(out.commands.length ? { commands: out.commands } : {}),
    ...(notReached.length ? { unreachable: notReached } : {}),
  };
}
