import type { WebClient } from '@slack/web-api';
import { systemClock, type Clock } from './clock';
import { silentLogger, type Logger } from './log';
import type { Interruption, ProgressSnapshot, Reporter, RunPlan, RunSummary } from './reporter';
import type { RunRequest } from './request';
import { interruptedText, progressText, summaryText } from './summary';

/**
 * Reporter to Slack: a progress message in the run's thread (edited at most every
 * `minUpdateIntervalMs`), the summary in the thread, in the notification channel (with a link to
 * the thread) and as a DM to the requester. Every call is retried a few times, then logged and
 * dropped: Slack being down never stops or fails a drain. No thread (command-line runs): the
 * summary still goes to the notification channel and the DM.
 */

export interface SlackReporterOptions {
  /** Built by the caller with the bot token and `slackApiUrl`; never logged. */
  client: WebClient;
  request: RunRequest;
  notifyChannel?: string;
  minUpdateIntervalMs: number;
  clock?: Clock;
  log?: Logger;
  /** Waits between our own retries of a failed call (WebClient already retries 429s and network errors). */
  retryDelaysMs?: number[];
}

/** Errors another attempt cannot fix. */
const PERMANENT = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'no_text',
  'message_not_found',
  'cant_update_message',
  'user_not_found',
]);

const slackErrorCode = (err: unknown): string => {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e?.data?.error ?? e?.code ?? String(e?.message ?? err).slice(0, 200);
};

export class SlackReporter implements Reporter {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retryDelaysMs: number[];
  private readonly thread: RunRequest['slack'];
  private progressTs: string | undefined;
  private lastUpdateAt = -Infinity;
  private lastText = '';
  private inFlight: Promise<unknown> | undefined;
  private latest: ProgressSnapshot | undefined;

  constructor(private readonly opts: SlackReporterOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.retryDelaysMs = opts.retryDelaysMs ?? [1_000, 3_000, 10_000];
    this.thread = opts.request.slack;
  }

  async started(plan: RunPlan): Promise<void> {
    if (!this.thread) return;
    const snapshot: ProgressSnapshot = {
      request: plan.request,
      elapsedMs: 0,
      environments: plan.environments.map((e) => ({
        name: e.name,
        total: e.reachable + e.unreachable,
        done: e.unreachable,
        running: 0,
      })),
    };
    const text = progressText(snapshot);
    const res = await this.call('chat.postMessage', () =>
      this.opts.client.chat.postMessage({
        channel: this.thread!.channel,
        thread_ts: this.thread!.threadTs,
        text,
      }),
    );
    this.progressTs = res?.ts;
    this.lastText = text;
    this.lastUpdateAt = this.clock.now();
  }

  progress(snapshot: ProgressSnapshot): void {
    this.latest = snapshot;
    if (!this.progressTs || this.inFlight) return;
    if (this.clock.now() - this.lastUpdateAt < this.opts.minUpdateIntervalMs) return;
    void this.updateProgress(progressText(snapshot));
  }

  async finished(summary: RunSummary): Promise<void> {
    await this.settle();
    if (this.latest) await this.updateProgress(progressText(this.latest));
    const text = summaryText(summary);
    const permalink = await this.postInThreadAndLink(text);
    const elsewhere = permalink ? `${text}\n<${permalink}|Thread of this run>` : text;
    if (this.opts.notifyChannel)
      await this.call('chat.postMessage', () =>
        this.opts.client.chat.postMessage({ channel: this.opts.notifyChannel!, text: elsewhere }),
      );
    await this.directMessage(elsewhere);
  }

  async interrupted(i: Interruption): Promise<void> {
    await this.settle();
    this.latest = i.snapshot;
    if (this.progressTs) await this.updateProgress(progressText(i.snapshot));
    const text = interruptedText(i);
    const channel = this.thread?.channel ?? this.opts.notifyChannel;
    if (!channel) return;
    await this.call('chat.postMessage', () =>
      this.opts.client.chat.postMessage({
        channel,
        text,
        ...(this.thread ? { thread_ts: this.thread.threadTs } : {}),
      }),
    );
  }

  private async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private async updateProgress(text: string): Promise<void> {
    if (!this.progressTs || !this.thread || text === this.lastText) return;
    this.lastUpdateAt = this.clock.now();
    this.lastText = text;
    const ts = this.progressTs;
    const channel = this.thread.channel;
    const p = this.call('chat.update', () => this.opts.client.chat.update({ channel, ts, text }));
    this.inFlight = p;
    await p;
    if (this.inFlight === p) this.inFlight = undefined;
  }

  /** Posts `text` in the thread and returns the thread's permalink (for the channel and the DM). */
  private async postInThreadAndLink(text: string): Promise<string | undefined> {
    if (!this.thread) return undefined;
    const { channel, threadTs } = this.thread;
    await this.call('chat.postMessage', () =>
      this.opts.client.chat.postMessage({ channel, thread_ts: threadTs, text }),
    );
    const link = await this.call('chat.getPermalink', () =>
      this.opts.client.chat.getPermalink({ channel, message_ts: threadTs }),
    );
    return link?.permalink;
  }

  private async directMessage(text: string): Promise<void> {
    const user = this.opts.request.requestedBy.slackUserId;
    if (!user) return;
    const dm = await this.call('conversations.open', () =>
      this.opts.client.conversations.open({ users: user }),
    );
    const channel = dm?.channel?.id;
    if (!channel) return;
    await this.call('chat.postMessage', () => this.opts.client.chat.postMessage({ channel, text }));
  }

  /** One Slack call with retries; undefined when it finally failed (logged without any secret). */
  private async call<T>(method: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = slackErrorCode(err);
        const retry = attempt < this.retryDelaysMs.length && !PERMANENT.has(code);
        this.log(retry ? 'warn' : 'error', `Slack ${method} failed${retry ? ', retrying' : ', giving up'}`, {
          method,
          error: code,
          attempt: attempt + 1,
        });
        if (!retry) return undefined;
        await new Promise((r) => setTimeout(r, this.retryDelaysMs[attempt]));
      }
    }
  }
}
