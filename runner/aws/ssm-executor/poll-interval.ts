export interface PollIntervalOptions {
  initialMs: number;
  maxMs: number;
  /** Share of the time elapsed since dispatch used as the interval once past `initialMs`. */
  fraction: number;
}

export const DEFAULT_POLL_INTERVAL: PollIntervalOptions = { initialMs: 2_000, maxMs: 30_000, fraction: 0.05 };

/**
 * Pure: how long to wait before the next polling round. Quick at first (short runs and early
 * failures show up fast), then a fixed fraction of the elapsed time so an hour-long drain costs
 * a few hundred rounds, not thousands; doubled for each round in a row that was throttled.
 */
export function pollDelayMs(
  elapsedMs: number,
  throttledStreak = 0,
  opts: PollIntervalOptions = DEFAULT_POLL_INTERVAL,
): number {
  const base = Math.min(opts.maxMs, Math.max(opts.initialMs, elapsedMs * opts.fraction));
  // Backing off further when SSM keeps throttling, but never beyond 4× the normal ceiling.
  return Math.round(Math.min(opts.maxMs * 4, base * 2 ** Math.min(throttledStreak, 6)));
}
