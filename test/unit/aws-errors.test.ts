import { isRetryableAwsError, isThrottlingError } from '../../runner/aws/errors';
import { httpError } from '../support/aws-errors';

describe('AWS error classification (the SDK retry strategies’ own)', () => {
  test.each([
    'ThrottlingException',
    'Throttling',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'SlowDown',
  ])('%s is throttling, and retryable', (name) => {
    expect(isThrottlingError(httpError(name, 400))).toBe(true);
    expect(isRetryableAwsError(httpError(name, 400))).toBe(true);
  });

  test('HTTP 429 is throttling whatever the name', () => {
    expect(isThrottlingError(httpError('Whatever', 429))).toBe(true);
  });

  test('server errors and timeouts are retryable but not throttling', () => {
    expect(isThrottlingError(httpError('InternalFailure', 500))).toBe(false);
    expect(isRetryableAwsError(httpError('InternalFailure', 500))).toBe(true);
    expect(isRetryableAwsError(httpError('ServiceUnavailable', 503))).toBe(true);
    expect(isRetryableAwsError(httpError('TimeoutError', 0))).toBe(true);
  });

  test('permission and validation errors are final', () => {
    expect(isRetryableAwsError(httpError('AccessDeniedException', 400))).toBe(false);
    expect(isRetryableAwsError(httpError('ValidationException', 400))).toBe(false);
    expect(isRetryableAwsError(httpError('NoSuchEntity', 404))).toBe(false);
  });

  test('anything that is not an error object is not an AWS error', () => {
    for (const x of [undefined, null, 'ThrottlingException', 42]) {
      expect(isThrottlingError(x)).toBe(false);
      expect(isRetryableAwsError(x)).toBe(false);
    }
  });
});
