/**
 * ssm/sidekiqctl.sh stop and wake through the supervisor that runs each Sidekiq, on real parts:
 * real Sidekiq 6.4.1 in a real cgroup (`worker.service`, `sidekiq@2.service`) under a Restart=always
 * systemctl stand-in (test/support/sidekiq-app/bin/systemctl), and a real supervisord with
 * autorestart=true, and a real runit (runsvdir, runsv, sv). The promise under test: stop never reports `stopped` while an awake worker comes
 * back; wake after quiet gives a fresh awake worker; wake after stop starts what stop stopped.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SidekiqHost, cleanupAllHosts, type Shell } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
const SHELLS: Shell[] = ['dash', 'bash', 'busybox'];
/** What systemctl was asked to do, not to show. */
const changes = (host: SidekiqHost) => host.systemctlCalls().filter((c) => !c.startsWith('show '));
const awake = (host: SidekiqHost) => host.processes().filter((p) => !p.title.includes('stopping'));

afterAll(cleanupAllHosts);

describe.each(['worker.service', 'sidekiq@2.service'])('systemd unit %s, Restart=always', (unit) => {
  test('stop: systemctl stop, nothing awake after a heartbeat; wake starts the unit; quiet + wake: a fresh awake worker', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit(unit, { concurrency: 2 });
      await host.enqueue(1, 2);
      await host.waitForRunning(2);
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ action: 'stop', result: 'stopped', processes: [{ pid, quiet: true }] });
      expect(changes(host)).toEqual([`start ${unit}`, `stop ${unit}`]);
      expect(host.stoppedRecords()).toBe(`systemd ${unit}\n`);
      await new Promise((res) => setTimeout(res, 1500)); // longer than the stand-in's RestartSec
      expect(host.processes()).toEqual([]);
      expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });

      const started = await host.runScript(['wake', ...[]]);
      expect(started.code).toBe(0);
      expect(started.json?.result).toBe('woken');
      expect(started.json?.processes).toEqual([expect.objectContaining({ quiet: false })]);
      expect(changes(host).slice(-1)).toEqual([`start ${unit}`]);
      expect(awake(host)).toHaveLength(1);

      const q = await host.runScript(['quiet', ...FAST]);
      expect(q.code).toBe(0);
      const quietPid = q.json!.processes[0]!.pid;
      const woken = await host.runScript(['wake']);
      expect(woken.code).toBe(0);
      expect(woken.json?.result).toBe('woken');
      expect(woken.json?.processes).toEqual([expect.objectContaining({ quiet: false })]);
      expect(woken.json?.processes[0]?.pid).not.toBe(quietPid);
      expect(changes(host).slice(-1)).toEqual([`restart ${unit}`]);
      expect(host.isLive(quietPid)).toBe(false);
      expect(awake(host).map((p) => p.pid)).toEqual([host.unitMainPid(unit)]);
    } finally {
      await host.cleanup();
    }
  });
});

test.each(SHELLS)(
  '%s: a TERM under Restart=always (--supervisor none) brings a worker back: respawned, exit 1, never stopped',
  async (shell) => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('worker.service');
      const r = await host.runScript(['stop', '--supervisor', 'none', '--timeout', '30', ...FAST], { shell });
      expect(r.code).toBe(1);
      expect(r.json?.result).toBe('respawned');
      expect(r.json?.processes.map((p) => p.pid)).not.toContain(pid);
      expect(r.stderr).toMatch(/respawned: pid\(s\) \d+ came back after the stop/);
      expect(host.isLive(pid)).toBe(false);
      await host.waitFor('the respawned worker', () => awake(host).length === 1);
    } finally {
      await host.cleanup();
    }
  },
);

test('a unit that also runs a busy Sidekiq: stop --match the idle one is refused, nothing stopped', async () => {
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  try {
    const alpha = await host.startUnit('worker.service', {
      concurrency: 1,
      tag: 'alpha',
      shutdownTimeout: 1,
    });
    await host.enqueue(30, 1);
    await host.waitForRunning(1);
    const beta = await host.startSidekiq({ concurrency: 1, tag: 'beta' });
    host.joinCgroup(beta.pid, 'system.slice/worker.service');
    const r = await host.runScript(['stop', '--match', 'beta', '--timeout', '20', ...FAST]);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ result: 'refused', processes: [{ pid: beta.pid, quiet: true }] });
    expect(r.stderr).toMatch(
      new RegExp(`systemd unit worker.service also runs pid\\(s\\) ${alpha}, not drained`),
    );
    expect(changes(host)).toEqual(['start worker.service']);
    expect(host.isLive(alpha)).toBe(true);
    expect(host.isLive(beta.pid)).toBe(true);
    // wake of the quiet one is refused the same way: a restart of the unit would cut alpha's job
    const w = await host.runScript(['wake', '--match', 'beta']);
    expect(w.code).toBe(4);
    expect(w.json?.result).toBe('refused');
    expect(changes(host)).toEqual(['start worker.service']);
    expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
  } finally {
    await host.cleanup();
  }
});

describe('supervisord, autorestart=true', () => {
  test('stop goes through supervisorctl and stays stopped; wake starts the program again', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startSupervisord('sidekiq', { concurrency: 2 });
      await host.enqueue(1, 2);
      await host.waitForRunning(2);
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ result: 'stopped', processes: [{ pid, quiet: true }] });
      expect(r.stderr).toMatch(/supervisorctl -s unix:\/\/\/\S+supervisor\.sock stop sidekiq:sidekiq/);
      expect(r.stderr).not.toMatch(/sending TERM/);
      await new Promise((res) => setTimeout(res, 1500));
      expect(host.processes()).toEqual([]);
      expect(host.supervisorctl(['status', 'sidekiq'])).toMatch(/STOPPED/);
      expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });

      const w = await host.runScript(['wake']);
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(w.json?.processes).toEqual([expect.objectContaining({ quiet: false })]);
      expect(host.supervisorctl(['status', 'sidekiq'])).toMatch(/RUNNING/);

      // quiet, then wake: supervisorctl restart gives a fresh awake worker
      const q = await host.runScript(['quiet', ...FAST]);
      const quietPid = q.json!.processes[0]!.pid;
      const w2 = await host.runScript(['wake']);
      expect(w2.code).toBe(0);
      expect(w2.json?.processes).toEqual([expect.objectContaining({ quiet: false })]);
      expect(w2.json?.processes[0]?.pid).not.toBe(quietPid);
      expect(w2.stderr).toMatch(/supervisorctl -s \S+ restart sidekiq:sidekiq/);
    } finally {
      await host.cleanup();
    }
  });

  test('a plain TERM (--supervisor none) is undone by autorestart: respawned, exit 1', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startSupervisord('worker');
      const r = await host.runScript(['stop', '--supervisor', 'none', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(1);
      expect(r.json?.result).toBe('respawned');
      expect(host.isLive(pid)).toBe(false);
      await host.waitFor('the respawned worker', () => awake(host).length === 1);
    } finally {
      await host.cleanup();
    }
  });
});

describe('runit (runsvdir -> runsv -> sidekiq)', () => {
  test('stop goes through `sv down` and stays down; wake starts it with `sv up`; quiet + wake: a fresh awake worker', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const { svDir, pid } = await host.startRunit('sidekiq', { concurrency: 2 });
      await host.enqueue(1, 2);
      await host.waitForRunning(2);
      const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ result: 'stopped', processes: [{ pid, quiet: true }] });
      // the physical service directory, although runsvdir reached it through a symlink
      expect(r.stderr).toMatch(new RegExp(`sv down ${svDir}\n`)); // the script waits for the exit itself
      expect(r.stderr).not.toMatch(/sending TERM/);
      expect(host.stoppedRecords()).toBe(`runit ${svDir}\n`);
      await new Promise((res) => setTimeout(res, 2500)); // runsv restarts a dead worker after 1 s
      expect(host.processes()).toEqual([]);
      expect(host.sv(['status', svDir])).toMatch(/^down: /);
      expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });

      const w = await host.runScript(['wake']);
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(w.stderr).toMatch(new RegExp(`sv -w \\d+ up ${svDir}\n`));
      expect(w.json?.processes).toEqual([expect.objectContaining({ quiet: false, pid: host.svPid(svDir) })]);

      const q = await host.runScript(['quiet', ...FAST]);
      expect(q.code).toBe(0);
      const quietPid = q.json!.processes[0]!.pid;
      const w2 = await host.runScript(['wake']);
      expect(w2.code).toBe(0);
      expect(w2.json?.result).toBe('woken');
      expect(w2.stderr).toMatch(new RegExp(`sv -w \\d+ restart ${svDir}\n`));
      expect(w2.json?.processes).toEqual([expect.objectContaining({ quiet: false })]);
      expect(w2.json?.processes[0]?.pid).not.toBe(quietPid);
      expect(host.isLive(quietPid)).toBe(false);
      expect(awake(host).map((p) => p.pid)).toEqual([host.svPid(svDir)]);
    } finally {
      await host.cleanup();
    }
  });

  test('wake --force of a quiet worker still busy: `sv restart` waits past its default 7 s for -t, no job lost', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const { svDir, pid } = await host.startRunit('sidekiq', { concurrency: 1, shutdownTimeout: 9 });
      await host.enqueue(60, 1);
      await host.waitForRunning(1);
      expect((await host.runScript(['quiet', '--timeout', '2', ...FAST])).code).toBe(2);
      const w = await host.runScript(['wake', '--force', '--timeout', '60']);
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(w.seconds).toBeGreaterThan(8); // Sidekiq used its -t before pushing the job back
      expect(host.isLive(pid)).toBe(false);
      expect(awake(host).map((p) => p.pid)).toEqual([host.svPid(svDir)]);
      // the job went back to Redis and the fresh worker took it again
      expect(await host.accounting()).toMatchObject({ lost: 0, completed: 0 });
    } finally {
      await host.cleanup();
    }
  });

  test('a plain TERM (--supervisor none) is undone by runsv: respawned, exit 1', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const { pid } = await host.startRunit('worker');
      const r = await host.runScript(['stop', '--supervisor', 'none', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(1);
      expect(r.json?.result).toBe('respawned');
      expect(r.json?.processes.map((p) => p.pid)).not.toContain(pid);
      expect(host.isLive(pid)).toBe(false);
      await host.waitFor('the respawned worker', () => awake(host).length === 1);
    } finally {
      await host.cleanup();
    }
  });
});

describe('a unit of a per-user systemd manager (user@UID.service)', () => {
  test('stop and wake refuse, naming the user manager, and never call the system systemctl on a same-named unit', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      // A system unit sidekiq.service is loaded too: `systemctl stop sidekiq.service` would hit it.
      mkdirSync(join(host.dir, 'systemd', 'units', 'sidekiq.service'));
      const sk = await host.startSidekiq();
      host.joinCgroup(sk.pid, 'user.slice/user-1000.slice/user@1000.service/app.slice/sidekiq.service');
      const r = await host.runScript(['stop', '--timeout', '20', ...FAST]);
      expect(r.code).toBe(4);
      expect(r.json?.result).toBe('refused');
      expect(r.stderr).toMatch(
        /refused: systemd user unit sidekiq\.service of user@1000\.service, a per-user systemd manager/,
      );
      expect(changes(host)).toEqual([]);
      expect(host.isLive(sk.pid)).toBe(true);
      const w = await host.runScript(['wake']); // the stop above left it quiet
      expect(w.code).toBe(4);
      expect(w.json?.result).toBe('refused');
      expect(changes(host)).toEqual([]);
      const w2 = await host.runScript(['wake', '--restart-command', `sh ${sk.ctl} restart`]);
      expect(w2.code).toBe(0);
      expect(w2.json?.result).toBe('woken');
    } finally {
      await host.cleanup();
    }
  });
});

describe('stop when the state cannot be recorded (read-only)', () => {
  test('stop is refused before anything stops, --supervisor or not; quiet and wake go on without the lock', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const pid = await host.startUnit('worker.service');
      // a read-only bind mount, in the host's own mount namespace only
      const ro = join(host.dir, 'ro');
      mkdirSync(ro);
      await new Promise<void>((res, rej) =>
        host
          .exec('sh', ['-c', `mount --bind ${ro} ${ro} && mount -o remount,bind,ro ${ro}`])
          .on('exit', (c) => (c === 0 ? res() : rej(new Error(`mount: ${c}`)))),
      );
      const env = { SIDEKIQCTL_STATE_DIR: join(ro, 'state') };
      for (const extra of [[], ['--supervisor', 'systemd:worker.service']]) {
        const r = await host.runScript(['stop', ...extra, '--timeout', '20', ...FAST], { env });
        expect(r.code).toBe(4);
        expect(r.json?.result).toBe('refused');
        expect(r.stderr).toMatch(
          /cannot create \S+\/ro\/state \(read-only\?\), and wake needs what stop records/,
        );
        expect(changes(host)).toEqual(['start worker.service']);
        expect(host.isLive(pid)).toBe(true);
        expect(awake(host)).toHaveLength(1); // refused before the drain: not even quieted
      }
      const q = await host.runScript(['quiet', '--timeout', '20', ...FAST], { env });
      expect(q.code).toBe(0);
      expect(q.stderr).toMatch(/warning: cannot create \S+ \(read-only\?\); going on without the lock/);
      const w = await host.runScript(['wake'], { env });
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      expect(changes(host).slice(-1)).toEqual(['restart worker.service']);
    } finally {
      await host.cleanup();
    }
  });
});

describe("wake's --timeout bounds the restart", () => {
  test.each(SHELLS)(
    '%s: a restart command that does not return: exit 1 at the deadline, nothing killed',
    async (shell) => {
      const host = await SidekiqHost.start({ heartbeat: BEAT });
      try {
        const sk = await host.startSidekiq();
        expect((await host.runScript(['quiet', ...FAST])).code).toBe(0);
        const r = await host.runScript(
          ['wake', '--timeout', '3', '--restart-command', 'echo restarting; sleep 30'],
          { shell },
        );
        expect(r.code).toBe(1);
        expect(r.json?.result).toBe('error');
        expect(r.stderr).toMatch(
          /the restart command has not finished by the --timeout \(3s\); it keeps running/,
        );
        expect(r.seconds).toBeGreaterThan(2.9);
        expect(r.seconds).toBeLessThan(6);
        expect(host.isLive(sk.pid)).toBe(true);
        const kept = /its output so far is in (\S+)/.exec(r.stderr)?.[1];
        expect(kept).toBeDefined();
        expect(readFileSync(kept!, 'utf8')).toBe('restarting\n');
        rmSync(kept!, { force: true });
      } finally {
        await host.cleanup();
      }
    },
  );

  test('quiet with no supervisor and no --restart-command: wake says what to give', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq();
      expect((await host.runScript(['quiet', ...FAST])).code).toBe(0);
      const r = await host.runScript(['wake']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/have no supervisor to restart them; give --restart-command/);
      const r2 = await host.runScript([
        'wake',
        '--restart-command',
        `echo supervisor says hello; sh ${sk.ctl} restart`,
      ]);
      expect(r2.code).toBe(0);
      expect(r2.json?.result).toBe('woken');
      expect(r2.stderr).toMatch(/supervisor says hello/);
      expect(r2.stdout.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      await host.cleanup();
    }
  });
});
