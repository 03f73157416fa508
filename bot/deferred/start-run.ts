import { executionTimeoutFor, type RunRequestInput } from '../../runner/request';
import type { Action } from '../../ssm/actions';
import { clientTokenFor, launchRunner, RunnerLaunchError } from '../../runner/launch';
import { describeError } from '../../runner/log';
import { launchedRunItem } from '../../runner/ledger/items';
import { writeOrLog } from '../../runner/ledger/store';
import type { TargetPreview } from '../../runner/aws/environments';
import {
  alreadyLaunchedText,
  launchedText,
  launchFailedPublicText,
  launchFailedText,
  notificationText,
  taskStartedText,
  threadRootText,
} from '../slack/messages';
import { slackErrorCode } from '../../runner/slack/errors';
import { CANNOT_POST_HERE, type ReplyTarget } from '../slack/out';
import type { WorkDeps } from './deps';
import { newErrorId } from '../../runner/error-id';
import { slackUserIdSchema } from '../../runner/request';
import type { SentRecord } from '../../runner/ledger/sends';
import { cancelRunButtonValueSchema } from '../../runner/slack/buttons';
import { progressBlocks } from '../../runner/slack/text';
import { launchedDespiteText } from '../slack/launched-despite';

export interface RunToStart {
  runId: string;
  slackUserId: string;
  iamUserName: string;
  command: Pick<
    RunRequestInput,
    'envPattern' | 'application' | 'region' | 'instanceIds' | 'drainTimeoutSeconds'
  > & { action: Action };
  preview: TargetPreview;
  reply: ReplyTarget;
  /** Replace the prompt (button click) rather than add a message (status). */
  replacePrompt: boolean;
  /** The commands already sent to the confirmed instances (confirmed-run.ts): the runner follows them. */
  sent: SentRecord;
  /**
   * The environments whose locks the run took. Kept even when the launch fails: the commands are
   * already running there; the locks end with the run or expire after its execution timeout.
   */
  locked?: string[];
}

/**
 * Announce and launch one authorized run whose commands are already out: thread root (in the channel, or the notification channel
 * where the bot cannot post), RunTask with a client token derived from the run id, the task in the
 * thread, a line in the notification channel, and where to follow for the person.
 *
 * Exactly one runner per run id: RunTask's client token makes repeats return the same task. A
 * repeat in the same container reuses the memoised thread root, so its RunTask parameters are
 * identical and ECS answers with the original task. A repeat in another container posted its own
 * root, so its parameters differ and ECS answers ConflictException: that repeat deletes its root
 * and says the run was already launched. No database needed.
 */
export async function startRun(deps: WorkDeps, run: RunToStart): Promise<void> {
  const { slack, logger, memo } = deps;
  const { action } = run.command;
  const tell = (text: string) => slack.tell(run.reply, { text }, { replace: run.replacePrompt });
  const where = { runId: run.runId, region: run.command.region, application: run.command.application };
  const locked = run.locked ?? [];

  let root = memo.get(run.runId)?.root;
  let postedNow = false;
  let permalink = memo.get(run.runId)?.permalink;
  if (!root) {
    const text = threadRootText({
      ...run.command,
      slackUserId: run.slackUserId,
      iamUserName: run.iamUserName,
      preview: run.preview,
    });
    try {
      // A request from a direct message or App Home (whose replies go to the person's DM, addressed
      // by user id) is announced where others see it: a thread in a DM would be the asker's alone.
      const privately =
        slackUserIdSchema.safeParse(run.reply.channelId).success || run.reply.channelId.startsWith('D');
      const rootChannel = privately ? deps.notifyChannel : run.reply.channelId;
      root = await slack.post(rootChannel, { text });
    } catch (err) {
      const code = slackErrorCode(err);
      if (!code || !CANNOT_POST_HERE.has(code)) throw err;
      logger.info('thread_fallback', { runId: run.runId, channel: run.reply.channelId, reason: code });
      root = { ...(await slack.post(deps.notifyChannel, { text })), fallbackReason: code };
    }
    postedNow = true;
    // Known before launch, so the ledger's launch record (written before anything else is posted)
    // and the locks' refusals can link to the thread.
    permalink = await slack.permalink(root.channel, root.ts);
    memo.update(run.runId, { root, ...(permalink ? { permalink } : {}) });
    if (deps.locks && locked.length)
      await deps.locks
        .noteThread(where, locked, { channel: root.channel, threadTs: root.ts, permalink })
        .catch((err: unknown) =>
          logger.warn('lock_thread_unrecorded', { runId: run.runId, error: describeError(err) }),
        );
  }

  let taskArn: string;
  try {
    taskArn = await launchRunner(
      deps.ecs,
      deps.launch,
      {
        runId: run.runId,
        ...run.command,
        // A longer drain needs SSM to let the script run longer too.
        ...(run.command.drainTimeoutSeconds !== undefined
          ? { executionTimeoutSeconds: executionTimeoutFor(run.command.drainTimeoutSeconds) }
          : {}),
        requestedBy: { iamUserName: run.iamUserName, slackUserId: run.slackUserId },
        slack: { channel: root.channel, threadTs: root.ts },
        commands: run.sent.commands,
        ...(run.sent.unreachable.length ? { unreachable: run.sent.unreachable.slice(0, 100) } : {}),
      },
      { clientToken: clientTokenFor(run.runId) },
    );
  } catch (err) {
    if (err instanceof RunnerLaunchError && err.kind === 'conflict') {
      // Another container launched this very run (and holds its locks): nothing to give back.
      logger.info('duplicate_launch_suppressed', { runId: run.runId });
      if (postedNow) await slack.remove(root.channel, root.ts).catch(() => undefined);
      return tell(alreadyLaunchedText(action));
    }
    // ECS errors name ARNs and the account: the details go to the log and to the person only; the
    // thread gets an error id to find them.
    const errorId = newErrorId();
    logger.error('launch_failed', { runId: run.runId, errorId, error: describeError(err) });
    await slack
      .post(root.channel, { text: launchFailedPublicText(action, errorId) }, root.ts)
      .catch(() => undefined);
    // A new message, so the prompt's Confirm stays: pressing it again retries with the same client
    // token and this thread root, so ECS returns the task if it did start.
    const failed = launchFailedText(action, describeError(err), errorId);
    return slack.tell(run.reply, {
      text: run.replacePrompt
        ? `${failed} Press Confirm again to launch it (nothing is sent twice).`
        : failed,
    });
  }

  const known = memo.get(run.runId);
  if (known?.taskArn === taskArn) {
    // The same container already finished this run (a repeat): nothing more to post.
    return tell(launchedText({ action, ...(known.permalink ? { permalink: known.permalink } : {}) }));
  }
  logger.info('run_launched', {
    runId: run.runId,
    taskArn,
    action,
    envPattern: run.command.envPattern,
    application: run.command.application,
    region: run.command.region,
    slackUserId: run.slackUserId,
    iamUser: run.iamUserName,
    instances: run.preview.totalInstances,
    thread: { channel: root.channel, ts: root.ts },
  });
  memo.update(run.runId, { taskArn });
  await deps.sendClaims
    .recordLaunched(run.runId, taskArn)
    .catch((err: unknown) =>
      logger.error('ledger_write_lost', { runId: run.runId, write: 'launched', error: describeError(err) }),
    );
  // In the ledger before anything more is posted: if Slack fails from here on, App Home still lists
  // the run with its Cancel.
  await recordLaunch(deps, run, { channel: root.channel, ts: root.ts, taskArn, permalink, locked });

  try {
    await slack
      .post(root.channel, { text: taskStartedText(taskArn, run.runId) }, root.ts)
      .catch((err: unknown) =>
        logger.warn('thread_reply_failed', { runId: run.runId, error: describeError(err) }),
      );
    if (root.channel !== deps.notifyChannel)
      await slack
        .post(deps.notifyChannel, {
          text: notificationText({
            ...run.command,
            slackUserId: run.slackUserId,
            ...(permalink ? { permalink } : {}),
          }),
        })
        .catch((err: unknown) =>
          logger.warn('notification_failed', { runId: run.runId, error: describeError(err) }),
        );
    await tell(
      launchedText({
        action,
        ...(permalink ? { permalink } : {}),
        ...(root.fallbackReason
          ? { fallbackChannel: root.channel, fallbackReason: root.fallbackReason }
          : {}),
      }),
    );
  } catch (err) {
    await tellLaunchedDespite(deps, run, taskArn, err);
  }
}

/**
 * Slack failed after the runner was launched: the person must not read "nothing was done". They get,
 * by direct message, that a runner is running, with its Cancel.
 */
async function tellLaunchedDespite(
  deps: WorkDeps,
  run: RunToStart,
  taskArn: string,
  err: unknown,
): Promise<void> {
  const errorId = newErrorId();
  deps.logger.error('post_launch_failed', { runId: run.runId, taskArn, errorId, error: describeError(err) });
  const cancel = cancelRunButtonValueSchema.safeParse({
    v: 1,
    runId: run.runId,
    action: run.command.action,
    envPattern: run.command.envPattern,
    application: run.command.application,
    region: run.command.region,
    taskArn,
  });
  const text = launchedDespiteText(run.command.action, run.runId, errorId);
  await deps.slack.post(run.slackUserId, {
    text,
    blocks: progressBlocks(text, cancel.success ? cancel.data : undefined),
  });
}

/**
 * The run in the ledger, right after RunTask and before anything else is posted. A conditional put:
 * a replayed launch, or a runner that wrote first, leaves the item as it is.
 */
async function recordLaunch(
  deps: WorkDeps,
  run: RunToStart,
  launched: {
    channel: string;
    ts: string;
    taskArn: string;
    permalink: string | undefined;
    locked: readonly string[];
  },
): Promise<void> {
  const { ledger, logger } = deps;
  if (!ledger) return;
  const item = launchedRunItem(
    {
      runId: run.runId,
      ...run.command,
      requestedBy: { iamUserName: run.iamUserName, slackUserId: run.slackUserId },
      slack: { channel: launched.channel, threadTs: launched.ts },
    },
    {
      taskArn: launched.taskArn,
      ...(launched.permalink ? { permalink: launched.permalink } : {}),
      locked: launched.locked,
      commandIds: run.sent.commands.map((c) => c.commandId),
      nowMs: deps.nowMs(),
    },
  );
  const result = await writeOrLog(logger, run.runId, 'launched', () => ledger.recordLaunch(item));
  if (result === 'exists') logger.info('ledger_run_exists', { runId: run.runId });
}
