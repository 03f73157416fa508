/**
 * The Elastic Beanstalk platform hooks in ssm/eb-hooks/<phase>/, laid out as the README says for an
 * application bundle (.platform/sidekiqctl.sh, each hook in .platform/hooks/<phase>/ and
 * .platform/confighooks/<phase>/), run on real Sidekiq 6.4.1 in a real cgroup unit with jobs in
 * flight; then the unit is restarted as Elastic Beanstalk does on a deploy.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SidekiqHost, cleanupAllHosts } from '../support/sidekiq-host';

const HOOKS = resolve(__dirname, '../../ssm/eb-hooks');
const PHASES = ['predeploy', 'postdeploy'];
/** Elastic Beanstalk runs hooks/ on code deploys and confighooks/ on configuration deploys. */
const HOOK_DIRS = ['hooks', 'confighooks'];
afterAll(cleanupAllHosts);

function bundle(host: SidekiqHost): string {
  const platform = join(host.dir, 'app', '.platform');
  for (const dir of HOOK_DIRS)
    for (const phase of PHASES) {
      mkdirSync(join(platform, dir, phase), { recursive: true });
      for (const n of readdirSync(join(HOOKS, phase)))
        copyFileSync(join(HOOKS, phase, n), join(platform, dir, phase, n));
    }
  copyFileSync(resolve(__dirname, '../../ssm/sidekiqctl.sh'), join(platform, 'sidekiqctl.sh'));
  return platform;
}

test('hooks and confighooks run the same scripts: the README copies each hook into both', () => {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  expect(readdirSync(HOOKS).sort()).toEqual([...PHASES].sort());
  for (const phase of PHASES) {
    const names = readdirSync(join(HOOKS, phase));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names)
      for (const dir of HOOK_DIRS)
        expect(readme).toMatch(
          new RegExp(
            `\\.platform/${dir}/${phase}/${n.replace('.', '\\.')}\\s+ssm/eb-hooks/${phase}/${n.replace('.', '\\.')}`,
          ),
        );
  }
});

test('predeploy: quiet, wait up to the limit, exit 0; the restart pushes the rest back; postdeploy: nothing quiet left', async () => {
  const host = await SidekiqHost.start({ heartbeat: 0.5 });
  try {
    const platform = bundle(host);
    const old = await host.startUnit('worker.service', { concurrency: 3, shutdownTimeout: 1 });
    const [short] = await host.enqueue(1, 1);
    const long = await host.enqueue(30, 2); // longer than the limit
    await host.enqueue(0.2, 3); // waiting in Redis: stays there while quiet
    await host.waitForRunning(3);
    const env = { SIDEKIQ_DRAIN_LIMIT: '3' };
    const pre = await host.runScript([], {
      script: join(platform, 'hooks/predeploy/zz_sidekiq_quiet.sh'),
      env,
    });
    expect(pre.code).toBe(0); // the deploy goes on
    expect(pre.stdout).toMatch(/still busy after 3s: the deploy goes on/);
    expect(host.doneTimes().has(short!)).toBe(true); // the short job finished during the drain
    expect(host.processes()[0]?.title).toMatch(/\[2 of 3 busy\] stopping$/);

    // Elastic Beanstalk restarts the Procfile process: TERM, Sidekiq pushes the long jobs back.
    await host.runOk('systemctl', ['restart', 'worker.service']);
    expect(host.isLive(old)).toBe(false);
    const a = await host.accounting();
    expect(a.lost).toBe(0);
    expect(a.completed + a.queued + a.running).toBe(a.enqueued);
    expect(a.lostJids).toEqual([]);
    for (const jid of long) expect(host.doneTimes().has(jid)).toBe(false); // cut short, pushed back, not lost
    const post = await host.runScript([], { script: join(platform, 'hooks/postdeploy/50_sidekiq_wake.sh') });
    expect(post.code).toBe(0);
    expect(post.json?.result).toBe('already_awake');
    await host.waitForCompleted(4); // the fresh worker takes the short queued ones
    expect(await host.accounting()).toMatchObject({ lost: 0 });
  } finally {
    await host.cleanup();
  }
});

test('predeploy within the limit: every job in flight finishes before the restart', async () => {
  const host = await SidekiqHost.start({ heartbeat: 0.5 });
  try {
    const platform = bundle(host);
    await host.startUnit('worker.service', { concurrency: 2, shutdownTimeout: 1 });
    await host.enqueue(2, 2);
    await host.waitForRunning(2);
    const pre = await host.runScript([], {
      script: join(platform, 'confighooks/predeploy/zz_sidekiq_quiet.sh'),
      env: { SIDEKIQ_DRAIN_LIMIT: '30' },
    });
    expect(pre.code).toBe(0);
    expect(pre.stdout).toMatch(/sidekiq drained before the deploy/);
    expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });
    await host.runOk('systemctl', ['restart', 'worker.service']);
    expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });
  } finally {
    await host.cleanup();
  }
});

describe('a deploy that fails after predeploy (no restart, no postdeploy)', () => {
  test('the fallback wake restarts the quiet workers after SIDEKIQ_WAKE_AFTER, and logs it', async () => {
    const host = await SidekiqHost.start({ heartbeat: 0.5 });
    try {
      const platform = bundle(host);
      const old = await host.startUnit('worker.service', { concurrency: 2 });
      const pre = await host.runScript([], {
        script: join(platform, 'hooks/predeploy/zz_sidekiq_quiet.sh'),
        env: { SIDEKIQ_DRAIN_LIMIT: '30', SIDEKIQ_WAKE_AFTER: '3' },
      });
      expect(pre.code).toBe(0);
      expect(pre.stdout).toMatch(/fallback wake armed: sidekiqctl.sh wake in 3s unless postdeploy runs/);
      expect(host.processes()[0]?.title).toMatch(/stopping$/);
      // the deploy fails here: nothing restarts the unit, no postdeploy
      await host.waitFor(
        'a fresh awake worker',
        () => {
          const p = host.processes();
          return p.length === 1 && p[0]!.pid !== old && !p[0]!.title.includes('stopping');
        },
        60_000,
      );
      expect(host.systemctlCalls()).toContain('restart worker.service');
      await host.waitFor('the wake to finish', () =>
        /"result":"woken"/.test(readFileSync(join(host.stateDir, 'fallback-wake.log'), 'utf8')),
      );
      expect(readFileSync(join(host.stateDir, 'fallback-wake.log'), 'utf8')).toMatch(
        /no postdeploy within 3 s \(a failed deploy\?\): waking Sidekiq/,
      );
    } finally {
      await host.cleanup();
    }
  }, 90_000);

  test('postdeploy cancels the fallback and returns once the restart is issued; the fresh workers are confirmed in the background', async () => {
    const host = await SidekiqHost.start({ heartbeat: 0.5 });
    try {
      const platform = bundle(host);
      await host.startUnit('worker.service', { concurrency: 2 });
      const pre = await host.runScript([], {
        script: join(platform, 'confighooks/predeploy/zz_sidekiq_quiet.sh'),
        env: { SIDEKIQ_WAKE_AFTER: '4' },
      });
      expect(pre.code).toBe(0);
      // a configuration deploy that does not restart this process: postdeploy's wake restarts it
      const post = await host.runScript([], {
        script: join(platform, 'confighooks/postdeploy/50_sidekiq_wake.sh'),
      });
      expect(post.code).toBe(0);
      // it returns once the restart is issued; a restart that is quick to confirm may be done by then
      expect(post.stdout).toMatch(
        /sidekiq restart issued; the fresh workers are confirmed in the background|restart issued; waiting for fresh processes/,
      );
      const log = join(host.stateDir, 'postdeploy-wake.log');
      await host.waitFor('the background wake to confirm', () =>
        /"result":"woken"/.test(readFileSync(log, 'utf8')),
      );
      await new Promise((r) => setTimeout(r, 5000)); // past SIDEKIQ_WAKE_AFTER
      expect(host.systemctlCalls().filter((c) => c === 'restart worker.service')).toHaveLength(1);
      expect(readFileSync(join(host.stateDir, 'fallback-wake.log'), 'utf8')).toBe('');
    } finally {
      await host.cleanup();
    }
  }, 90_000);
});
