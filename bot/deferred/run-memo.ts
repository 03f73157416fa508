export interface RunMemoEntry {
  root?: { channel: string; ts: string; fallbackReason?: string };
  taskArn?: string;
  permalink?: string;
}

/**
 * What this Lambda container remembers about runs it launched: the thread root it posted and
 * whether the launch finished. Lets a retried delivery in the same container reuse the thread root
 * (so RunTask sees identical parameters and returns the same task) instead of posting a second one.
 * Across containers, RunTask's client token is the arbiter (see start-run.ts).
 */
export class RunMemo {
  private readonly entries = new Map<string, RunMemoEntry>();
  constructor(private readonly capacity = 500) {}

  get(runId: string): RunMemoEntry | undefined {
    return this.entries.get(runId);
  }

  update(runId: string, patch: RunMemoEntry): RunMemoEntry {
    const next = { ...this.entries.get(runId), ...patch };
    this.entries.delete(runId);
    this.entries.set(runId, next);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return next;
  }
}
