export interface MemoOptions {
  /** Forget a settled value after this long (default: keep it). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Calls `make` at most once at a time and shares its promise: concurrent callers wait for the same
 * work. A rejection is forgotten at once, so the next call tries again; a value is kept for `maxAgeMs`.
 */
export function memoize<T>(make: () => Promise<T>, options: MemoOptions = {}): () => Promise<T> {
  const { maxAgeMs = Infinity, now = Date.now } = options;
  let entry: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (entry && now() - entry.at < maxAgeMs) return entry.value;
    const mine = { at: now(), value: make() };
    entry = mine;
    mine.value.catch(() => {
      if (entry === mine) entry = undefined;
    });
    return mine.value;
  };
}
