import { isRetryableAwsError } from '../runner/aws/errors';

/**
 * Retries a call that AWS throttled, with capped exponential backoff and full jitter.
 * Only throttling (and 5xx) is retried: a permission error or a bad request fails at once.
 */
export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withThrottlingRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const {
    attempts = 6,
    baseDelayMs = 100,
    maxDelayMs = 5_000,
    sleep = realSleep,
    random = Math.random,
  } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isRetryableAwsError(err)) throw err;
      await sleep(Math.round(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))));
    }
  }
}
