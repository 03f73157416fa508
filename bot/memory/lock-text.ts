import type { LockItem } from '../../runner/ledger/locks';
import { escapeMrkdwn } from '../../runner/slack/mrkdwn';

/**
 * Pure: the refusal of a state-changing run that meets another run's lock: who runs what on which
 * environment, since when (Slack renders the date in the reader's time zone), and the thread.
 */
export function lockedText(
  holder: LockItem | undefined,
  environment: string,
  action: string,
  stage: 'prompt' | 'confirm',
): string {
  const nothing = stage === 'confirm' ? 'Nothing was launched' : 'Nothing was done';
  const env = `*${escapeMrkdwn(environment)}*`;
  if (!holder)
    return `:lock: ${env} is held by another Snow White run (it may just have ended). ${nothing}; try again in a moment.`;
  const who = holder.slackUserId
    ? `<@${holder.slackUserId}>`
    : `IAM user \`${escapeMrkdwn(holder.iamUserName)}\``;
  const seconds = Math.floor(Date.parse(holder.since) / 1000);
  const since = `<!date^${seconds}^{date_short_pretty} {time}|${holder.since}>`;
  const thread =
    holder.permalink && /^https:\/\/[^\s|<>]+$/.test(holder.permalink)
      ? ` — <${holder.permalink}|see its thread>`
      : '';
  return `:lock: ${who} is running \`${holder.action}\` on ${env} since ${since} (run \`${holder.runId}\`)${thread}. One state-changing run per environment at a time: your \`${action}\` would act on the same workers. ${nothing}; try again once that run has ended (or cancel it).`;
}
