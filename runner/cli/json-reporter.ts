import type { Interruption, ProgressSnapshot, Reporter, RunPlan, RunSummary } from '../drain/reporter';
import { sidekiqCounts } from '../slack/text';

/**
 * `snowwhite --json`: for scripts. One JSON object per line on stdout, each with an `event`
 * (`preview`, `launched`, `started`, `progress`, `interrupted`), then the `summary` object last.
 * Nothing else goes to stdout; notes for people go to stderr.
 */
export class JsonReporter implements Reporter {
  private lastDone = -1;

  constructor(
    private readonly out: { write(text: string): void },
    private readonly err: { write(text: string): void },
  ) {}

  emit(event: string, fields: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify({ event, ...fields })}\n`);
  }

  note(text: string): void {
    this.err.write(`${text}\n`);
  }

  async started(plan: RunPlan): Promise<void> {
    this.emit('started', { ...requestFields(plan.request), environments: plan.environments });
  }

  /** Only when an instance finished: a poll that changed nothing is not an event. */
  progress(snapshot: ProgressSnapshot): void {
    const { done, total } = totals(snapshot);
    if (done === this.lastDone) return;
    this.lastDone = done;
    this.emit('progress', {
      done,
      total,
      elapsedMs: snapshot.elapsedMs,
      environments: snapshot.environments,
    });
  }

  async finished(summary: RunSummary): Promise<void> {
    const counts: Record<string, number> = {};
    for (const o of summary.outcomes) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
    const sidekiq = sidekiqCounts(summary.outcomes);
    this.emit('summary', {
      ...requestFields(summary.request),
      exitCode: summary.exitCode,
      elapsedMs: summary.elapsedMs,
      counts,
      ...(sidekiq ? { sidekiq } : {}),
      ...(summary.error ? { error: summary.error } : {}),
      ...(summary.noMatch ? { noMatch: summary.noMatch } : {}),
      ...(summary.monitoringStopped ? { monitoringStopped: summary.monitoringStopped } : {}),
      commandIds: summary.commandIds,
      outcomes: summary.outcomes,
    });
  }

  async interrupted(i: Interruption): Promise<void> {
    this.emit('interrupted', {
      ...requestFields(i.request),
      ...totals(i.snapshot),
      elapsedMs: i.snapshot.elapsedMs,
      commandIds: i.commandIds,
      cancelledCommandIds: i.cancelledCommandIds ?? [],
    });
  }
}

const requestFields = (r: RunPlan['request']) => ({
  runId: r.runId,
  action: r.action,
  envPattern: r.envPattern,
  application: r.application,
  region: r.region,
});

const totals = (s: ProgressSnapshot) => ({
  done: s.environments.reduce((n, e) => n + e.done, 0),
  total: s.environments.reduce((n, e) => n + e.total, 0),
});
