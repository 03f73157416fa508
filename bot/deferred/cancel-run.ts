import { DescribeTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { describeError } from '../../runner/log';
import { writeOrLog } from '../../runner/ledger/store';
import { settleUnfinishedRun } from '../../runner/ledger/aftermath';
import type { CancelRunButtonValue } from '../../runner/slack/buttons';
import type { AuthorizationDecision } from '../auth/rules';
import { escapeMrkdwn, type SlackMessage } from '../slack/messages';
import { checkRun, type RunCheck } from './checked-targets';
import type { WorkDeps } from './deps';
import type { CancelWork } from './handoff';
import { checkRunnerTask, type RunnerTaskCheck } from './runner-task';

/**
 * The slow half of a run's Cancel click: authorize the clicker for the run's action on its targets
 * (cancelling may leave workers quiet, so it takes what running the action takes), check that the
 * task is this run's runner and still going, then StopTask. The runner's SIGTERM path cancels its
 * SSM commands and reports "cancelled" with Wake; here the ledger, the clicker and the thread hear of it.
 */
export async function runCancelWork(deps: WorkDeps, work: CancelWork): Promise<void> {
  const { value } = work;
  const log = deps.logger.with({ runId: value.runId, slackUserId: work.slackUserId });
  // The same door as starting the action, on the run's targets as they are now.
  const checked = await checkRun(
    deps,
    { runId: value.runId, slackUserId: work.slackUserId },
    {
      action: value.action,
      envPattern: value.envPattern,
      application: value.application,
      region: value.region,
    },
  );
  if (!checked.ok) {
    log.info('cancel_refused', {
      reason: checked.kind === 'refused' ? checked.decision.reason : checked.kind,
    });
    return answerCanceller(deps, work, { text: cancelCheckText(checked, value) });
  }

  let check: RunnerTaskCheck;
  try {
    const answer = await deps.ecs.send(
      new DescribeTasksCommand({ cluster: deps.launch.cluster, tasks: [value.taskArn], include: ['TAGS'] }),
    );
    check = checkRunnerTask(answer, deps.launch, value);
  } catch (err) {
    log.warn('cancel_lookup_failed', { error: describeError(err) });
    return answerCanceller(deps, work, {
      text: `:x: Could not look the run's task up in ECS (${escapeMrkdwn(describeError(err))}). Nothing was stopped; press Cancel again.`,
    });
  }
  if (!check.ok) {
    log.warn('cancel_refused', { reason: check.reason, detail: check.detail, taskArn: value.taskArn });
    return answerCanceller(deps, work, { text: taskRefusalText(check) });
  }

  const iamUserName = checked.iamUser.userName;
  try {
    await deps.ecs.send(
      new StopTaskCommand({
        cluster: deps.launch.cluster,
        task: value.taskArn,
        reason: stopReason(work.slackUserId, iamUserName),
      }),
    );
  } catch (err) {
    log.error('cancel_failed', { error: describeError(err), taskArn: value.taskArn });
    return answerCanceller(deps, work, {
      text: `:x: ECS did not stop the run (${escapeMrkdwn(describeError(err))}); it is still going. Press Cancel again.`,
    });
  }
  log.info('run_cancelled', { taskArn: value.taskArn, iamUser: iamUserName, action: value.action });

  // The ledger first: the stopped runner reports "interrupted" within seconds, which must not win.
  if (deps.ledger) {
    const ledger = deps.ledger;
    const nowMs = deps.nowMs();
    const marked = await writeOrLog(log, value.runId, 'cancelled', () =>
      ledger.markCancelled(value.runId, work.slackUserId, nowMs),
    );
    // Workers already quiet stay quiet: App Home and the reminders must say so; the locks go back.
    if (marked) await settleUnfinishedRun({ ledger, locks: deps.locks, logger: log }, marked, nowMs);
    else log.info('ledger_run_not_in_progress');
  }
  await answerCanceller(deps, work, { text: cancelledRunText(value) });
  const thread = check.request.slack;
  if (thread)
    await deps.slack
      .post(thread.channel, { text: threadLineText(work.slackUserId, value) }, thread.threadTs)
      .catch((err: unknown) => log.warn('thread_reply_failed', { error: describeError(err) }));
}

/** To the person who clicked: through the message's response_url, or by DM for an App Home click. */
export async function answerCanceller(
  deps: WorkDeps,
  work: CancelWork,
  message: SlackMessage,
): Promise<void> {
  if (work.reply) return deps.slack.tell({ ...work.reply, slackUserId: work.slackUserId }, message);
  await deps.slack.post(work.slackUserId, message);
}

/** ECS keeps the reason with the stopped task (at most 255 characters). */
const stopReason = (slackUserId: string, iamUserName: string) =>
  `Cancelled from Slack by ${slackUserId} (IAM user ${iamUserName})`.slice(0, 255);

const runName = (v: CancelRunButtonValue) =>
  `\`${v.action}\` on *${escapeMrkdwn(v.application)}* (${v.region})`;

/** Only quiet and stop leave something behind that Wake undoes. */
const leftQuiet = (v: CancelRunButtonValue) =>
  v.action === 'quiet' || v.action === 'stop'
    ? '; workers already quiet stay quiet — Wake is offered in the report'
    : '';

export const cancelledRunText = (v: CancelRunButtonValue) =>
  `:octagonal_sign: Cancelling the run of ${runName(v)}: its runner is stopping and cancels its SSM commands${leftQuiet(v)}.`;

export const threadLineText = (slackUserId: string, v: CancelRunButtonValue) =>
  `:octagonal_sign: <@${slackUserId}> cancelled the run${leftQuiet(v)}.`;

function cancelCheckText(checked: Exclude<RunCheck, { ok: true }>, v: CancelRunButtonValue): string {
  switch (checked.kind) {
    case 'refused':
      return cancelRefusalText(checked.decision, v);
    case 'lookup_failed':
      return `:x: Could not list the environments of ${runName(v)} to check your permissions (${escapeMrkdwn(checked.error)}). Nothing was stopped; press Cancel again.`;
    case 'no_targets':
      return `:no_entry: No environment of ${runName(v)} matches any more, so your permission to act on it cannot be checked. Nothing was stopped.`;
  }
}

export function cancelRefusalText(
  decision: AuthorizationDecision & { allowed: false },
  v: CancelRunButtonValue,
): string {
  if (decision.reason === 'iam_error')
    return `:warning: Could not check whether you may cancel the run of ${runName(v)} (${escapeMrkdwn(decision.detail)}). Nothing was stopped; try again in a minute.`;
  return `:no_entry: You may not cancel the run of ${runName(v)}: cancelling takes what running \`${v.action}\` takes, and ${escapeMrkdwn(decision.detail)}. Nothing was stopped.`;
}

export function taskRefusalText(check: RunnerTaskCheck & { ok: false }): string {
  if (check.reason === 'stopped') return `:information_source: Nothing to cancel: ${check.detail}.`;
  return `:no_entry: This Cancel button does not match a Snow White run in progress (${check.detail}). Nothing was stopped.`;
}
