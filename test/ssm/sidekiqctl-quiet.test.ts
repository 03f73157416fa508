/**
 * ssm/sidekiqctl.sh quiet/status against real Redis and real Sidekiq 6.4.1, each scenario in its own
 * PID namespace (see test/support/sidekiq-host.ts), so jest workers never see each other's Sidekiqs.
 */
import { SidekiqHost, cleanupAllHosts, type Shell } from '../support/sidekiq-host';

const BEAT = 0.5; // short heartbeat where the real 5 s is not the point
const FAST = ['--heartbeat', String(BEAT)];

afterAll(cleanupAllHosts);

describe('quiet with the real 5 s heartbeat', () => {
  test('in-flight jobs finish, queued ones stay queued, exit 0 with the JSON', async () => {
    const host = await SidekiqHost.start();
    try {
      const sk = await host.startSidekiq({ concurrency: 2 });
      // 6 s jobs: at least one 5 s heartbeat falls while they run.
      await host.enqueue(6, 5);
      await host.waitForRunning(2);
      const r = await host.runScript(['quiet', '--timeout', '60']);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(r.json).toEqual({
        action: 'quiet',
        result: 'drained',
        elapsed_seconds: expect.any(Number),
        processes: [{ pid: sk.pid, version: '6.4.1', tag: '', busy: 0, concurrency: 2, quiet: true }],
      });
      // Both in-flight jobs had to finish before the script could say drained.
      const acc = await host.accounting();
      expect(acc).toMatchObject({ enqueued: 5, completed: 2, queued: 3, running: 0, lost: 0 });
      expect(host.isLive(sk.pid)).toBe(true);
      expect(r.stderr).toMatch(/pid \d+ \(sidekiq 6\.4\.1\): 2 of 2 busy, quiet/);
      // It waited for the 6 s jobs, whatever the title from before TSTP said.
      expect(r.seconds).toBeGreaterThan(5);
      // Sidekiq is quiet: the queued jobs are still there a heartbeat later.
      await new Promise((res) => setTimeout(res, 1500));
      expect(await host.accounting()).toMatchObject({ completed: 2, queued: 3, lost: 0 });
    } finally {
      await host.cleanup();
    }
  }, 90_000);
});

describe('quiet: deadline', () => {
  test('exit 2 after about --timeout seconds; the process and its job keep running', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 2 });
      await host.enqueue(30, 1);
      await host.waitForRunning(1);
      const r = await host.runScript(['quiet', '--timeout', '3', ...FAST]);
      expect(r.code).toBe(2);
      expect(r.seconds).toBeGreaterThan(2.9);
      expect(r.seconds).toBeLessThan(5);
      expect(r.json).toMatchObject({
        action: 'quiet',
        result: 'timeout',
        processes: [{ pid: sk.pid, busy: 1, quiet: true }],
      });
      expect(r.stderr).toMatch(/nothing was killed/);
      expect(host.isLive(sk.pid)).toBe(true);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });
});

describe('no Sidekiq, bad flags', () => {
  let host: SidekiqHost;
  beforeAll(async () => {
    host = await SidekiqHost.start({ heartbeat: BEAT }); // Redis only
  });
  afterAll(() => host.cleanup());

  test.each([['quiet'], ['stop'], ['status'], ['wake']])('%s with no Sidekiq: exit 3', async (action) => {
    const r = await host.runScript([action]);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ action, result: 'no_sidekiq', processes: [] });
  });

  test.each([
    [[], ''],
    [['drain'], ''],
    [['quiet', '--bogus'], 'quiet'],
    [['quiet', '--timeout'], 'quiet'],
    [['quiet', '--timeout', 'soon'], 'quiet'],
    [['quiet', '--poll', '0'], 'quiet'],
    [['status', '--force'], 'status'],
    [['quiet', '--service', 'sidekiq'], 'quiet'],
    [['quiet', '--match', '('], 'quiet'],
  ])('%j: exit 64 and a usage line', async (args, action) => {
    const r = await host.runScript(args);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^usage: sidekiqctl\.sh quiet\|stop\|wake\|status/m);
    expect(r.json).toMatchObject({ action, result: 'usage' });
  });
});

describe('two processes on one host', () => {
  test('--match selects; status changes nothing; quiet then takes both', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const a = await host.startSidekiq({ concurrency: 2, tag: 'alpha' });
      const b = await host.startSidekiq({ concurrency: 3, tag: 'beta team' });
      const before = await host.runScript(['status']);
      expect(before.code).toBe(0);
      expect(before.json?.processes.sort((x, y) => x.pid - y.pid)).toEqual([
        { pid: a.pid, version: '6.4.1', tag: 'alpha', busy: 0, concurrency: 2, quiet: false },
        { pid: b.pid, version: '6.4.1', tag: 'beta team', busy: 0, concurrency: 3, quiet: false },
      ]);

      const r = await host.runScript(['quiet', '--match', ' alpha \\[', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json?.processes.map((p) => [p.pid, p.quiet])).toEqual([[a.pid, true]]);
      // beta is untouched: it still takes jobs.
      await host.enqueue(0.1, 3);
      await host.waitForCompleted(3);
      const after = await host.runScript(['status', '--match', 'beta']);
      expect(after.json?.processes).toEqual([expect.objectContaining({ pid: b.pid, quiet: false })]);

      const all = await host.runScript(['quiet', '--timeout', '30', ...FAST]);
      expect(all.code).toBe(0);
      expect(all.json?.processes.map((p) => p.quiet)).toEqual([true, true]);
      expect(await host.accounting()).toMatchObject({ lost: 0 });
    } finally {
      await host.cleanup();
    }
  });
});

describe.each<Shell>(['dash', 'busybox', 'bash'])('under %s', (shell) => {
  test('quiet drains jobs in flight, status reports, --match no match exits 3', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 2, tag: 'x"y\\z' });
      await host.enqueue(1.5, 3);
      await host.waitForRunning(2);
      const r = await host.runScript(['quiet', '--timeout', '30', ...FAST], { shell });
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({
        result: 'drained',
        processes: [{ pid: sk.pid, tag: 'x"y\\z', busy: 0, quiet: true }],
      });
      expect(await host.accounting()).toMatchObject({ completed: 2, queued: 1, running: 0, lost: 0 });
      const s = await host.runScript(['status'], { shell });
      expect(s.json).toMatchObject({ result: 'status', processes: [{ pid: sk.pid, quiet: true }] });
      const none = await host.runScript(['status', '--match', 'nomatch'], { shell });
      expect(none.code).toBe(3);
    } finally {
      await host.cleanup();
    }
  });
});
