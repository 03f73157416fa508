import type { Clock } from '../../../runner/clock';

/**
 * A compressed clock: sleep(ms) advances virtual time at once and yields to the event loop, so an
 * hour-long drain runs in milliseconds while every component still sees consistent times.
 */
export class VirtualClock implements Clock {
  sleeps = 0;
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps += 1;
    if (signal?.aborted) return;
    this.t += Math.max(0, ms);
    // A real macrotask turn, so HTTP calls to the fake Slack progress in between.
    await new Promise((r) => setImmediate(r));
  }
}
