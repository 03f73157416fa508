import * as z from 'zod';
import { describeError } from '../../runner/log';
import { applicationNameSchema } from '../../runner/request';
import { parseCallerArn, principalKeyOf, principalOf } from '../auth/principal';
import type { WorkDeps } from '../deferred/deps';
import type { RateLimiter } from '../../runner/ledger/limits';
import type { IAMClient } from '@aws-sdk/client-iam';

/**
 * `snowwhite history [application]` from the terminal: the same last 10 runs `/snowwhite history`
 * shows, on the command line's signed route (`{"history": true}` as the body). As in Slack, the
 * caller must be someone the bot knows (an IAM user, or a role the stack accepts), and no simulation
 * is needed: every run listed was announced in the notification channel already.
 */

const HISTORY_RUNS = 10;

export const cliHistoryBodySchema = z
  .object({ history: z.literal(true), application: applicationNameSchema.optional() })
  .strict();

/** A body that asks for the history rather than a run (checked strictly by cliHistory). */
export const isCliHistoryRequest = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && 'history' in body;

export interface CliHistoryAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

export async function cliHistory(
  deps: Pick<WorkDeps, 'ledger' | 'logger'> & { iam: IAMClient; account: string; commandLimit?: RateLimiter },
  callerArn: string,
  body: unknown,
): Promise<CliHistoryAnswer> {
  const parsed = cliHistoryBodySchema.safeParse(body);
  if (!parsed.success)
    return {
      statusCode: 400,
      body: {
        error: 'bad_request',
        problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
      },
    };
  const limited = await deps.commandLimit?.take(principalKeyOf(callerArn));
  if (limited && !limited.ok)
    return {
      statusCode: 429,
      body: {
        error: 'rate_limited',
        detail: `too many Snow White requests from ${principalKeyOf(callerArn)} in the last minute. Try again in ${limited.retryAfterSeconds} s`,
      },
    };
  try {
    await principalOf(deps.iam, parseCallerArn(callerArn, deps.account));
  } catch (err) {
    deps.logger.info('history_refused', { callerArn, reason: describeError(err) });
    return {
      statusCode: 403,
      body: { error: 'refused', reason: 'unsupported_principal', detail: describeError(err) },
    };
  }
  if (!deps.ledger)
    return {
      statusCode: 404,
      body: {
        error: 'no_history',
        detail: 'fleet memory is not set up in this stack (no LEDGER_TABLE_NAME)',
      },
    };
  const { application } = parsed.data;
  const runs = application
    ? await deps.ledger.runsOfApplication(application, HISTORY_RUNS)
    : await deps.ledger.recentRuns(HISTORY_RUNS);
  deps.logger.info('history_answered', { callerArn, application, runs: runs.length, via: 'cli' });
  return {
    statusCode: 200,
    body: {
      runs: runs.map((r) => ({
        runId: r.runId,
        action: r.action,
        envPattern: r.envPattern,
        application: r.application,
        region: r.region,
        requestedBy: r.iamUserName,
        state: r.state,
        startedAt: r.startedAt,
        ...(r.endedAt ? { endedAt: r.endedAt } : {}),
        ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
        ...(r.counts ? { counts: r.counts } : {}),
        ...(r.permalink ? { permalink: r.permalink } : {}),
      })),
    },
  };
}
