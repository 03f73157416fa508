import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { settleUnfinishedRun } from '../../runner/ledger/aftermath';
import type { FleetItem, RunItem } from '../../runner/ledger/schema';
import { describeError } from '../../runner/log';
import type { WorkDeps } from '../deferred/deps';
import { environmentsNow } from './fleet-environments';
// Runs older than App Home's window count as ended there already (no run outlives it).
import { IN_PROGRESS_WINDOW_SECONDS } from './home';

/** A task RunTask just started may not be described yet (ECS is eventually consistent). */
const GRACE_MS = 10 * 60_000;
/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_BATCH = 100;

export interface ReconcileResult {
  interrupted: number;
  fleetsGone: number;
}

/** Pure: which runs in progress ECS says are gone (STOPPED, or no longer known), given its answer. */
export function goneRuns(
  runs: readonly RunItem[],
  answer: { stopped: ReadonlySet<string>; missing: ReadonlySet<string> },
  nowMs: number,
): Array<{ run: RunItem; why: string }> {
  const out: Array<{ run: RunItem; why: string }> = [];
  for (const run of runs) {
    if (!run.taskArn || nowMs - Date.parse(run.startedAt) < GRACE_MS) continue;
    if (answer.stopped.has(run.taskArn))
      out.push({ run, why: 'its runner task stopped without reporting an end' });
    else if (answer.missing.has(run.taskArn))
      out.push({ run, why: 'ECS no longer knows its runner task (it stopped without reporting an end)' });
  }
  return out;
}

/**
 * The scheduled event's reconciliation (every 15 minutes, before the reminders): the ledger is made to
 * agree with ECS and Elastic Beanstalk again.
 * - A run still `launched` or `running` whose task ECS says is STOPPED, or knows no more, died without
 *   a word: it becomes `interrupted` (its Cancel leaves App Home), its environments possibly quiet when
 *   it was a quiet or stop, and its locks are given back.
 * - A fleet whose environment is terminated or gone leaves the not-awake list (App Home, reminders).
 * Never throws: each failure is logged and the next check tries again.
 */
export async function reconcile(deps: WorkDeps): Promise<ReconcileResult> {
  const result: ReconcileResult = { interrupted: 0, fleetsGone: 0 };
  const { ledger, logger } = deps;
  if (!ledger) return result;
  const nowMs = deps.nowMs();

  try {
    const runs = await ledger.runsInProgress(nowMs, IN_PROGRESS_WINDOW_SECONDS);
    const arns = [...new Set(runs.flatMap((r) => (r.taskArn ? [r.taskArn] : [])))];
    const stopped = new Set<string>();
    const missing = new Set<string>();
    for (let i = 0; i < arns.length; i += DESCRIBE_BATCH) {
      const answer = await deps.ecs.send(
        new DescribeTasksCommand({ cluster: deps.launch.cluster, tasks: arns.slice(i, i + DESCRIBE_BATCH) }),
      );
      for (const t of answer.tasks ?? []) if (t.taskArn && t.lastStatus === 'STOPPED') stopped.add(t.taskArn);
      for (const f of answer.failures ?? []) if (f.arn && f.reason === 'MISSING') missing.add(f.arn);
    }
    for (const { run, why } of goneRuns(runs, { stopped, missing }, nowMs)) {
      const ended = await ledger.markInterrupted(run.runId, why, nowMs);
      if (!ended) continue; // it ended meanwhile, by itself or by Cancel
      await settleUnfinishedRun({ ledger, locks: deps.locks, logger }, ended, nowMs);
      logger.info('run_reconciled', { runId: run.runId, taskArn: run.taskArn, state: 'interrupted', why });
      result.interrupted++;
    }
  } catch (err) {
    logger.error('reconcile_runs_failed', { error: describeError(err) });
  }

  try {
    const fleets: FleetItem[] = await ledger.notAwakeFleets();
    const now = await environmentsNow(deps, fleets, 'reconcile');
    for (const fleet of fleets) {
      if (now(fleet) !== 'gone') continue;
      if (await ledger.dropGoneFleet(fleet, nowMs)) {
        logger.info('fleet_gone', {
          environment: fleet.environment,
          application: fleet.application,
          region: fleet.region,
        });
        result.fleetsGone++;
      }
    }
  } catch (err) {
    logger.error('reconcile_fleets_failed', { error: describeError(err) });
  }
  return result;
}
