/**
 * AWS SDK errors as tests need them, shaped as the SDK surfaces them: a `name` (the service's error
 * code), a message, and `$metadata.httpStatusCode` when the service answered. The runner's error
 * classification (runner/aws/errors.ts) reads exactly these fields.
 */

/** The service refused or failed the call with this HTTP status (4xx: refused, nothing done). */
export const awsError = (name: string, message = name, httpStatusCode = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

/** An AWS error as the SDK surfaces a given HTTP status (5xx: the service failed, maybe after acting). */
export const httpError = (name: string, httpStatusCode: number, message = name) =>
  awsError(name, message, httpStatusCode);

/** Rate limiting, after the SDK's own retries. */
export const throttlingError = (name = 'ThrottlingException') => awsError(name, 'Rate exceeded');

/** A Node.js network error (no HTTP answer at all). */
export const networkError = (code: string) => Object.assign(new Error(`socket ${code}`), { code });

/** The SDK's request timeout: the call was sent, its answer never came (it may have been carried out). */
export const timeoutError = (message = 'socket hang up') =>
  Object.assign(new Error(message), { name: 'TimeoutError' });
