/**
 * ssm/sidekiqctl.sh acts only on what it found and keeps state nobody else can steer: signals only to
 * the process the scan found (start time and title checked again), a state directory it owns (mode
 * 700, no symlinks, written through a temporary file and a rename), records per PID namespace and
 * --match, one run at a time, a `supervisor` that can only choose among the Sidekiq processes'
 * supervisors, and a unit that also runs something else is quieted, never stopped. Real Sidekiq 6.4.1,
 * the systemctl stand-in, real runit.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { SidekiqHost, cleanupAllHosts } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
const changes = (host: SidekiqHost) => host.systemctlCalls().filter((c) => !c.startsWith('show '));
const awake = (host: SidekiqHost) => host.processes().filter((p) => !p.title.includes('stopping'));
afterAll(cleanupAllHosts);

describe('a state directory nobody else may steer', () => {
  test('owned by nobody, group/world-accessible, or a symlink: refused (exit 4), nothing signalled, the target untouched', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('worker.service');
      const nobodys = join(host.dir, 'nobodys');
      mkdirSync(nobodys, { mode: 0o700 });
      chownSync(nobodys, 65534, 65534);
      const open = join(host.dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o755);
      // a symlink to a directory that would pass every check itself
      const target = join(host.dir, 'target');
      mkdirSync(target, { mode: 0o700 });
      writeFileSync(join(target, 'precious'), 'keep\n');
      const link = join(host.dir, 'link');
      symlinkSync(target, link);
      for (const [dir, why] of [
        [nobodys, /owned by uid 0 with mode 700, not a symlink \(it is drwx------, uid 65534\)/],
        [open, /\(it is drwxr-xr-x, uid 0\)/],
        [link, /\(it is lrwxrwxrwx, uid 0\)/],
      ] as const)
        for (const action of ['quiet', 'stop', 'wake']) {
          const r = await host.runScript([action, ...(action === 'wake' ? [] : FAST)], {
            env: { SIDEKIQCTL_STATE_DIR: dir },
          });
          expect(r.code).toBe(4);
          expect(r.json?.result).toBe('refused');
          expect(r.stderr).toMatch(why);
        }
      expect(changes(host)).toEqual(['start worker.service']);
      expect(awake(host).map((p) => p.pid)).toEqual([pid]); // not even quieted
      expect(readFileSync(join(target, 'precious'), 'utf8')).toBe('keep\n');
      expect(existsSync(join(target, 'lock'))).toBe(false);
    } finally {
      await host.cleanup();
    }
  }, 120_000);

  test('a symlink where the record goes is replaced by the rename, never written through', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      await host.startUnit('worker.service');
      mkdirSync(host.stateDir, { mode: 0o700 });
      const victim = join(host.dir, 'victim');
      writeFileSync(victim, 'root-owned content\n');
      symlinkSync(victim, join(host.stateDir, host.recordName()));
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe('root-owned content\n');
      expect(lstatSync(join(host.stateDir, host.recordName())).isFile()).toBe(true);
      expect(host.stoppedRecords()).toBe('systemd worker.service\n');
    } finally {
      await host.cleanup();
    }
  }, 90_000);

  test('stop --match alpha, stop --match beta, wake --match alpha: only alpha starts', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      await host.startUnit('alpha.service', { tag: 'alpha' });
      await host.startUnit('beta.service', { tag: 'beta' });
      for (const m of ['alpha', 'beta']) {
        const r = await host.runScript(['stop', '--match', m, '--timeout', '30', ...FAST]);
        expect(r.code).toBe(0);
        expect(r.json?.result).toBe('stopped');
      }
      expect(readFileSync(join(host.stateDir, host.recordName('alpha')), 'utf8')).toBe(
        'systemd alpha.service\n',
      );
      expect(readFileSync(join(host.stateDir, host.recordName('beta')), 'utf8')).toBe(
        'systemd beta.service\n',
      );
      const w = await host.runScript(['wake', '--match', 'alpha']);
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(changes(host).slice(-1)).toEqual(['start alpha.service']);
      expect(changes(host).filter((c) => c === 'start beta.service')).toHaveLength(1); // only at setup
      expect(host.unitMainPid('beta.service')).toBe(0);
      expect(awake(host).map((p) => p.title)).toEqual([expect.stringContaining(' alpha [')]);
      expect(existsSync(join(host.stateDir, host.recordName('alpha')))).toBe(false);
      expect(existsSync(join(host.stateDir, host.recordName('beta')))).toBe(true);
    } finally {
      await host.cleanup();
    }
  }, 120_000);

  test('one run at a time: a second run waits for the lock, then says "busy" (exit 4) and does nothing', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 1 });
      await host.enqueue(8, 1);
      await host.waitForRunning(1);
      const first = host.runScript(['quiet', '--timeout', '60', ...FAST]);
      await host.waitFor('the first run to hold the lock', () => existsSync(join(host.stateDir, 'lock')));
      const second = await host.runScript(['quiet', ...FAST], { env: { SIDEKIQCTL_LOCK_WAIT: '1' } });
      expect(second.code).toBe(4);
      expect(second.json?.result).toBe('busy');
      expect(second.stderr).toMatch(
        /busy: another sidekiqctl.sh run on this host still holds \S+\/lock after 1s; nothing was done/,
      );
      expect((await first).code).toBe(0);
      // status takes no lock
      const s = await host.runScript(['status']);
      expect(s.json?.processes).toEqual([expect.objectContaining({ pid: sk.pid, quiet: true })]);
    } finally {
      await host.cleanup();
    }
  }, 90_000);
});

describe('signals only to the process that was found', () => {
  test('a reused PID (ns_last_pid) between the drain and the TERM gets no signal', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      await host.startUnit('worker.service', { shutdownTimeout: 1 });
      const loose = await host.startSidekiq({ shutdownTimeout: 1 }); // no supervisor: stop TERMs it itself
      writeFileSync(join(host.dir, 'systemd', 'units', 'worker.service', 'stop-delay'), '8');
      const run = host.runScript(['stop', '--timeout', '60', ...FAST]);
      await host.waitFor('systemctl stop', () => changes(host).includes('stop worker.service'), 60_000);
      // meanwhile the unsupervised worker exits and an unrelated process gets its PID, with a title
      // just like it: only the start time tells them apart
      process.kill(loose.hostPid, 'SIGTERM');
      await host.waitFor('the loose worker to exit', () => !host.isLive(loose.pid), 20_000);
      const marker = join(host.dir, 'decoy-got-term');
      const title = 'sidekiq 6.4.1  [0 of 3 busy] stopping';
      expect(await host.spawnAtPid(loose.pid, title, marker)).toBe(true);
      const r = await run;
      expect(r.stderr).toContain(
        `pid ${loose.pid}: TERM not sent: it is gone, or no longer the Sidekiq process found`,
      );
      expect(existsSync(marker)).toBe(false);
      expect(host.isLive(loose.pid)).toBe(true);
      // the newcomer has a Sidekiq title: the stop says so instead of calling everything stopped
      expect(r.json?.result).toBe('respawned');
    } finally {
      await host.cleanup();
    }
  }, 120_000);
});

describe('only Sidekiq is stopped', () => {
  test('supervisor=systemd:nginx.service touches nothing: stop and wake refused (exit 4)', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      await host.startUnit('worker.service');
      mkdirSync(join(host.dir, 'systemd', 'units', 'nginx.service')); // loaded
      for (const action of ['stop', 'wake']) {
        const r = await host.runScript([
          action,
          '--supervisor',
          'systemd:nginx.service',
          ...(action === 'stop' ? FAST : []),
        ]);
        expect(r.code).toBe(4);
        expect(r.json?.result).toBe('refused');
        expect(r.stderr).toMatch(
          /--supervisor names systemd unit nginx.service, which runs none of the Sidekiq processes here/,
        );
      }
      expect(changes(host)).toEqual(['start worker.service']);
      expect(awake(host)).toHaveLength(1);
      expect(host.stoppedRecords()).toBe('');
    } finally {
      await host.cleanup();
    }
  }, 60_000);

  test('a unit with a `sleep` beside Sidekiq: quieted, not stopped (refused, exit 4, naming it)', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('worker.service', {}, 'sleep 300');
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(4);
      expect(r.json).toMatchObject({ result: 'refused', processes: [{ pid, quiet: true, busy: 0 }] });
      expect(r.stderr).toMatch(
        /systemd unit worker.service also runs pid\(s\) \d+ \(sleep\), which are not Sidekiq; stopping it would stop them too/,
      );
      expect(changes(host)).toEqual(['start worker.service']);
      expect(host.isLive(pid)).toBe(true);
      expect(host.stoppedRecords()).toBe('');
    } finally {
      await host.cleanup();
    }
  }, 60_000);

  test('wake of a quiet Sidekiq whose unit runs a `sleep` beside it: refused (exit 4), nothing restarted; --restart-command still wakes it', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('worker.service', {}, 'sleep 300');
      // the sleep, read from the unit's cgroup itself (host pid and start time), not from the script
      const unitDir = join(host.dir, 'systemd', 'units', 'worker.service');
      const cg = readFileSync(join(unitDir, 'cgroup'), 'utf8').trim();
      const startOf = (hostPid: number) => {
        const stat = readFileSync(`/proc/${hostPid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      };
      const sleeps = () =>
        readFileSync(join(cg, 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(Number)
          .filter((h) => readFileSync(`/proc/${h}/comm`, 'utf8').trim() === 'sleep')
          .map((h) => `${h}@${startOf(h)}`);
      const before = sleeps();
      expect(before).toHaveLength(1);
      const q = await host.runScript(['quiet', '--timeout', '30', ...FAST]);
      expect(q.code).toBe(0);
      const r = await host.runScript(['wake', '--timeout', '30']);
      expect(r.code).toBe(4);
      expect(r.json).toMatchObject({ result: 'refused', processes: [{ pid, quiet: true }] });
      expect(r.stderr).toMatch(
        /systemd unit worker.service also runs pid\(s\) \d+ \(sleep\), which are not Sidekiq; restarting it would restart them too\. Sidekiq there stays quiet; give --restart-command/,
      );
      expect(changes(host)).toEqual(['start worker.service']);
      expect(sleeps()).toEqual(before);
      expect(host.processes().map((p) => [p.pid, p.title.endsWith(' stopping')])).toEqual([[pid, true]]);
      expect(host.unitMainPid('worker.service')).toBe(pid);
      // the way out the refusal names: a restart command that restarts Sidekiq alone
      const w = await host.runScript(['wake', '--timeout', '60', '--restart-command', `kill -TERM ${pid}`]);
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(sleeps()).toContain(before[0]);
      expect(changes(host)).toEqual(['start worker.service']);
      expect(awake(host).map((p) => p.pid)).not.toContain(pid);
      expect(awake(host)).toHaveLength(1);
    } finally {
      await host.cleanup();
    }
  }, 60_000);
});

describe('bounds', () => {
  test('a 30 KB hostile title and 40 more: the JSON line stays under 24,000 characters, marked truncated', async () => {
    const host = await SidekiqHost.start();
    try {
      const hostile = (n: number) => `sidekiq 6.4.1 "|\\ ${'x"|'.repeat(n)}`;
      host.spawnHostile(hostile(10_000));
      for (let i = 0; i < 40; i++) host.spawnHostile(hostile(300));
      await host.waitFor('41 hostile titles', () => host.processes().length === 41);
      const r = await host.runScript(['status']);
      expect(r.code).toBe(1);
      const line = r.stdout.trimEnd().split('\n').pop()!;
      expect(line.length).toBeLessThan(24_000);
      const j = JSON.parse(line) as {
        result: string;
        truncated: boolean;
        unparseable: Array<{ title: string }>;
      };
      expect(j.result).toBe('unparseable');
      expect(j.truncated).toBe(true);
      expect(j.unparseable.length).toBeGreaterThan(0);
      for (const u of j.unparseable) {
        expect(u.title.length).toBeLessThanOrEqual(200);
        expect(u.title.startsWith('sidekiq 6.4.1 "|\\ x"|')).toBe(true);
      }
    } finally {
      await host.cleanup();
    }
  }, 60_000);

  test('stop of 50 idle workers under runit: every `sv down` at once (generous bound; the bench measures)', async () => {
    const host = await SidekiqHost.start();
    try {
      const dirs = await host.startRunitFakes(50, { FAKE_VERSION: '6.4.1', FAKE_BEAT: '0.5' });
      const r = await host.runScript(['stop', '--timeout', '120', '--heartbeat', '0.5'], {
        timeoutMs: 180_000,
      });
      expect(r.code).toBe(0);
      expect(r.json?.result).toBe('stopped');
      expect(r.json?.processes).toHaveLength(50);
      expect(r.seconds).toBeLessThan(60);
      for (const d of dirs) {
        expect(host.svPid(d)).toBe(0);
        expect(readFileSync(join(d, 'signals'), 'utf8')).toBe('TSTP\nTERM\n');
      }
      expect(host.stoppedRecords().split('\n').filter(Boolean)).toHaveLength(50);
    } finally {
      await host.cleanup();
    }
  }, 300_000);
});
