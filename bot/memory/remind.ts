import { writeOrLog } from '../../runner/ledger/store';
import type { FleetItem } from '../../runner/ledger/schema';
import { describeError } from '../../runner/log';
import type { WorkDeps } from '../deferred/deps';
import { environmentsNow } from './fleet-environments';
import { decideReminders, reminderCandidates } from './reminders';
import { reminderMessage } from './view';

/**
 * The scheduled check (EventBridge, every 15 minutes): one Query for the fleets not awake, one
 * DescribeEnvironments per application among those due, then for each fleet to remind: claim the
 * reminder in the ledger (conditional update), post it in the run's thread (the notification channel
 * for runs without one) and DM the person who quieted it. Never throws.
 */
export async function sendReminders(deps: WorkDeps): Promise<{ reminded: number; skipped: number }> {
  const { ledger, logger } = deps;
  if (!ledger) return { reminded: 0, skipped: 0 };
  const nowMs = deps.nowMs();
  let fleets: FleetItem[];
  try {
    fleets = await ledger.notAwakeFleets();
  } catch (err) {
    logger.error('reminder_check_failed', { error: describeError(err) });
    return { reminded: 0, skipped: 0 };
  }
  const candidates = reminderCandidates(fleets, nowMs, deps.reminders);

  const environmentNow = await environmentsNow(deps, candidates, 'reminder');
  const { remind, skip } = decideReminders(candidates, environmentNow);
  for (const { fleet, reason } of skip)
    logger.info('reminder_skipped', {
      environment: fleet.environment,
      application: fleet.application,
      reason,
    });

  let reminded = 0;
  for (const fleet of remind) {
    const claimed = await writeOrLog(logger, fleet.runId, `reminder ${fleet.environment}`, () =>
      ledger.claimReminder(fleet, nowMs, deps.reminders.everySeconds),
    );
    if (!claimed) continue;
    const message = reminderMessage(fleet, nowMs);
    const inThread = fleet.channel && fleet.threadTs;
    const posts = [
      inThread
        ? deps.slack.post(fleet.channel!, message, fleet.threadTs)
        : deps.slack.post(deps.notifyChannel, message),
      // A DM: chat.postMessage to a user id posts in the app's messages tab with them.
      ...(fleet.slackUserId ? [deps.slack.post(fleet.slackUserId, message)] : []),
    ];
    for (const r of await Promise.allSettled(posts))
      if (r.status === 'rejected')
        logger.warn('reminder_post_failed', {
          runId: fleet.runId,
          environment: fleet.environment,
          error: describeError(r.reason),
        });
    logger.info('reminder_sent', {
      runId: fleet.runId,
      environment: fleet.environment,
      state: fleet.state,
      since: fleet.since,
    });
    reminded++;
  }
  return { reminded, skipped: skip.length };
}
