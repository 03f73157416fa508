import { isServerError, isThrottlingError as sdkIsThrottling, isTransientError } from '@smithy/core/retry';

/**
 * How an AWS error should be treated, by the AWS SDK's own classification (the one its retry
 * strategies use), so the bot's and the runner's extra backoff agree with the SDK's.
 */
type SdkErrorLike = Parameters<typeof sdkIsThrottling>[0];

const asSdkError = (err: unknown): SdkErrorLike | undefined =>
  err instanceof Error || (typeof err === 'object' && err !== null && 'name' in err)
    ? (err as SdkErrorLike)
    : undefined;

/** True when an AWS call failed because of rate limiting (even after the SDK's own retries). */
export function isThrottlingError(err: unknown): boolean {
  const e = asSdkError(err);
  return e !== undefined && sdkIsThrottling(e);
}

/** Worth trying again: throttling, a transient network error or a 5xx. Never a permission error. */
export function isRetryableAwsError(err: unknown): boolean {
  const e = asSdkError(err);
  return e !== undefined && (sdkIsThrottling(e) || isTransientError(e) || isServerError(e));
}
