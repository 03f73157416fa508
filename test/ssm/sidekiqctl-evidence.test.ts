/**
 * When sidekiqctl.sh calls a worker idle: from evidence, never from timing (the `idle` function of
 * ssm/sidekiqctl.sh). What the evidence rests on, read in sidekiq/sidekiq:
 * - v6.4.1 lib/sidekiq/launcher.rb:40-43 `def quiet; @done = true; @manager.quiet`: the launcher's
 *   @done (launcher.rb:19 `"stopping" if me.stopping?`, :66-67 `stopping?` = @done; written to $0 at
 *   each heartbeat, launcher.rb:96-97) is set before Manager#quiet (manager.rb:49-51) reaches each
 *   processor. v7.2.0 launcher.rb:47-50, :20, :97; v8.1.7 launcher.rb:47-50, :20, :98: the same.
 * - processor.rb `fetch` pushes a job back only if the processor's own @done was set when it returned
 *   (v6.4.1 :94-96, v7.2.0 :98-100, v8.1.7 :104-106); a job it keeps counts as busy only at `stats`
 *   (v6.4.1 :253-254 `WORKER_STATE.set`, v7.2.0 :267-268 and v8.1.7 :285-286 `WORK_STATE.set`). So the
 *   first `stopping` title may say 0 busy while a job starts; that title is never enough.
 * - A processor's thread ends only after its last job: `process_one until @done` (v6.4.1 :67-68,
 *   v7.2.0 :67-72, v8.1.7 :73-78): every job thread gone means nothing runs.
 * - Job thread names (safe_thread): v6.4.1 util.rb:62-64 `Thread.current.name = name` with
 *   processor.rb:62 "processor"; v7.0.0 processor.rb:62 "#{config.name}/processor"; from v7.1.0
 *   component.rb:16-18 (v8.1.7 :44-46) `Thread.current.name = "sidekiq.#{name}"`, so
 *   "sidekiq.default/processor", beside "sidekiq.heartbeat" (launcher.rb:41) and "sidekiq.scheduler"
 *   (scheduled.rb:95, v8.1.7 :97). Linux keeps 15 bytes: "sidekiq.default", "sidekiq.heartbe".
 * Real Sidekiq 6.4.1 here; the other versions through sidekiq-app/fake-sidekiq.rb.
 */
import { join } from 'node:path';
import { SidekiqHost, cleanupAllHosts } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
afterAll(cleanupAllHosts);

describe('real Sidekiq 6.4.1', () => {
  test('a job that renames its thread is waited for: the title counts it busy, whatever the threads say', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 2 });
      const [jid] = await host.enqueue(4, 1, 'RenameJob');
      await host.waitForRunning(1);
      const r = await host.runScript(['quiet', '--timeout', '60', ...FAST]);
      const exitedAt = Date.now() / 1000;
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ result: 'drained', processes: [{ pid: sk.pid, busy: 0, quiet: true }] });
      const done = host.doneTimes().get(jid!);
      expect(done).toBeDefined();
      expect(done!).toBeLessThanOrEqual(exitedAt);
      // the other processor's thread ended at once; the title said 1 busy until the job was done,
      // and with one of two job threads never seen, the threads could not overrule it
      expect(r.stderr).toMatch(/1 of 2 busy, quiet/);
      expect(r.stderr).not.toMatch(/all \d+ job threads gone/);
      expect(await host.accounting()).toMatchObject({ completed: 1, running: 0, lost: 0 });
    } finally {
      await host.cleanup();
    }
  }, 90_000);

  test('CPU-bound jobs keep the GVL busy during quiet: no job runs when quiet says drained, none lost', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      for (let round = 0; round < 3; round++) {
        const sk = await host.startSidekiq({ concurrency: 10, shutdownTimeout: 30 });
        // a stream of short CPU-bound jobs: some are being fetched when TSTP arrives
        await host.enqueue(0.3, 200, 'CpuJob');
        await host.waitForRunning(5);
        const r = await host.runScript(['quiet', '--timeout', '120', ...FAST]);
        const exitedAt = Date.now() / 1000;
        expect(r.code).toBe(0);
        expect(r.json?.result).toBe('drained');
        // every job that had started was done when quiet exited
        const acc = await host.accounting();
        expect(acc).toMatchObject({ running: 0, lost: 0 });
        for (const t of host.doneTimes().values()) expect(t).toBeLessThanOrEqual(exitedAt);
        await new Promise<void>((res, rej) =>
          host.exec('sh', [sk.ctl, 'stop']).on('exit', (c) => (c === 0 ? res() : rej(new Error('stop')))),
        );
        expect(await host.accounting()).toMatchObject({ running: 0, lost: 0 });
      }
    } finally {
      await host.cleanup();
    }
  }, 300_000);
});

describe('job threads by version (fake-sidekiq.rb names them as that version does)', () => {
  // An idle worker: its title says `[0 of 5 busy] stopping` from the first stopping heartbeat on and
  // never changes again; only its job threads (one seen per processor, all gone) can say it is
  // idle before two heartbeats pass.
  test.each([
    ['6.5.12', 'all 5 job threads gone'],
    ['7.0.0', 'all 5 job threads gone'],
    ['7.2.0', 'all 5 job threads gone'],
    ['8.1.7', 'all 5 job threads gone'],
    ['5.2.10', 'two heartbeats after stopping, no job thread known'],
  ])(
    '%s: idle by %s',
    async (version, evidence) => {
      const host = await SidekiqHost.start();
      try {
        host.spawnFake({
          FAKE_VERSION: version,
          FAKE_BEAT: '0.3',
          FAKE_SIGNAL_LOG: join(host.dir, 'signals'),
        });
        await host.waitFor('the fake title', () => host.processes().length === 1);
        const pid = host.processes()[0]!.pid;
        const r = await host.runScript(['quiet', '--timeout', '60', '--heartbeat', '1']);
        expect(r.code).toBe(0);
        expect(r.json).toMatchObject({
          result: 'drained',
          processes: [{ pid, version, busy: 0, quiet: true }],
        });
        expect(r.stderr).toContain(`idle (pid ${pid}: ${evidence})`);
      } finally {
        await host.cleanup();
      }
    },
    60_000,
  );

  test('7.2.0 with a job running: the title changing after `stopping` is the evidence', async () => {
    const host = await SidekiqHost.start();
    try {
      host.spawnFake({
        FAKE_VERSION: '7.2.0',
        FAKE_BEAT: '0.3',
        FAKE_BUSY: '1',
        FAKE_JOB_SECONDS: '3',
        FAKE_SIGNAL_LOG: join(host.dir, 'signals'),
      });
      await host.waitFor('the fake title', () => host.processes().length === 1);
      const pid = host.processes()[0]!.pid;
      const r = await host.runScript(['quiet', '--timeout', '60', '--heartbeat', '1']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/1 of 5 busy, quiet/);
      expect(r.stderr).toMatch(
        new RegExp(`idle \\(pid ${pid}: (title changed after stopping|all 5 job threads gone)\\)`),
      );
    } finally {
      await host.cleanup();
    }
  }, 60_000);
});
