import { describeError } from '../../runner/log';
import { identify } from '../auth/rules';
import type { WorkDeps } from '../deferred/deps';
import type { HistoryWork } from '../deferred/handoff';
import { historyMessage } from './view';

const HISTORY_RUNS = 10;

/**
 * `/snowwhite history [application]`, answered only to the asker. The asker must be a known user
 * (exactly one IAM user tagged with their Slack id); no IAM permission is simulated: every run listed
 * was announced in the notification channel already, and listing changes nothing.
 */
export async function answerHistory(deps: WorkDeps, work: HistoryWork): Promise<void> {
  const tell = (text: string) => deps.slack.tell(work, { text });
  let users;
  try {
    users = await deps.directory.usersFor(work.slackUserId);
  } catch (err) {
    deps.logger.warn('history_refused', { slackUserId: work.slackUserId, error: describeError(err) });
    return tell(':warning: Could not check who you are in IAM; try again in a minute.');
  }
  const identity = identify(work.slackUserId, users);
  if (!identity.ok) {
    deps.logger.info('history_refused', { slackUserId: work.slackUserId, reason: identity.decision.reason });
    const why = identity.decision.allowed ? 'unknown user' : identity.decision.detail;
    return tell(`:no_entry: You may not read the history: ${why}.`);
  }
  if (!deps.ledger)
    return tell('Fleet memory is not set up here (no `LEDGER_TABLE_NAME`): there is no history.');
  let runs;
  try {
    runs = work.application
      ? await deps.ledger.runsOfApplication(work.application, HISTORY_RUNS)
      : await deps.ledger.recentRuns(HISTORY_RUNS);
  } catch (err) {
    deps.logger.warn('history_read_failed', { slackUserId: work.slackUserId, error: describeError(err) });
    return tell(':warning: I cannot read the history right now; try again in a minute.');
  }
  deps.logger.info('history_answered', {
    slackUserId: work.slackUserId,
    application: work.application,
    runs: runs.length,
  });
  await deps.slack.tell(work, historyMessage(runs, work.application));
}
