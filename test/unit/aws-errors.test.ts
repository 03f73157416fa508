import { isRetryableAwsError, isThrottlingError } from '../../runner/aws-errors';

const awsError = (name: string, httpStatusCode: number, extra: object = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode }, ...extra });

describe('AWS error classification (the SDK retry strategies’ own)', () => {
  test.each([
    'ThrottlingException',
    'Throttling',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'SlowDown',
  ])('%s is throttling, and retryable', (name) => {
    expect(isThrottlingError(awsError(name, 400))).toBe(true);
    expect(isRetryableAwsError(awsError(name, 400))).toBe(true);
  });

  test('HTTP 429 is throttling whatever the name', () => {
    expect(isThrottlingError(awsError('Whatever', 429))).toBe(true);
  });

  test('server errors and timeouts are retryable but not throttling', () => {
    expect(isThrottlingError(awsError('InternalFailure', 500))).toBe(false);
    expect(isRetryableAwsError(awsError('InternalFailure', 500))).toBe(true);
    expect(isRetryableAwsError(awsError('ServiceUnavailable', 503))).toBe(true);
    expect(isRetryableAwsError(awsError('TimeoutError', 0))).toBe(true);
  });

  test('permission and validation errors are final', () => {
    expect(isRetryableAwsError(awsError('AccessDeniedException', 400))).toBe(false);
    expect(isRetryableAwsError(awsError('ValidationException', 400))).toBe(false);
    expect(isRetryableAwsError(awsError('NoSuchEntity', 404))).toBe(false);
  });

  test('anything that is not an error object is not an AWS error', () => {
    for (const x of [undefined, null, 'ThrottlingException', 42]) {
      expect(isThrottlingError(x)).toBe(false);
      expect(isRetryableAwsError(x)).toBe(false);
    }
  });
});
