import type { types } from '@slack/bolt';
import { escapeMrkdwn } from '../../runner/slack/mrkdwn';
import type { Action } from '../../ssm/actions';
import { CANCEL_ACTION_ID, CONFIRM_ACTION_ID, type ButtonValue } from './buttons';
import type { TargetPreview } from '../../runner/aws/environments';
import { DEFAULT_DRAIN_TIMEOUT_SECONDS } from '../../runner/request';
import { formatDuration } from '../../runner/slack/text';
import type { AuthorizationDecision } from '../auth/rules';
import { MAX_PROMPT_ENVIRONMENTS, type BindingChange } from '../deferred/preview-binding';

// Every Slack message the bot writes (Block Kit and text). Pure.

/** A message as the bot sends it: the text, and its Block Kit blocks when it has any. */
export interface SlackMessage {
  text: string;
  blocks?: types.KnownBlock[];
}

export { escapeMrkdwn };

const EXPLAIN: Record<Action, string> = {
  quiet:
    'Every Sidekiq process stops taking new jobs and finishes the ones it is running; I wait until all are idle. ' +
    'Nothing is shut down; queued jobs stay in Redis. `wake` brings them back.',
  stop:
    'Every Sidekiq process stops taking new jobs, finishes the ones it is running, then is shut down ' +
    '(its systemd unit stopped, or TERM). Nothing is killed while busy; workers stay down until `wake`.',
  wake: 'Quiet or stopped Sidekiq processes that are idle are restarted; workers already awake are left alone.',
  status: 'Reports whether every Sidekiq process is busy or quiet. Changes nothing.',
};

/** How the targets read: `=a,b` names environments exactly; anything else is part of a name. */
const selected = (envPattern: string) =>
  envPattern.startsWith('=')
    ? `named exactly \`${envPattern.slice(1).split(',').join('`, `')}\``
    : `whose name contains \`${envPattern}\``;

export const where = (t: { envPattern: string; application: string; region: string }) =>
  `environments of *${escapeMrkdwn(t.application)}* in *${t.region}* ${selected(t.envPattern)}`;

const MAX_LISTED = 20;

export function previewLines(preview: TargetPreview): string {
  const listed = preview.environments
    .slice(0, MAX_LISTED)
    .map(
      (e) =>
        `• \`${escapeMrkdwn(e.name)}\`: ${plural(e.instanceCount, 'instance')}${e.status === 'Ready' ? '' : ` (${escapeMrkdwn(e.status)})`}`,
    );
  const more = preview.environments.length - MAX_LISTED;
  if (more > 0) listed.push(`• …and ${plural(more, 'more environment')}`);
  return listed.join('\n');
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const summary = (preview: TargetPreview) =>
  `${plural(preview.environments.length, 'environment')}, ${plural(preview.totalInstances, 'instance')}`;

/**
 * The ephemeral prompt: what will happen, on what, with Confirm (danger + dialog for stop) and Cancel.
 * `sealed`: the buttons' signed value (buttons.ts).
 */
export function confirmationPrompt(
  value: ButtonValue,
  preview: TargetPreview,
  sealed: string | undefined,
  change?: BindingChange,
): SlackMessage {
  const isStop = value.action === 'stop';
  const changed = change
    ? [
        {
          type: 'section' as const,
          text: { type: 'mrkdwn' as const, text: changedText(value.action, change, sealed !== undefined) },
        },
      ]
    : [];
  if (sealed === undefined)
    return {
      text: changedText(value.action, change ?? { added: [], gone: [], changed: [] }, false),
      blocks: changed,
    };
  const only = value.instanceIds
    ? `\n*Retry on only these ${plural(value.instanceIds.length, 'instance')}:* ${value.instanceIds.map((id) => `\`${id}\``).join(', ')}`
    : '';
  const timeout =
    value.action === 'quiet' || value.action === 'stop'
      ? `\nDrain timeout: *${formatDuration((value.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS) * 1000)}* (workers still busy then are left running and reported; nothing is killed).`
      : '';
  const header = `*${value.action}* on ${where(value)}?${only}${timeout}`;
  return {
    text: `Confirm ${value.action} on ${escapeMrkdwn(value.application)} (${value.region}): ${summary(preview)}`,
    blocks: [
      ...changed,
      { type: 'section', text: { type: 'mrkdwn', text: `${header}\n${EXPLAIN[value.action]}` } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*Targets* (${summary(preview)}):\n${previewLines(preview)}` },
      },
      {
        type: 'actions',
        block_id: 'snowwhite_confirmation',
        elements: [
          {
            type: 'button',
            action_id: CONFIRM_ACTION_ID,
            text: { type: 'plain_text', text: `Confirm ${value.action}` },
            style: isStop ? 'danger' : 'primary',
            value: sealed,
            ...(isStop
              ? {
                  confirm: {
                    title: { type: 'plain_text', text: 'Stop Sidekiq workers?' },
                    text: {
                      type: 'mrkdwn',
                      text: `This shuts down the Sidekiq workers on ${summary(preview)}. They stay down until someone runs \`wake\`.`,
                    },
                    confirm: { type: 'plain_text', text: 'Stop them' },
                    deny: { type: 'plain_text', text: 'Keep them running' },
                    style: 'danger',
                  },
                }
              : {}),
          },
          {
            type: 'button',
            action_id: CANCEL_ACTION_ID,
            text: { type: 'plain_text', text: 'Cancel' },
            value: sealed,
          },
        ],
      },
    ],
  };
}

/** What changed between a prompt and its Confirm: nothing was done; a new prompt follows (or not). */
export function changedText(action: Action, change: BindingChange, newPrompt: boolean): string {
  const parts = [
    ...change.added.map((name) => `environment \`${escapeMrkdwn(name)}\` added`),
    ...change.gone.map((id) => `environment \`${escapeMrkdwn(id)}\` gone`),
    ...change.changed.map(
      (c) =>
        `instances of \`${escapeMrkdwn(c.name)}\` changed (${c.before} → ${c.after}${c.before === c.after ? ', replaced' : ''})`,
    ),
  ];
  const listed = parts.slice(0, MAX_LISTED).map((p) => `• ${p}`);
  if (parts.length > MAX_LISTED) listed.push(`• …and ${parts.length - MAX_LISTED} more changes`);
  return (
    `:warning: The targets changed since the prompt, so \`${action}\` was not done on anything:\n${listed.join('\n')}\n` +
    (newPrompt
      ? 'Here they are as they are now; confirm again if this is still what you want.'
      : 'Run the command again to see them as they are now.')
  );
}

/** A prompt's Confirm is bound to the environments it shows, and the button value holds so many. */
export const tooManyEnvironmentsText = (
  t: { action: Action; envPattern: string; application: string; region: string },
  count: number,
) =>
  `:x: \`${t.envPattern}\` matches ${count} environments of *${escapeMrkdwn(t.application)}* in ${t.region}; one prompt can hold at most ${MAX_PROMPT_ENVIRONMENTS}. Narrow the pattern (or name environments exactly). Nothing was launched.`;

/** A Retry whose instances are none of the matched environments' any more (replaced, scaled in). */
export const instancesGoneText = (action: Action) =>
  `Nothing to ${action}: none of the instances to retry is in the matched environments any more. Nothing was launched.`;

export const noTargetsText = (t: {
  action: Action;
  envPattern: string;
  application: string;
  region: string;
}) =>
  `Nothing to ${t.action}: no running environment of *${escapeMrkdwn(t.application)}* in *${t.region}* ${t.envPattern.startsWith('=') ? `is ${selected(t.envPattern)}` : `has a name containing \`${t.envPattern}\``}. Nothing was launched.`;

export const cancelledText = (t: { action: Action; application: string; region: string }) =>
  `Cancelled: \`${t.action}\` on *${escapeMrkdwn(t.application)}* (${t.region}) was not launched.`;

export function threadRootText(r: {
  slackUserId: string;
  iamUserName: string;
  action: Action;
  envPattern: string;
  application: string;
  region: string;
  preview: TargetPreview;
}): string {
  return (
    `:mirror: <@${r.slackUserId}> (IAM user \`${escapeMrkdwn(r.iamUserName)}\`) started *${r.action}* on ${where(r)}: ` +
    `${summary(r.preview)}.\n${previewLines(r.preview)}\nProgress and results follow in this thread.`
  );
}

export const taskStartedText = (taskArn: string, runId: string) =>
  `Runner task started: \`${escapeMrkdwn(taskArn)}\` (run \`${runId}\`).`;

export const notificationText = (r: {
  slackUserId: string;
  action: Action;
  application: string;
  region: string;
  permalink?: string;
}) =>
  `<@${r.slackUserId}> started *${r.action}* on *${escapeMrkdwn(r.application)}* (${r.region})` +
  (r.permalink ? `: <${r.permalink}|follow the thread>` : '.');

export function launchedText(r: {
  action: Action;
  permalink?: string;
  fallbackChannel?: string;
  fallbackReason?: string;
}): string {
  const follow = r.permalink ? `<${r.permalink}|this thread>` : 'the thread';
  const fallback = r.fallbackChannel
    ? ` I cannot post in this channel (${escapeMrkdwn(r.fallbackReason ?? 'no access')}), so the thread is in <#${r.fallbackChannel}>.`
    : '';
  return `:white_check_mark: \`${r.action}\` launched. Follow it in ${follow}.${fallback}`;
}

/** A status on more instances than the bot polls itself: a runner answers, in a thread. */
export const statusByRunnerText = (instances: number, bound: number) =>
  `:mag: ${plural(instances, 'instance')} is more than I check myself (${bound}): a runner reports the status in a thread; I post its link in a moment.`;

export const alreadyStartingText = (action: Action) =>
  `\`${action}\` is already being started from this prompt (an earlier click); nothing more was sent.`;

/** Every confirmed instance is out of SSM's reach: nothing was sent, no runner. */
export function nothingReachableText(
  action: Action,
  unreachable: readonly { instanceId: string; environment: string; reason: string }[],
): string {
  const listed = unreachable
    .slice(0, MAX_LISTED)
    .map((u) => `• \`${u.instanceId}\` (${escapeMrkdwn(u.environment)}): ${escapeMrkdwn(u.reason)}`);
  if (unreachable.length > MAX_LISTED) listed.push(`• …and ${unreachable.length - MAX_LISTED} more`);
  return `:no_entry_sign: Nothing to ${action}: no instance of the confirmed environments is reachable by SSM, so no command was sent.\n${listed.join('\n')}`;
}

/** SendCommand failed before any command started (refused, invalid document, SSM down). */
export const sendFailedText = (action: Action, reason: string, errorId: string, fromPrompt: boolean) =>
  `:x: Could not send \`${action}\` to the instances: ${reason} (error id \`${errorId}\`). No command was sent${fromPrompt ? '; press Confirm again to retry' : ''}.`;

export const alreadyLaunchedText = (action: Action) =>
  `\`${action}\` was already launched from this prompt (an earlier click); nothing more was started.`;

/**
 * For the person who asked (ephemeral): the reason, escaped, and the error id. The commands are
 * already out by then: the instances act; only the runner that reports on them did not start.
 */
export const launchFailedText = (action: Action, reason: string, errorId: string) =>
  `:x: Could not launch the runner that follows \`${action}\`: ${escapeMrkdwn(reason)} (error id \`${errorId}\`). The SSM commands were already sent and run on the instances; only the report is missing.`;

/** For the thread everyone reads: no AWS error text (ARNs, account ids), only the error id. */
export const launchFailedPublicText = (action: Action, errorId: string) =>
  `:x: The \`${action}\` commands were sent to the instances, but the runner that reports on them could not be launched. Error id \`${errorId}\` (the logs and the person who asked have the details).`;

/** What the refused person reads; the detail carries names from IAM and Elastic Beanstalk, escaped. */
export function refusalText(decision: AuthorizationDecision & { allowed: false }, action: Action): string {
  const detail = escapeMrkdwn(decision.detail);
  switch (decision.reason) {
    case 'region_not_served':
      return `:x: ${detail}. Nothing was launched.`;
    case 'no_iam_user':
      return `:no_entry: You may not run \`${action}\`: ${detail}. Ask an AWS administrator to tag your IAM user.`;
    case 'several_iam_users':
      return `:no_entry: You may not run \`${action}\`: ${detail}. Ask an AWS administrator to remove the extra tags.`;
    case 'not_allowed':
    case 'missing_context': {
      const envs = decision.deniedEnvironments ?? [];
      const head = envs.length
        ? `:no_entry: You may not run \`${action}\` on ${envs.map((e) => `\`${escapeMrkdwn(e)}\``).join(', ')}`
        : `:no_entry: You may not run \`${action}\``;
      const narrow = envs.length ? ' Narrow the pattern to the environments you may act on.' : '';
      return `${head}: ${detail}.${narrow} Nothing was launched.`;
    }
    case 'iam_error':
      return `:warning: Could not check whether you may run \`${action}\` (${detail}). Nothing was launched; try again in a minute.`;
  }
}
