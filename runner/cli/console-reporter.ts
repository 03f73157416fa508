import type { Interruption, ProgressSnapshot, Reporter, RunPlan, RunSummary } from '../drain/reporter';
import {
  formatDuration,
  instanceTable,
  plainHeadline,
  progressBar,
  sidekiqCounts,
  sidekiqCountsText,
} from '../slack/text';
import { printable } from './printable';

export interface ConsoleOutput {
  write(text: string): void;
  isTTY?: boolean;
  /** The terminal's width (process.stdout.columns); 80 when unknown. */
  columns?: number;
}

/** How often the live line is redrawn on a terminal, so its elapsed time never freezes. */
export const TICK_MS = 1000;

/** The summary as a fixed-width table, one row per instance (the same table the Slack file holds). */
export const summaryTable = instanceTable;

/**
 * The command line's Reporter: a live progress line (redrawn in place on a terminal, printed when it
 * changes otherwise) that also shows what sidekiqctl.sh last saw, then a summary table.
 */
export class ConsoleReporter implements Reporter {
  private lastProgress = '';
  private lastSeen = '';
  private lastSnapshot: ProgressSnapshot | undefined;
  private drawn = false;
  /** When lastSnapshot arrived (its elapsed time grows from there between snapshots). */
  private snapshotAt = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: ConsoleOutput,
    private readonly now: () => number = Date.now,
    /** What the run acts on, when not the request's names (--local: "on this host"). */
    private readonly where?: string,
  ) {}

  async started(plan: RunPlan): Promise<void> {
    const r = plan.request;
    const instances = plan.environments.reduce((n, e) => n + e.reachable + e.unreachable, 0);
    this.println(
      `snowwhite ${r.action} ${this.where ?? `${r.envPattern} ${r.application} ${r.region}`}: ${instances} instance${instances === 1 ? '' : 's'} in ${plan.environments.map((e) => e.name).join(', ') || 'no environment'}`,
    );
  }

  progress(snapshot: ProgressSnapshot): void {
    this.lastSnapshot = snapshot;
    this.snapshotAt = this.now();
    if (this.out.isTTY && !this.ticker) {
      this.ticker = setInterval(() => this.draw(), TICK_MS);
      this.ticker.unref(); // never what keeps the process alive
    }
    this.draw();
  }

  private stopTicking(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** A line for the person, above the live progress line (the runner's task state, a warning). */
  note(text: string): void {
    this.println(text);
    if (this.lastSnapshot) this.draw();
  }

  /** What the script on an instance last said (its per-poll view of the Sidekiq processes). */
  scriptSaid(instanceId: string, line: string): void {
    this.lastSeen = printable(`${instanceId}: ${line.replace(/^sidekiqctl: /, '')}`);
    if (!this.out.isTTY) {
      this.println(`  ${this.lastSeen}`);
      return;
    }
    this.draw();
  }

  async finished(summary: RunSummary): Promise<void> {
    this.stopTicking();
    this.clearLine();
    this.println('');
    this.println(plainHeadline(summary, this.where));
    const counts = sidekiqCounts(summary.outcomes);
    if (counts) this.println(`sidekiq: ${sidekiqCountsText(counts)}`);
    if (summary.outcomes.length) this.println(summaryTable(summary));
    if (summary.noMatch) {
      this.println(
        `other environments of ${summary.request.application}: ${summary.noMatch.otherEnvironments.join(', ') || 'none'}`,
      );
    }
  }

  async interrupted(i: Interruption): Promise<void> {
    this.stopTicking();
    this.clearLine();
    this.println(
      `interrupted after ${formatDuration(i.snapshot.elapsedMs)}: the script was told to stop waiting; Sidekiq processes it quieted stay quiet (run \`snowwhite wake\` to restart them).`,
    );
  }

  private draw(): void {
    const s = this.lastSnapshot;
    const total = s ? s.environments.reduce((n, e) => n + e.total, 0) : 0;
    const done = s ? s.environments.reduce((n, e) => n + e.done, 0) : 0;
    if (!this.out.isTTY) {
      const counts = s ? `${progressBar(done, total)} ${done}/${total} done` : '';
      if (counts && counts !== this.lastProgress) this.println(`${counts} · ${formatDuration(s!.elapsedMs)}`);
      this.lastProgress = counts;
      return;
    }
    // Counts first and a short bar, so an 80-column terminal cuts what the script saw, never the counts.
    const elapsed = s ? s.elapsedMs + Math.max(0, this.now() - this.snapshotAt) : 0;
    const bar = s ? `${progressBar(done, total, 10)} ${done}/${total} done · ${formatDuration(elapsed)}` : '';
    const text = printable([bar, this.lastSeen].filter(Boolean).join(' · '));
    const columns = this.out.columns || 80; // 0 on a terminal that never said its size
    this.out.write(`\r\x1b[2K${[...text].slice(0, Math.max(20, columns - 1)).join('')}`);
    this.drawn = true;
  }

  private clearLine(): void {
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  /** Everything printed passes `printable`: names, reasons and titles come from outside. */
  private println(text: string): void {
    this.clearLine();
    this.out.write(`${printable(text)}\n`);
  }
}
