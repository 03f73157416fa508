import { createServer, type Server } from 'node:http';
import { createLogger } from '../../runner/log';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import type { ProgressSnapshot } from '../../runner/drain/reporter';
import { interruptionSlackClient } from '../../runner/main';
import type { RunRequestInput } from '../../runner/request';
import { SlackReporter, type SlackReporterOptions } from '../../runner/slack/reporter';
import { FakeSlack } from '../support/fake-slack';
import { runRequest, runRequestInput } from '../support/run-request';
import { simulatedFleet } from './support/simulated-fleet';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start();
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const ROOT_TS = '1690000000.000001';
const base = runRequestInput({ slack: { channel: 'C0OPS', threadTs: ROOT_TS } });

function reporter(
  input: RunRequestInput = base,
  notifyChannel?: string,
  extra: Partial<SlackReporterOptions> = {},
) {
  let now = 0;
  const logs: string[] = [];
  const request = runRequest(input);
  const r = new SlackReporter({
    client: new WebClient('xoxb-reporter-secret', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
    request,
    ...(notifyChannel ? { notifyChannel } : {}),
    minUpdateIntervalMs: 5_000,
    clock: { now: () => now, sleep: async () => undefined },
    log: createLogger({ write: (line) => logs.push(line) }),
    retryDelaysMs: [5, 5],
    ...extra,
  });
  const snap = (done: number): ProgressSnapshot => ({
    request,
    elapsedMs: now,
    environments: [{ name: 'workers-a', total: 10, done, running: 10 - done }],
  });
  return { r, snap, logs, request, advance: (ms: number) => (now += ms) };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('SlackReporter', () => {
  it('edits the progress message at most once per interval, and flushes the latest state at the end', async () => {
    const t = reporter();
    await t.r.started({
      request: t.request,
      environments: [{ name: 'workers-a', reachable: 10, unreachable: 0 }],
    });
    for (let done = 1; done <= 9; done++) {
      t.advance(1_000); // nine changes in nine seconds
      t.r.progress(t.snap(done));
      await settle();
    }
    const updates = slack.callsOf('chat.update');
    expect(updates).toHaveLength(1); // at t=5s; t=1..4 and 6..9 are inside the interval
    expect(updates[0]!.args).toMatchObject({ channel: 'C0OPS', ts: '1700000000.000001' });
    expect(String(updates[0]!.args.text)).toContain('5/10 instances done');

    await t.r.finished({ request: t.request, exitCode: 0, elapsedMs: 9_000, outcomes: [], commandIds: [] });
    const progressEdits = slack.callsOf('chat.update').filter((c) => c.args.ts !== ROOT_TS);
    expect(String(progressEdits.at(-1)!.args.text)).toContain('9/10 instances done');
  });

  it('waits out a 429 from Slack (Retry-After) and still posts', async () => {
    slack.rateLimitNext('chat.postMessage', 1);
    const t = reporter();
    await t.r.started({ request: t.request, environments: [{ name: 'w', reachable: 1, unreachable: 0 }] });
    expect(slack.callsOf('chat.postMessage')).toHaveLength(2);
    // The progress message exists, so later progress edits it.
    t.advance(10_000);
    t.r.progress(t.snap(3));
    await settle();
    expect(slack.callsOf('chat.update')).toHaveLength(1);
  });

  it('gives up after its retries without throwing, and logs the Slack error code only', async () => {
    slack.failNext('chat.postMessage', 'internal_error', 10);
    const t = reporter();
    await expect(
      t.r.started({ request: t.request, environments: [{ name: 'w', reachable: 1, unreachable: 0 }] }),
    ).resolves.toBeUndefined();
    expect(slack.callsOf('chat.postMessage')).toHaveLength(3);
    expect(t.logs.filter((l) => l.includes('internal_error'))).toHaveLength(3);
    expect(t.logs.join('\n')).not.toContain('reporter-secret');
    // No progress message: progress is a no-op rather than an error.
    t.advance(10_000);
    t.r.progress(t.snap(1));
    await settle();
    expect(slack.callsOf('chat.update')).toHaveLength(0);
  });

  it('posts the interruption in the thread, or in the notification channel when there is no thread', async () => {
    const inThread = reporter();
    await inThread.r.interrupted({
      request: inThread.request,
      commandIds: ['c-1'],
      snapshot: inThread.snap(2),
    });
    expect(slack.callsOf('chat.postMessage')[0]!.args).toMatchObject({
      channel: 'C0OPS',
      thread_ts: ROOT_TS,
    });

    slack.reset();
    const noThread = reporter({ ...base, slack: undefined }, 'C0NOTE');
    await noThread.r.interrupted({
      request: noThread.request,
      commandIds: ['c-1'],
      snapshot: noThread.snap(2),
    });
    const [post] = slack.callsOf('chat.postMessage');
    expect(post!.args.channel).toBe('C0NOTE');
    expect(post!.args.thread_ts).toBeUndefined();
    expect(String(post!.args.text)).toContain('`c-1`');
  });

  it('at 1,000 instances: messages under 4,000 characters, the full list as a file in the thread, the root updated', async () => {
    const t = reporter(base, 'C0NOTE');
    const outcomes = simulatedFleet(1_000, 20);
    await t.r.finished({
      request: t.request,
      exitCode: 1,
      elapsedMs: 754_000,
      outcomes,
      commandIds: ['cmd-1'],
    });

    for (const post of slack.callsOf('chat.postMessage')) {
      expect(String(post.args.text).length).toBeLessThan(4_000);
      for (const block of (post.args.blocks ?? []) as Array<{ text?: { text: string } }>)
        expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3_000);
    }
    const [summary, ...others] = slack.callsOf('chat.postMessage');
    expect(summary!.args).toMatchObject({ channel: 'C0OPS', thread_ts: ROOT_TS });
    // Slack's upload flow: ask for a URL, send the bytes there, complete into the thread.
    const [ask] = slack.callsOf('files.getUploadURLExternal');
    expect(ask!.args).toMatchObject({ filename: 'snowwhite-run-1.txt' });
    const complete = slack.callsOf('files.completeUploadExternal')[0]!.args;
    expect(complete).toMatchObject({ channel_id: 'C0OPS', thread_ts: ROOT_TS });
    const file = slack.uploads.get((complete.files as Array<{ id: string }>)[0]!.id)!;
    expect(file).toContain('Snow White run run-1');
    const text = String(summary!.args.text);
    for (const o of outcomes) {
      expect(file).toContain(o.instanceId);
      if (o.kind !== 'drained') expect(text.includes(o.instanceId) || file.includes(o.instanceId)).toBe(true);
    }
    expect(text).not.toMatch(/<!channel>|<https:\/\/evil/);
    // What to do next, under the summary.
    const actions = (
      summary!.args.blocks as Array<{ type: string; elements?: Array<{ text: { text: string } }> }>
    ).at(-1)!;
    expect(actions.elements!.map((b) => b.text.text)).toEqual(['Wake', 'Retry', 'Status']);
    // The thread's first message tells the outcome; the channel and the DM get the headline and a link.
    const root = slack.callsOf('chat.update').find((c) => c.args.ts === ROOT_TS)!;
    expect(String(root.args.text)).toMatch(
      /^:x: <@U0ALICE> ran \*quiet\* .* — done: 960 drained, .* · 12m 34s$/,
    );
    expect(others.map((c) => c.args.channel)).toEqual(['C0NOTE', 'D0ALICE']);
    for (const c of others) {
      expect(String(c.args.text).split('\n')).toHaveLength(2);
      expect(String(c.args.text)).toMatch(/\|Thread of this run>$/);
    }
  });

  it('at 10 instances: everything inline, no file', async () => {
    const t = reporter(base, 'C0NOTE');
    const outcomes = simulatedFleet(10, 2);
    await t.r.finished({
      request: t.request,
      exitCode: 0,
      elapsedMs: 60_000,
      outcomes,
      commandIds: ['cmd-1'],
    });
    expect(slack.callsOf('files.getUploadURLExternal')).toHaveLength(0);
    const text = String(slack.callsOf('chat.postMessage')[0]!.args.text);
    for (const o of outcomes) expect(text).toContain(o.instanceId);
  });

  describe('when interrupted (Fargate SIGKILLs soon after SIGTERM)', () => {
    const interruption = (t: ReturnType<typeof reporter>) => ({
      request: t.request,
      commandIds: ['c-1'],
      snapshot: t.snap(2),
    });

    it('makes one attempt per call: the interruption post first, then the progress edit', async () => {
      const t = reporter(base, undefined, { retryDelaysMs: [1_000, 3_000, 10_000] });
      await t.r.started({ request: t.request, environments: [{ name: 'w', reachable: 10, unreachable: 0 }] });
      slack.reset();
      slack.failNext('chat.postMessage', 'internal_error', 1);
      const started = Date.now();
      await t.r.interrupted(interruption(t));
      expect(Date.now() - started).toBeLessThan(900);
      // The post, the progress edit, then the thread's first message.
      expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.update']);
      expect(slack.calls[2]!.args).toMatchObject({ ts: ROOT_TS });
      expect(String(slack.calls[2]!.args.text)).toMatch(/^:warning: .* interrupted after/);
      expect(t.logs.some((l) => l.includes('interrupted: no retry') && l.includes('internal_error'))).toBe(
        true,
      );
    }, 10_000);

    it('does not wait out a 429 (Retry-After) with the interruption client', async () => {
      const t = reporter(base, undefined, {
        interruptionClient: interruptionSlackClient('xoxb-reporter-secret', slack.apiUrl),
      });
      slack.rateLimitNext('chat.postMessage', 30);
      const started = Date.now();
      await t.r.interrupted(interruption(t));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
    }, 10_000);

    it('does not wait for a progress edit that is retrying, and stops its retries', async () => {
      const t = reporter(base, undefined, { retryDelaysMs: [2_000, 2_000] });
      await t.r.started({ request: t.request, environments: [{ name: 'w', reachable: 10, unreachable: 0 }] });
      slack.failNext('chat.update', 'internal_error', 3);
      t.advance(10_000);
      t.r.progress(t.snap(1)); // fails, then waits 2 s before retrying
      await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.update'));
      const started = Date.now();
      await t.r.interrupted(interruption(t));
      expect(Date.now() - started).toBeLessThan(900);
      expect(String(slack.callsOf('chat.postMessage').at(-1)!.args.text)).toContain('interrupted');
      await new Promise((r) => setTimeout(r, 2_300));
      // Once interrupted, the old edit is not retried over the newer one.
      expect(slack.callsOf('chat.update').filter((c) => c.args.ts !== ROOT_TS)).toHaveLength(2);
    }, 10_000);

    it('gives up within its wall-clock budget when Slack does not answer at all', async () => {
      const silent: Server = createServer(() => undefined); // takes the request, never answers
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/`;
      try {
        const hung = new WebClient('xoxb-reporter-secret', {
          slackApiUrl: url,
          retryConfig: { retries: 0 },
          logLevel: LogLevel.ERROR,
        });
        const t = reporter(base, undefined, { client: hung, interruptionBudgetMs: 300 });
        const started = Date.now();
        await t.r.interrupted(interruption(t));
        expect(Date.now() - started).toBeLessThan(1_500);
        expect(t.logs.some((l) => l.includes('did not take the interruption report in time'))).toBe(true);
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    }, 10_000);
  });
});
