import type { Clock } from '../../../runner/drain/clock';

/**
 * A compressed clock: sleep(ms) advances virtual time at once and yields to the event loop, so an
 * hour-long drain runs in milliseconds while every component still sees consistent times.
 */
export class VirtualClock implements Clock {
  /** Every wait asked for, in order (aborted ones too). */
  readonly sleeps: number[] = [];
  /** Called at the start of each sleep, before it is logged in `sleeps` (tests abort from here). */
  onSleep?: (ms: number) => void;
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.onSleep?.(ms);
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.t += Math.max(0, ms);
    // A real macrotask turn, so HTTP calls to the fake Slack progress in between.
    await new Promise((r) => setImmediate(r));
  }
}
