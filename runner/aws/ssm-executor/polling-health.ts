import { isRetryableAwsError, isThrottlingError } from '../errors';

/** Rounds in a row with a 5xx/network failure before the runner stops following (with the backoff, over ten minutes). */
export const MAX_CONSECUTIVE_FAILED_ROUNDS = 10;

export type PollFailure = 'throttled' | 'transient' | 'fatal';

export function classifyPollFailure(err: unknown): PollFailure {
  if (isThrottlingError(err)) return 'throttled';
  return isRetryableAwsError(err) ? 'transient' : 'fatal';
}

export interface PollingHealth {
  /** Rounds in a row that were throttled or failed: each doubles the next wait (see pollDelayMs). */
  slowdownStreak: number;
  /** Rounds in a row with a transient (5xx, network) failure. Throttling alone does not count: SSM answered. */
  failedRounds: number;
}

export const HEALTHY: PollingHealth = { slowdownStreak: 0, failedRounds: 0 };

export type RoundVerdict =
  | { stop: false; health: PollingHealth }
  | { stop: true; cause: unknown; why: 'not_retryable' | 'too_many_failed_rounds'; failedRounds: number };

/**
 * Pure: whether the runner keeps following its SSM commands after a polling round in which some
 * calls failed. A run follows drains for hours; one 5xx or network timeout that outlasted the SDK's
 * own retries must not end that (the commands keep running on the instances whatever the runner
 * does), so such a round is skipped and the next waits longer, as for throttling. Only an error
 * another round cannot fix (AccessDenied, InvalidCommandId…) or a long run of failed rounds —
 * SSM unreachable for many minutes — makes the runner stop following, and then it says so.
 *
 * `errors`: what the polling calls of one round threw (none when every command was polled).
 */
export function judgeRound(
  previous: PollingHealth,
  errors: readonly unknown[],
  maxFailedRounds = MAX_CONSECUTIVE_FAILED_ROUNDS,
): RoundVerdict {
  const kinds = errors.map(classifyPollFailure);
  const fatal = kinds.indexOf('fatal');
  if (fatal >= 0) return { stop: true, cause: errors[fatal], why: 'not_retryable', failedRounds: 0 };
  if (errors.length === 0) return { stop: false, health: HEALTHY };
  const transient = kinds.lastIndexOf('transient');
  const failedRounds = transient >= 0 ? previous.failedRounds + 1 : 0;
  if (failedRounds >= maxFailedRounds)
    return { stop: true, cause: errors[transient], why: 'too_many_failed_rounds', failedRounds };
  return { stop: false, health: { slowdownStreak: previous.slowdownStreak + 1, failedRounds } };
}
