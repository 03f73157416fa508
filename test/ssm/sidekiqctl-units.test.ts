/**
 * ssm/sidekiqctl.sh with a systemd unit that holds other Sidekiq processes than the ones it drained,
 * against real Redis and real Sidekiq 6.4.1: `systemctl stop|restart UNIT` shuts down every process
 * of the unit, so the script uses it only when each of them is drained. Unit membership is expressed
 * the way systemd shows it: the unit's main pid (`systemctl show -p MainPID`, from the stand-in) and
 * the process's cgroup (`…/sidekiq.service` in /proc/PID/cgroup, a real cgroup here).
 * Also wake's --timeout around a restart that does not return.
 */
import { readFileSync, rmSync } from 'node:fs';
import { SidekiqHost, cleanupAllHosts, type Shell } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
const SHELLS: Shell[] = ['dash', 'bash', 'busybox'];
/** What systemctl was asked to do, not to show. */
const changes = (host: SidekiqHost) => host.systemctlCalls().filter((c) => !c.startsWith('show '));

afterAll(cleanupAllHosts);

/** A host whose unit `sidekiq` runs `alpha` (1 thread, -t 1), busy with a 30 s job. */
async function busyUnitHost() {
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  const alpha = await host.startSidekiq({ concurrency: 1, tag: 'alpha', shutdownTimeout: 1 });
  host.installUnit('sidekiq', alpha);
  await host.enqueue(30, 1);
  await host.waitForRunning(1);
  return { host, alpha };
}

describe('stop leaves a busy process of the unit alone', () => {
  test('--match another process: TERM to the drained one only; the unit is not stopped', async () => {
    const { host, alpha } = await busyUnitHost();
    try {
      const beta = await host.startSidekiq({ concurrency: 1, tag: 'beta' });
      // No --service: the default unit is not used with --match.
      const r = await host.runScript(['stop', '--match', 'beta', '--timeout', '20', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({
        result: 'stopped',
        processes: [{ pid: beta.pid, tag: 'beta', quiet: true }],
      });
      // (a `show` may ask about the unit of the process's own cgroup, if that is a systemd service)
      expect(changes(host)).toEqual([]);
      expect(host.isLive(alpha.pid)).toBe(true);
      expect(host.isLive(beta.pid)).toBe(false);
      expect(r.stderr).toMatch(/not using the default systemd unit sidekiq/);
      expect(r.stderr).toMatch(new RegExp(`pid ${beta.pid}: sending TERM`));

      // --service naming the unit, which the drained process is not in (its main pid is alpha).
      const gamma = await host.startSidekiq({ concurrency: 1, tag: 'gamma' });
      const r2 = await host.runScript([
        'stop',
        '--match',
        'gamma',
        '--service',
        'sidekiq',
        '--timeout',
        '20',
        ...FAST,
      ]);
      expect(r2.code).toBe(0);
      expect(r2.json?.result).toBe('stopped');
      expect(r2.stderr).toMatch(
        new RegExp(
          `none of the drained pid\\(s\\) ${gamma.pid} is in unit sidekiq \\(main pid ${alpha.pid}\\)`,
        ),
      );
      expect(host.systemctlCalls()).toEqual(
        expect.arrayContaining(['show -p LoadState sidekiq', 'show -p MainPID sidekiq']),
      );
      expect(changes(host)).toEqual([]);
      expect(host.isLive(gamma.pid)).toBe(false);

      expect(host.isLive(alpha.pid)).toBe(true);
      expect(host.processes().find((p) => p.pid === alpha.pid)?.title).toMatch(/alpha \[1 of 1 busy\]$/);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });

  test.each(SHELLS)(
    '%s: a drained process in the same unit (cgroup) as a busy one: refused, exit 2, nothing stopped',
    async (shell) => {
      const { host, alpha } = await busyUnitHost();
      try {
        const beta = await host.startSidekiq({ concurrency: 1, tag: 'beta' });
        // beta is in the unit by its cgroup only; alpha by the unit's main pid only.
        host.joinCgroup(beta.pid, 'system.slice/sidekiq.service');
        const r = await host.runScript(
          ['stop', '--match', 'beta', '--service', 'sidekiq', '--timeout', '20', ...FAST],
          { shell },
        );
        expect(r.code).toBe(2);
        expect(r.json).toMatchObject({
          action: 'stop',
          result: 'refused',
          processes: [{ pid: beta.pid, quiet: true }],
        });
        expect(r.stderr).toMatch(new RegExp(`unit sidekiq also runs pid\\(s\\) ${alpha.pid}, not drained`));
        expect(r.stderr).not.toMatch(/sending TERM/);
        expect(host.systemctlCalls()).toEqual(['show -p LoadState sidekiq', 'show -p MainPID sidekiq']);
        expect(host.isLive(alpha.pid)).toBe(true);
        expect(host.isLive(beta.pid)).toBe(true);
        expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
      } finally {
        await host.cleanup();
      }
    },
  );
});

describe('stop leaves a busy process alone when systemd would stop it after the TERM', () => {
  test('no --service: the drained process is the main pid of the unit of its cgroup, shared with a busy one: refused', async () => {
    const { host, alpha } = await busyUnitHost();
    try {
      const beta = await host.startSidekiq({ concurrency: 1, tag: 'beta' });
      // Both in sidekiq.service's cgroup; beta is its main process: when beta exits, systemd
      // stops the rest of the unit (alpha, busy).
      host.installUnit('sidekiq.service', beta);
      host.joinCgroup(alpha.pid, 'system.slice/sidekiq.service');
      host.joinCgroup(beta.pid, 'system.slice/sidekiq.service');
      const r = await host.runScript(['stop', '--match', 'beta', '--timeout', '20', ...FAST]);
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({ result: 'refused', processes: [{ pid: beta.pid, quiet: true }] });
      expect(r.stderr).toMatch(
        new RegExp(
          `drained pid ${beta.pid} is the main process of systemd unit sidekiq.service, which also runs pid\\(s\\) ${alpha.pid}`,
        ),
      );
      expect(r.stderr).not.toMatch(/sending TERM/);
      expect(host.systemctlCalls()).toEqual(['show -p MainPID sidekiq.service']);
      expect(host.isLive(beta.pid)).toBe(true);
      expect(host.isLive(alpha.pid)).toBe(true);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });

      // Not its main process: its exit does not stop the unit, so the TERM is safe.
      host.installUnit('sidekiq.service', alpha);
      const r2 = await host.runScript(['stop', '--match', 'beta', '--timeout', '20', ...FAST]);
      expect(r2.code).toBe(0);
      expect(r2.json?.result).toBe('stopped');
      expect(host.isLive(beta.pid)).toBe(false);
      expect(host.isLive(alpha.pid)).toBe(true);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });
});

describe('wake does not restart a unit whose process is awake and busy', () => {
  test('refused with the unit; --match needs --service or --restart-command; the command restarts only the quiet one', async () => {
    const { host, alpha } = await busyUnitHost();
    try {
      const beta = await host.startSidekiq({ concurrency: 1, tag: 'beta' });
      expect((await host.runScript(['quiet', '--match', 'beta', ...FAST])).code).toBe(0);

      // Default unit: its main process alpha is awake and busy.
      const r = await host.runScript(['wake']);
      expect(r.code).toBe(2);
      expect(r.json?.result).toBe('refused');
      expect(r.stderr).toMatch(new RegExp(`unit sidekiq also runs pid\\(s\\) ${alpha.pid}, which are awake`));
      // --match with the unit named: still refused.
      const r2 = await host.runScript(['wake', '--match', 'beta', '--service', 'sidekiq']);
      expect(r2.code).toBe(2);
      expect(r2.json?.result).toBe('refused');
      expect(host.systemctlCalls()).toEqual([
        'show -p LoadState sidekiq',
        'show -p MainPID sidekiq',
        'show -p LoadState sidekiq',
        'show -p MainPID sidekiq',
      ]);
      // --match without --service: the default unit is not used, and there is nothing else.
      const r3 = await host.runScript(['wake', '--match', 'beta']);
      expect(r3.code).toBe(1);
      expect(r3.stderr).toMatch(/no systemd unit \(--service\) or --restart-command/);
      expect(host.isLive(beta.pid)).toBe(true);

      const r4 = await host.runScript([
        'wake',
        '--match',
        'beta',
        '--restart-command',
        `sh ${beta.ctl} restart`,
      ]);
      expect(r4.code).toBe(0);
      expect(r4.json?.result).toBe('woken');
      expect(r4.json?.processes).toEqual([expect.objectContaining({ tag: 'beta', quiet: false })]);
      expect(host.isLive(beta.pid)).toBe(false);
      expect(changes(host)).toEqual([]);

      expect(host.isLive(alpha.pid)).toBe(true);
      expect(host.processes().find((p) => p.pid === alpha.pid)?.title).toMatch(/alpha \[1 of 1 busy\]$/);
      expect(await host.accounting()).toMatchObject({ running: 1, lost: 0 });
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
        // The command is left running, and its output kept, at the deadline.
        const kept = /its output so far is in (\S+)/.exec(r.stderr)?.[1];
        expect(kept).toBeDefined();
        expect(readFileSync(kept!, 'utf8')).toBe('restarting\n');
        rmSync(kept!, { force: true });
      } finally {
        await host.cleanup();
      }
    },
  );

  test.each(SHELLS)('%s: the output of a restart command that returns goes to stderr', async (shell) => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq();
      expect((await host.runScript(['quiet', ...FAST])).code).toBe(0);
      const r = await host.runScript(
        ['wake', '--restart-command', `echo supervisor says hello; sh ${sk.ctl} restart`],
        { shell },
      );
      expect(r.code).toBe(0);
      expect(r.json?.result).toBe('woken');
      expect(r.stderr).toMatch(/supervisor says hello/);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      await host.cleanup();
    }
  });
});
