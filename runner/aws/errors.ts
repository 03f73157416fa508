import { isServerError, isThrottlingError as sdkIsThrottling, isTransientError } from '@smithy/core/retry';

// How an AWS error should be treated, by the AWS SDK's own classification (the one its retry
// strategies use), so the bot's and the runner's extra backoff agree with the SDK's.
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

/**
 * Network errors raised before a request reached AWS (no connection, no name resolution): the
 * service never saw the call. ECONNRESET, EPIPE and timeouts are not here — by then the request
 * may have been received and carried out, only the answer was lost.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when a failed call certainly did not take effect, so even a call that is not idempotent
 * (SSM SendCommand: a second one runs the script a second time) may be sent again: throttling is
 * decided before the request is processed, and a request that never left cannot have done anything.
 */
export function certainlyNotCarriedOut(err: unknown): boolean {
  const e = asSdkError(err);
  if (e === undefined) return false;
  const code = (e as { code?: unknown }).code;
  return sdkIsThrottling(e) || (typeof code === 'string' && NOT_SENT_CODES.has(code));
}

/**
 * True when a failed call that is not idempotent may nonetheless have taken effect: a timeout or
 * reset connection after the request was sent, a 5xx (the service may fail after doing the work),
 * or anything unrecognised. A 4xx other than a timeout is a refusal: nothing was done.
 */
export function mayHaveTakenEffect(err: unknown): boolean {
  if (certainlyNotCarriedOut(err)) return false;
  const e = asSdkError(err);
  if (e === undefined) return true;
  if (isTransientError(e)) return true;
  const status = e.$metadata?.httpStatusCode;
  return !(status !== undefined && status >= 400 && status < 500);
}
