import type { Interruption, ProgressSnapshot, Reporter, RunPlan, RunSummary } from '../drain/reporter';
import type { Logger } from '../log';
import { countOutcomes, fleetItem, fleetStatesAfter, runIdentity } from './items';
import type { RunItem } from './schema';
import { writeOrLog, type Ledger } from './store';
import { releaseRunLocks, settleUnfinishedRun } from './aftermath';
import type { Locks } from './locks';

/**
 * The runner's ledger writes, as a Reporter: the run becomes `running` when its targets are known,
 * `finished` (with outcome counts) or `interrupted` when it ends, and every environment whose state
 * the run changed gets its fleet item. Like every reporter, it never throws: a lost write is logged
 * (`ledger_write_lost`) and the drain goes on.
 */
export class LedgerReporter implements Reporter {
  constructor(
    private readonly ledger: Ledger,
    private readonly log: Logger,
    /** Wall-clock milliseconds (ledger times are real times, whatever clock the drain runs on). */
    private readonly now: () => number = Date.now,
    /** The run's locks (taken by the bot), given back when it ends. */
    private readonly locks?: Locks,
  ) {}

  async started(plan: RunPlan): Promise<void> {
    const { runId } = plan.request;
    await writeOrLog(this.log, runId, 'running', () =>
      this.ledger.markRunning(
        plan.request,
        {
          environments: plan.environments.map((e) => e.name),
          instances: plan.environments.reduce((n, e) => n + e.reachable + e.unreachable, 0),
        },
        this.now(),
      ),
    );
  }

  progress(_snapshot: ProgressSnapshot): void {}

  async finished(summary: RunSummary): Promise<void> {
    const { request } = summary;
    const nowMs = this.now();
    const item = await writeOrLog(this.log, request.runId, 'finished', () =>
      this.ledger.recordEnd(
        request,
        {
          state: 'finished',
          counts: countOutcomes(summary.outcomes),
          exitCode: summary.exitCode,
          ...(summary.error ? { error: summary.error } : {}),
        },
        nowMs,
      ),
    );
    // The run item as the bot wrote it carries the thread's permalink; without it, the request's own.
    const run: Pick<RunItem, 'runId' | 'action' | 'application' | 'region' | 'iamUserName'> &
      Partial<RunItem> = item ?? runIdentity(request);
    for (const change of fleetStatesAfter(request.action, summary.outcomes)) {
      const written = await writeOrLog(this.log, request.runId, `fleet ${change.environment}`, () =>
        this.ledger.putFleetState(fleetItem(run, change, nowMs)),
      );
      this.log.info('fleet_state_recorded', {
        environment: change.environment,
        state: change.state,
        written,
      });
    }
    // After the fleet states: the next run on these environments starts from what this one left.
    if (item) await releaseRunLocks({ locks: this.locks, logger: this.log }, item);
  }

  async interrupted(i: Interruption): Promise<void> {
    const nowMs = this.now();
    const item = await writeOrLog(this.log, i.request.runId, 'interrupted', () =>
      this.ledger.recordEnd(i.request, { state: 'interrupted' }, nowMs),
    );
    // Undefined when it was cancelled: the bot's Cancel has settled it already.
    if (item)
      await settleUnfinishedRun({ ledger: this.ledger, locks: this.locks, logger: this.log }, item, nowMs);
  }
}
