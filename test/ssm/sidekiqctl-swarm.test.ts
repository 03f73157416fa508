/**
 * ssm/sidekiqctl.sh with a Sidekiq Enterprise swarm: a `sidekiqswarm` parent that forks real
 * Sidekiq 6.4.1 children and restarts any that exits. Enterprise is closed source, so the parent is a
 * stand-in (test/support/sidekiq-app/sidekiqswarm) with Enterprise's title (`sidekiqswarm, managing
 * N processes`), signals and restarts; it runs as `ruby sidekiqswarm`, so its /proc comm is `ruby`,
 * as under `bundle exec sidekiqswarm` (comm `bundle`): only its title names it.
 * The promise: stop never leaves the swarm to bring awake workers back; wake after quiet gives fresh
 * awake children; a swarm in a systemd unit is stopped and restarted through the unit.
 */
import { SidekiqHost, cleanupAllHosts, type Shell } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
const SHELLS: Shell[] = ['dash', 'bash', 'busybox'];
const awake = (host: SidekiqHost) => host.processes().filter((p) => !p.title.includes('stopping'));
const changes = (host: SidekiqHost) => host.systemctlCalls().filter((c) => !c.startsWith('show '));
const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

afterAll(cleanupAllHosts);

test('stop: TERM to the swarm parent, not to the children; nothing comes back; wake asks for a restart command', async () => {
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  try {
    const { parent, children } = await host.startSwarm(2, { concurrency: 2 });
    await host.enqueue(1, 3);
    await host.waitForRunning(3);
    const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.json?.result).toBe('stopped');
    expect(r.json?.processes.map((p) => p.pid).sort()).toEqual([...children].sort());
    expect(r.stderr).toContain(`TERM to the sidekiqswarm parent pid ${parent}\n`);
    expect(r.stderr).not.toMatch(/sending TERM/);
    expect(host.stoppedRecords()).toMatch(new RegExp(`^swarm ${parent} \\d+\\n$`));
    await pause(2500); // the swarm restarts a child that exits within about a second
    expect(host.isLive(parent)).toBe(false);
    expect(host.processes()).toEqual([]);
    expect(await host.accounting()).toMatchObject({ completed: 3, lost: 0 });

    const w = await host.runScript(['wake']);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/stop shut Sidekiq down with TERM \(swarm \d+ \d+\); give --restart-command/);
  } finally {
    await host.cleanup();
  }
});

test.each(SHELLS)(
  '%s: quiet, then wake: TERM to each quiet child, which the swarm replaces with a fresh awake one',
  async (shell) => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const { parent, children } = await host.startSwarm(2);
      const q = await host.runScript(['quiet', ...FAST], { shell });
      expect(q.code).toBe(0);
      expect(q.json?.processes.map((p) => p.quiet)).toEqual([true, true]);
      const w = await host.runScript(['wake', '--timeout', '60'], { shell });
      expect(w.code).toBe(0);
      expect(w.json?.result).toBe('woken');
      for (const c of children) expect(w.stderr).toContain(`pid ${c}: TERM (its sidekiqswarm replaces it)`);
      expect(w.json?.processes.length).toBeGreaterThan(0);
      for (const p of w.json!.processes) {
        expect(p.quiet).toBe(false);
        expect(children).not.toContain(p.pid);
      }
      for (const c of children) expect(host.isLive(c)).toBe(false);
      expect(host.isLive(parent)).toBe(true);
      await host.waitFor('two fresh children', () => host.swarmChildren(parent).length === 2);
      expect(
        awake(host)
          .map((p) => p.pid)
          .sort(),
      ).toEqual(host.swarmChildren(parent).sort());
    } finally {
      await host.cleanup();
    }
  },
);

test('a TERM to the children (--supervisor none) is undone by the swarm: respawned, exit 1', async () => {
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  try {
    const { parent, children } = await host.startSwarm(1);
    const r = await host.runScript(['stop', '--supervisor', 'none', '--timeout', '30', ...FAST]);
    expect(r.code).toBe(1);
    expect(r.json?.result).toBe('respawned');
    expect(host.isLive(children[0]!)).toBe(false);
    await host.waitFor('the respawned child', () => host.swarmChildren(parent).length === 1);
  } finally {
    await host.cleanup();
  }
});

test('a swarm in a systemd unit: stop and wake go through the unit, not the swarm parent', async () => {
  const unit = 'sidekiq-swarm.service';
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  try {
    const { parent, children } = await host.startSwarm(2, {}, unit);
    const q = await host.runScript(['quiet', ...FAST]);
    expect(q.code).toBe(0);
    const w = await host.runScript(['wake', '--timeout', '60']);
    expect(w.code).toBe(0);
    expect(changes(host)).toEqual([`start ${unit}`, `restart ${unit}`]);
    for (const c of [parent, ...children]) expect(host.isLive(c)).toBe(false);
    await host.waitFor('two awake children', () => awake(host).length === 2);

    const r = await host.runScript(['stop', '--timeout', '30', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.json?.result).toBe('stopped');
    expect(r.stderr).not.toMatch(/sidekiqswarm parent/);
    expect(changes(host).slice(-1)).toEqual([`stop ${unit}`]);
    expect(host.stoppedRecords()).toBe(`systemd ${unit}\n`);
    await pause(1500);
    expect(host.processes()).toEqual([]);

    const s = await host.runScript(['wake', '--timeout', '60']);
    expect(s.code).toBe(0);
    expect(s.json?.result).toBe('woken');
    expect(changes(host).slice(-1)).toEqual([`start ${unit}`]);
  } finally {
    await host.cleanup();
  }
});
