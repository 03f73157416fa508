/**
 * A token bucket per key (Slack user): `perMinute` requests in a burst, refilled evenly over a
 * minute. In-container only: containers are few (reserved concurrency bounds them), and this is a
 * brake on one person's flood of IAM simulations and Fargate tasks, not an accounting.
 */
export interface RateLimiter {
  /** Takes one token; when none is left, how many seconds until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createRateLimiter(options: {
  perMinute: number;
  now?: () => number;
  /** Keys remembered at most (oldest forgotten first: a forgotten key starts with a full bucket). */
  maxKeys?: number;
}): RateLimiter {
  const { perMinute, now = Date.now, maxKeys = 10_000 } = options;
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * refillPerMs);
      b.at = t;
      buckets.delete(key);
      buckets.set(key, b);
      while (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.ceil((1 - b.tokens) / refillPerMs / 1000) };
    },
  };
}
