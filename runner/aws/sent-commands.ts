import { ListCommandInvocationsCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../drain/clock';
import type { Target, TargetPlan, TargetSource } from '../drain/targets';
import type { RunRequest } from '../request';
import { isRetryableAwsError } from './errors';
import { commentPrefixFor } from './ssm-executor/dispatch';

/** ListCommandInvocations can lag a moment behind SendCommand: look again this many times. */
const LISTING_ATTEMPTS = 3;
const LISTING_RETRY_MS = 1_000;

/** The run request names no command: the runner follows commands, it never sends them. */
export class NothingToFollowError extends Error {
  override readonly name = 'NothingToFollowError';
}

/**
 * The runner's targets: the instances of the SSM commands the bot already sent for this run, as SSM
 * lists them (the request names only the command ids, their environment and how many instances).
 * A command that is not this run's — another document, another run id in its Comment — is refused:
 * the runner follows only what the bot sent for exactly this run. No pattern is resolved here.
 */
export class SentCommandsTargets implements TargetSource {
  constructor(
    private readonly ssm: SSMClient,
    private readonly request: RunRequest,
    private readonly documentName: string,
    private readonly clock: Clock,
  ) {}

  async resolve(): Promise<TargetPlan> {
    const { commands = [], unreachable = [] } = this.request;
    if (commands.length === 0)
      throw new NothingToFollowError('the run request names no SSM command to follow');
    const prefix = commentPrefixFor(this.request.action, this.request.runId);
    const byEnv = new Map<string, { reachable: Target[]; unreachable: typeof unreachable }>();
    const env = (name: string) => {
      let e = byEnv.get(name);
      if (!e) byEnv.set(name, (e = { reachable: [], unreachable: [] }));
      return e;
    };
    const sent = [];
    for (const command of commands) {
      const instanceIds = await this.instancesOf(command.commandId, command.instances, prefix);
      for (const instanceId of instanceIds)
        env(command.environment).reachable.push({ instanceId, environment: command.environment });
      sent.push({ handle: command.commandId, instanceIds });
    }
    for (const u of unreachable) env(u.environment).unreachable.push(u);
    return {
      environments: [...byEnv].sort(([a], [b]) => a.localeCompare(b)).map(([name, e]) => ({ name, ...e })),
      otherEnvironments: [],
      sent,
    };
  }

  private async instancesOf(commandId: string, expected: number, prefix: string): Promise<string[]> {
    let ids: string[] = [];
    for (let attempt = 1; attempt <= LISTING_ATTEMPTS; attempt++) {
      ids = [];
      let NextToken: string | undefined;
      do {
        let page;
        try {
          page = await this.ssm.send(
            new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 50, NextToken }),
          );
        } catch (err) {
          // Throttled or a 5xx that outlasted the SDK's retries: look again, a few times.
          if (!isRetryableAwsError(err) || attempt === LISTING_ATTEMPTS) throw err;
          break;
        }
        for (const inv of page.CommandInvocations ?? []) {
          if (inv.DocumentName !== this.documentName || !inv.Comment?.startsWith(prefix))
            throw new Error(
              `SSM command ${commandId} is not this run's ${this.request.action} command; nothing is followed`,
            );
          if (inv.InstanceId && !ids.includes(inv.InstanceId)) ids.push(inv.InstanceId);
        }
        NextToken = page.NextToken;
      } while (NextToken);
      if (ids.length >= expected) break;
      if (attempt < LISTING_ATTEMPTS) await this.clock.sleep(LISTING_RETRY_MS);
    }
    if (ids.length === 0) throw new Error(`SSM lists no instance for command ${commandId}`);
    return ids.sort();
  }
}
