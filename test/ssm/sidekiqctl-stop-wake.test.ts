/**
 * ssm/sidekiqctl.sh stop and wake against real Redis and real Sidekiq 6.4.1 (own PID namespace per
 * scenario), including the systemd path through the systemctl stand-in that records its calls.
 */
import { existsSync } from 'node:fs';
import { SidekiqHost, cleanupAllHosts } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
/** What systemctl was asked to do, not to show. */
const changes = (host: SidekiqHost) => host.systemctlCalls().filter((c) => !c.startsWith('show '));

afterAll(cleanupAllHosts);

describe('stop', () => {
  test('real 5 s heartbeat, no unit: drains (even a job longer than -t), TERM, gone, nothing lost', async () => {
    const host = await SidekiqHost.start();
    try {
      // -t 1: a plain TERM would cut the 4 s job short and push it back; stop drains first.
      const sk = await host.startSidekiq({ concurrency: 2, shutdownTimeout: 1 });
      const [long] = await host.enqueue(4, 1);
      await host.enqueue(1, 1);
      await host.enqueue(5, 3);
      await host.waitForRunning(2);
      const r = await host.runScript(['stop', '--timeout', '60']);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({
        action: 'stop',
        result: 'stopped',
        processes: [{ pid: sk.pid, busy: 0, quiet: true }],
      });
      expect(r.stderr).toMatch(/sending TERM/);
      expect(host.isLive(sk.pid)).toBe(false);
      expect(host.doneTimes().has(long!)).toBe(true);
      expect(await host.accounting()).toMatchObject({ enqueued: 5, completed: 2, queued: 3, lost: 0 });
      expect(host.systemctlCalls()).toEqual([]); // in no systemd unit: plain TERM
      // one real heartbeat (5 s) watched for a respawn after the exit
      expect(r.stderr).toMatch(/watching one heartbeat for a respawn/);
    } finally {
      await host.cleanup();
    }
  }, 90_000);

  test('a systemd unit (its cgroup) is stopped with systemctl stop, not TERM, and stays stopped', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('sidekiq.service', { concurrency: 2 });
      await host.enqueue(1, 2);
      await host.waitForRunning(2);
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json?.result).toBe('stopped');
      expect(changes(host)).toEqual(['start sidekiq.service', 'stop sidekiq.service']);
      expect(r.stderr).not.toMatch(/sending TERM/);
      expect(host.isLive(pid)).toBe(false);
      expect(host.processes()).toEqual([]);
      expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });

  test('--service naming a unit no Sidekiq runs in: refused, exit 4, nothing touched', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq();
      const r = await host.runScript(['stop', '--service', 'workers', ...FAST]);
      expect(r.code).toBe(4);
      expect(r.json?.result).toBe('refused');
      expect(r.stderr).toMatch(
        /--supervisor names systemd unit workers, which runs none of the Sidekiq processes here/,
      );
      expect(changes(host)).toEqual([]);
      expect(host.isLive(sk.pid)).toBe(true);
    } finally {
      await host.cleanup();
    }
  });

  test('drain deadline: exit 2, nothing stopped', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('sidekiq.service', { concurrency: 1 });
      await host.enqueue(20, 1);
      await host.waitForRunning(1);
      const r = await host.runScript(['stop', '--timeout', '2', ...FAST]);
      expect(r.code).toBe(2);
      expect(r.json?.result).toBe('timeout');
      expect(changes(host)).toEqual(['start sidekiq.service']);
      expect(host.isLive(pid)).toBe(true);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });
});

describe('stop, then the platform', () => {
  test('deadline passed: the script kills nothing; the TERM that follows (Kubernetes after preStop, ECS at stop) pushes a job longer than -t back to Redis', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 1, shutdownTimeout: 1 });
      const [long] = await host.enqueue(30, 1);
      await host.waitForRunning(1);
      const r = await host.runScript(['stop', '--timeout', '2', ...FAST]);
      expect(r.code).toBe(2);
      expect(host.isLive(sk.pid)).toBe(true);
      process.kill(sk.hostPid, 'SIGTERM');
      await host.waitFor('sidekiq to exit after TERM', () => !host.isLive(sk.pid), 20_000);
      const a = await host.accounting();
      expect(a).toMatchObject({ enqueued: 1, completed: 0, queued: 1, running: 0, lost: 0 });
      expect(host.doneTimes().has(long!)).toBe(false);
    } finally {
      await host.cleanup();
    }
  });
});

describe('wake', () => {
  test('--restart-command: a fresh non-quiet process replaces the quiet idle one', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 2 });
      await host.enqueue(1, 2);
      await host.waitForRunning(2);
      expect((await host.runScript(['quiet', ...FAST])).code).toBe(0);
      await host.enqueue(0.2, 2); // stays queued while quiet

      const r = await host.runScript(['wake', '--restart-command', `sh ${sk.ctl} restart`]);
      expect(r.code).toBe(0);
      expect(r.json?.result).toBe('woken');
      expect(r.json?.processes).toHaveLength(1);
      const fresh = r.json!.processes[0]!;
      expect(fresh.pid).not.toBe(sk.pid);
      expect(fresh.quiet).toBe(false);
      expect(host.isLive(sk.pid)).toBe(false);
      await host.waitForCompleted(4); // the fresh one takes the queued jobs
      expect(await host.accounting()).toMatchObject({ completed: 4, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });

  test('awake processes are left alone', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq();
      const r = await host.runScript(['wake', '--restart-command', `touch ${host.dir}/restarted`]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ result: 'already_awake', processes: [{ pid: sk.pid, quiet: false }] });
      expect(existsSync(`${host.dir}/restarted`)).toBe(false);
    } finally {
      await host.cleanup();
    }
  });

  test('refused while a quiet process runs jobs; --force restarts and the job is pushed back', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 1, shutdownTimeout: 1 });
      const [job] = await host.enqueue(30, 1);
      await host.waitForRunning(1);
      expect((await host.runScript(['quiet', '--timeout', '2', ...FAST])).code).toBe(2);

      const refused = await host.runScript(['wake', '--restart-command', `sh ${sk.ctl} restart`]);
      expect(refused.code).toBe(4);
      expect(refused.json).toMatchObject({ result: 'refused', processes: [{ pid: sk.pid, busy: 1 }] });
      expect(host.isLive(sk.pid)).toBe(true);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });

      const forced = await host.runScript(['wake', '--force', '--restart-command', `sh ${sk.ctl} restart`]);
      expect(forced.code).toBe(0);
      expect(forced.json?.result).toBe('woken');
      expect(host.isLive(sk.pid)).toBe(false);
      // Sidekiq pushed the unfinished job back (same jid); the fresh process may already run it again.
      const acc = await host.accounting();
      expect(acc.lost).toBe(0);
      expect(acc.queued + acc.running).toBe(1);
      expect(host.doneTimes().has(job!)).toBe(false);
    } finally {
      await host.cleanup();
    }
  });
});
