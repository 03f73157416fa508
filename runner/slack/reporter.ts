import type { WebClient } from '@slack/web-api';
import { systemClock, type Clock } from '../drain/clock';
import { silentLogger, type Logger } from '../log';
import { describeSlackError } from './errors';
import type { Interruption, ProgressSnapshot, Reporter, RunPlan, RunSummary } from '../drain/reporter';
import type { RunRequest } from '../request';
import type { RunLinks } from './links';
import { cancelRunButtonValueSchema, type CancelRunButtonValue } from './buttons';
import {
  interruptedActions,
  interruptedText,
  progressBlocks,
  progressText,
  sectionBlocks,
  shortSummaryText,
  errorDetailsText,
  summaryActions,
  summaryReport,
  threadRootInterruptedText,
  threadRootOutcomeText,
} from './text';

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
  /**
   * The client for the interruption report, built by the caller without retries, with a short
   * request timeout and `rejectRateLimitedCalls` (a 429 is not waited out). Defaults to `client`.
   */
  interruptionClient?: WebClient;
  /** Wall-clock time the whole interruption report may take (Fargate SIGKILLs 120 s after SIGTERM at most). */
  interruptionBudgetMs?: number;
  /** The run's ECS task, logs and SSM commands in the AWS console. */
  links?: RunLinks;
  /** The runner's own ECS task: the progress message offers Cancel when it is known. */
  taskArn?: string;
}

export const DEFAULT_INTERRUPTION_BUDGET_MS = 20_000;

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

/**
 * Reporter to Slack: a progress message in the run's thread (edited at most every
 * `minUpdateIntervalMs`), the summary in the thread (with the complete list as a file when it does
 * not fit), the thread's first message updated with the outcome, and the headline with a link to
 * the thread in the notification channel and as a DM to the requester. Every call is retried a few
 * times, then logged and dropped: Slack being down never stops or fails a drain. No thread
 * (command-line runs): the notification channel (else the DM) takes the thread's place. The
 * interruption report (SIGTERM) is the exception: one quick attempt per call, within a wall-clock
 * budget (see interrupted).
 */
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
  /** Set once interrupted: calls still retrying stop retrying, the process is about to end. */
  private interrupting = false;
  /** The Cancel button's value while the run goes on; dropped once it is over. */
  private cancel: CancelRunButtonValue | undefined;

  constructor(private readonly opts: SlackReporterOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.retryDelaysMs = opts.retryDelaysMs ?? [1_000, 3_000, 10_000];
    this.thread = opts.request.slack;
    const r = opts.request;
    const cancel = cancelRunButtonValueSchema.safeParse({
      v: 1,
      runId: r.runId,
      action: r.action,
      envPattern: r.envPattern,
      application: r.application,
      region: r.region,
      taskArn: opts.taskArn,
    });
    this.cancel = cancel.success ? cancel.data : undefined;
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
        blocks: progressBlocks(text, this.cancel),
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
    this.cancel = undefined;
    if (this.latest) await this.updateProgress(progressText(this.latest), true);
    const report = summaryReport(summary, this.opts.links);
    const actions = summaryActions(summary);
    const message = {
      text: report.text,
      blocks: [...sectionBlocks(report.text), ...(actions ? [actions] : [])],
    };
    // The full report goes to one place (the thread; without one, the notification channel, else
    // the DM); the other places get the headline and a link to it.
    const dm = await this.directMessageChannel();
    const full: { channel: string; threadTs?: string } | undefined =
      this.thread ??
      (this.opts.notifyChannel ? { channel: this.opts.notifyChannel } : dm ? { channel: dm } : undefined);
    if (!full) return;
    const { threadTs } = full;
    const posted = await this.call('chat.postMessage', () =>
      this.opts.client.chat.postMessage({
        channel: full.channel,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...message,
      }),
    );
    if (report.file) {
      const { filename, title, content } = report.file;
      await this.call('files.uploadV2', () =>
        this.opts.client.filesUploadV2(
          threadTs
            ? { channel_id: full.channel, thread_ts: threadTs, filename, title, content }
            : { channel_id: full.channel, filename, title, content },
        ),
      );
    }
    if (this.thread)
      await this.call('chat.update', () =>
        this.opts.client.chat.update({
          channel: this.thread!.channel,
          ts: this.thread!.threadTs,
          text: threadRootOutcomeText(summary),
        }),
      );
    const linkTs = threadTs ?? posted?.ts;
    const link = linkTs
      ? (
          await this.call('chat.getPermalink', () =>
            this.opts.client.chat.getPermalink({ channel: full.channel, message_ts: linkTs }),
          )
        )?.permalink
      : undefined;
    const short = shortSummaryText(summary, link);
    if (this.opts.notifyChannel && full.channel !== this.opts.notifyChannel)
      await this.call('chat.postMessage', () =>
        this.opts.client.chat.postMessage({ channel: this.opts.notifyChannel!, text: short }),
      );
    if (dm && full.channel !== dm)
      await this.call('chat.postMessage', () =>
        this.opts.client.chat.postMessage({ channel: dm, text: short }),
      );
    // The AWS error behind an error id: only to the person who asked (and the log).
    const details = errorDetailsText(summary);
    if (dm && details)
      await this.call('chat.postMessage', () =>
        this.opts.client.chat.postMessage({ channel: dm, text: details }),
      );
  }

  /**
   * The task is being stopped: Fargate sends SIGKILL at the end of the stop timeout (120 s at most,
   * and the drain may have used some of it). So, unlike the other reports: no waiting for an edit
   * in flight, one attempt per call with the interruption client, the message people must see
   * first, and everything within `interruptionBudgetMs` of wall-clock time (Slack is real time,
   * whatever clock the drain runs on).
   */
  async interrupted(i: Interruption): Promise<void> {
    this.interrupting = true;
    this.cancel = undefined;
    this.latest = i.snapshot;
    const client = this.opts.interruptionClient ?? this.opts.client;
    const channel = this.thread?.channel ?? this.opts.notifyChannel;
    const budgetMs = this.opts.interruptionBudgetMs ?? DEFAULT_INTERRUPTION_BUDGET_MS;
    let overBudget = false;
    const report = async () => {
      if (channel)
        await this.callOnce('chat.postMessage', () =>
          client.chat.postMessage({
            channel,
            text: interruptedText(i, this.opts.links),
            blocks: [...sectionBlocks(interruptedText(i, this.opts.links)), interruptedActions(i)],
            ...(this.thread ? { thread_ts: this.thread.threadTs } : {}),
          }),
        );
      if (overBudget || !this.progressTs || !this.thread) return;
      const { channel: threadChannel } = this.thread;
      const ts = this.progressTs;
      await this.callOnce('chat.update', () =>
        client.chat.update({
          channel: threadChannel,
          ts,
          text: progressText(i.snapshot),
          blocks: progressBlocks(progressText(i.snapshot), undefined),
        }),
      );
      if (overBudget) return;
      await this.callOnce('chat.update', () =>
        client.chat.update({
          channel: threadChannel,
          ts: this.thread!.threadTs,
          text: threadRootInterruptedText(i),
        }),
      );
    };
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'over'>((resolve) => {
      timer = setTimeout(() => resolve('over'), budgetMs);
    });
    const result = await Promise.race([report().then(() => 'done' as const), budget]);
    clearTimeout(timer);
    if (result === 'over') {
      overBudget = true;
      this.log.error('Slack did not take the interruption report in time; giving up', { budgetMs });
    }
  }

  private async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  /** `final`: the last edit, which also takes the Cancel button away. */
  private async updateProgress(text: string, final = false): Promise<void> {
    if (!this.progressTs || !this.thread || (text === this.lastText && !final)) return;
    this.lastUpdateAt = this.clock.now();
    this.lastText = text;
    const ts = this.progressTs;
    const channel = this.thread.channel;
    const blocks = progressBlocks(text, this.cancel);
    const p = this.call('chat.update', () => this.opts.client.chat.update({ channel, ts, text, blocks }));
    this.inFlight = p;
    await p;
    if (this.inFlight === p) this.inFlight = undefined;
  }

  /** The requester's DM channel, when there is a requester Slack knows. */
  private async directMessageChannel(): Promise<string | undefined> {
    const user = this.opts.request.requestedBy.slackUserId;
    if (!user) return undefined;
    const dm = await this.call('conversations.open', () =>
      this.opts.client.conversations.open({ users: user }),
    );
    return dm?.channel?.id;
  }

  /** One attempt, for the interruption: a failure is logged (without any secret) and dropped. */
  private async callOnce<T>(method: string, fn: () => Promise<T>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error(`Slack ${method} failed, giving up (interrupted: no retry)`, {
        method,
        error: describeSlackError(err),
      });
    }
  }

  /** One Slack call with retries; undefined when it finally failed (logged without any secret). */
  private async call<T>(method: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = describeSlackError(err);
        // Once interrupted, the process is about to exit: retrying would only compete with the report.
        const retry = attempt < this.retryDelaysMs.length && !PERMANENT.has(code) && !this.interrupting;
        this.log[retry ? 'warn' : 'error'](`Slack ${method} failed${retry ? ', retrying' : ', giving up'}`, {
          method,
          error: code,
          attempt: attempt + 1,
        });
        if (!retry) return undefined;
        await new Promise((r) => setTimeout(r, this.retryDelaysMs[attempt]));
        if (this.interrupting) return undefined;
      }
    }
  }
}
