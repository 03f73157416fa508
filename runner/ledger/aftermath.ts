import type { Logger } from '../log';
import { fleetItem, possiblyQuietAfter } from './items';
import type { Locks } from './locks';
import type { RunItem } from './schema';
import { writeOrLog, type Ledger } from './store';

/**
 * What a run that did not finish (cancelled, interrupted, its task gone) leaves behind, whoever
 * learns of it (the bot's Cancel, the runner's interruption, the scheduled reconciliation): its
 * environments possibly quiet when it was a quiet or stop, and its locks given back. Never throws:
 * a lost write is logged, and a lock left behind expires on its own.
 */
export async function settleUnfinishedRun(
  deps: { ledger: Ledger; locks?: Locks | undefined; logger: Logger },
  run: RunItem,
  nowMs: number,
): Promise<void> {
  const { ledger, logger } = deps;
  for (const change of possiblyQuietAfter(run)) {
    const written = await writeOrLog(logger, run.runId, `fleet ${change.environment}`, () =>
      ledger.putFleetState(fleetItem(run, change, nowMs)),
    );
    logger.info('fleet_state_recorded', {
      runId: run.runId,
      environment: change.environment,
      state: change.state,
      written,
    });
  }
  await releaseRunLocks(deps, run);
}

/** Gives back the locks the run item says the run holds. */
export async function releaseRunLocks(
  deps: { locks?: Locks | undefined; logger: Logger },
  run: Pick<RunItem, 'runId' | 'region' | 'application' | 'locked'>,
): Promise<void> {
  if (!deps.locks || !run.locked?.length) return;
  await writeOrLog(deps.logger, run.runId, 'locks released', () =>
    deps.locks!.release(run, run.locked ?? []),
  );
}
