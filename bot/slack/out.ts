import type { types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { describeError, type Logger } from '../../runner/log';
import type { SlackMessage } from './messages';

type HomeView = types.HomeView;

export interface ReplyTarget {
  /** Absent for clicks in App Home: the answer is then a direct message in `channelId` (the user's id). */
  responseUrl?: string | undefined;
  channelId: string;
  slackUserId: string;
}

/** chat.postMessage errors meaning "the bot cannot post here", not "Slack is broken". */
export const CANNOT_POST_HERE = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_access_not_granted',
  'cannot_dm_bot',
  'messages_tab_disabled',
]);

export interface SlackOut {
  /** Ephemeral answer to the person; `replace` overwrites the message that carried the buttons. */
  tell(target: ReplyTarget, message: SlackMessage, options?: { replace?: boolean }): Promise<void>;
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }>;
  permalink(channel: string, ts: string): Promise<string | undefined>;
  remove(channel: string, ts: string): Promise<void>;
  /** The person's App Home tab. */
  publishHome(userId: string, view: HomeView): Promise<void>;
}

/**
 * Everything the bot sends to Slack after the acknowledgement: ephemeral answers through the
 * `response_url` (works in any channel, even where the bot is not a member; falls back to
 * chat.postEphemeral), and public messages through the Web API.
 */
export function createSlackOut(deps: { web: WebClient; logger: Logger; fetch?: typeof fetch }): SlackOut {
  const { web, logger } = deps;
  const doFetch = deps.fetch ?? fetch;
  return {
    async tell(target, message, options = {}) {
      if (!target.responseUrl) {
        await web.chat.postMessage({ channel: target.channelId, ...message, unfurl_links: false });
        return;
      }
      const body = options.replace
        ? { ...message, replace_original: true }
        : { ...message, response_type: 'ephemeral', replace_original: false };
      try {
        const res = await doFetch(target.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5_000),
        });
        if (res.ok) return;
        logger.warn('response_url_failed', { status: res.status });
      } catch (err) {
        logger.warn('response_url_failed', { error: describeError(err) });
      }
      // A response_url takes 5 posts in 30 minutes; after that, an ephemeral message still reaches the
      // person where the bot is a member.
      await web.chat.postEphemeral({ channel: target.channelId, user: target.slackUserId, ...message });
    },
    async post(channel, message, threadTs) {
      const res = await web.chat.postMessage({
        channel,
        ...message,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
      });
      if (!res.ts || !res.channel) throw new Error('chat.postMessage returned no ts');
      return { channel: res.channel, ts: res.ts };
    },
    async permalink(channel, ts) {
      try {
        return (await web.chat.getPermalink({ channel, message_ts: ts })).permalink;
      } catch (err) {
        logger.warn('permalink_failed', { error: describeError(err) });
        return undefined;
      }
    },
    async remove(channel, ts) {
      await web.chat.delete({ channel, ts });
    },
    async publishHome(userId, view) {
      await web.views.publish({ user_id: userId, view });
    },
  };
}
