/**
 * Titles and signals of Sidekiq versions other than the installed 6.4.1, through a stand-in process
 * (test/support/sidekiq-app/fake-sidekiq.rb) that titles itself, beats and reacts to signals as they
 * do. Read in sidekiq/sidekiq at v4.2.8-v4.2.10, v5.0.0, v5.2.10, v6.0.0, v6.5.12, v7.0.0, v7.3.9,
 * v8.0.0 and v8.1.7: PROCTITLES (lib/sidekiq/cli.rb to 5.x, lib/sidekiq/launcher.rb from 6.0) joins
 * "sidekiq", VERSION, data["tag"], "[busy of concurrency busy]" and "stopping" (when stopping?) with
 * one space after compact; data["tag"] is `options[:tag] || ""` (launcher.rb `to_data`) in all of
 * them, so a process without -g has two spaces before "[". Signals from cli.rb: TSTP quiets from
 * 4.2.9, USR1 quiets up to 5.x and is untrapped (kills) from 6.0. The heartbeat is 5 s to 6.x and
 * BEAT_PAUSE = 10 in 7.x and 8.x. The real-Sidekiq scenarios are in the other test files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SidekiqHost, cleanupAllHosts } from '../support/sidekiq-host';

afterAll(cleanupAllHosts);

let host: SidekiqHost;
beforeEach(async () => {
  host = await SidekiqHost.start({ heartbeat: 0.5 });
});
afterEach(() => host.cleanup());

async function fake(env: Record<string, string>): Promise<{ log: string; signals: () => string[] }> {
  const log = join(host.dir, `signals-${env.FAKE_VERSION}`);
  host.spawnFake({ FAKE_SIGNAL_LOG: log, FAKE_BEAT: '0.5', ...env });
  await host.waitFor('fake title', () => host.processes().some((p) => p.title.includes(env.FAKE_VERSION!)));
  return {
    log,
    signals: () => {
      try {
        return readFileSync(log, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
  };
}

test.each([
  // version, -g tag (undefined: none, an empty word), expected signal
  ['4.2.10', 'legacy', 'USR1'],
  ['5.2.10', 'my app', 'TSTP'],
  ['5.2.10', undefined, 'TSTP'],
  ['7.3.9', undefined, 'TSTP'],
  ['8.1.7', 'app', 'TSTP'],
  // A major that is not a plain number: TSTP (USR1 would kill a Sidekiq 6 or 7).
  ['7beta1', undefined, 'TSTP'],
])(
  'Sidekiq %s (tag %j): quiet sends %s, waits for the busy job, parses the title',
  async (version, tag, sig) => {
    const f = await fake({
      FAKE_VERSION: version,
      ...(tag === undefined ? {} : { FAKE_TAG: tag }),
      FAKE_BUSY: '1',
      FAKE_JOB_SECONDS: '2',
      FAKE_CONCURRENCY: '4',
    });
    // the title as that version writes it: no tag leaves an empty word, two spaces
    expect(host.processes().map((p) => p.title)).toEqual([`sidekiq ${version} ${tag ?? ''} [1 of 4 busy]`]);
    const r = await host.runScript(['quiet', '--timeout', '20', '--heartbeat', '0.5']);
    expect(r.code).toBe(0);
    expect(r.json?.processes).toEqual([
      { pid: expect.any(Number), version, tag: tag ?? '', busy: 0, concurrency: 4, quiet: true },
    ]);
    expect(f.signals()).toEqual([sig]);
    expect(r.seconds).toBeGreaterThan(1.5); // the 2 s job was waited for
  },
);

test('Sidekiq 7.0 first seen already quiet, its job threads long gone: trusted only after two heartbeats', async () => {
  // Already quiet and idle before the script looks, and no job thread left to see (Ruby keeps an
  // ended thread about 3 s): the title may come from a heartbeat that raced a quiet signal, so with
  // no other evidence the script waits two heartbeats before believing it.
  const f = await fake({ FAKE_VERSION: '7.0.9', FAKE_BUSY: '0' });
  const [p] = host.processes();
  process.kill(p!.hostPid, 'SIGTSTP');
  await host.waitFor('stopping title', () => host.processes()[0]?.title.endsWith('stopping') ?? false);
  await new Promise((r) => setTimeout(r, 5000));
  const r = await host.runScript(['quiet', '--timeout', '30', '--heartbeat', '2']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/idle \(pid \d+: two heartbeats after stopping, no job thread known\)/);
  expect(r.seconds).toBeGreaterThan(3.9);
  expect(f.signals()).toEqual(['TSTP']); // only ours: the script sends nothing to a quiet process
});

test('a zombie with a Sidekiq title does not count as a live process', async () => {
  // The parent never reaps its child, which sets a Sidekiq title and exits.
  host.exec(
    'ruby',
    [
      '-e',
      'pid = fork { $0 = "sidekiq 6.4.1  [0 of 3 busy]"; sleep 1; exit! }; $0 = "zombie-parent"; sleep 60',
    ],
    { stdio: 'ignore' },
  );
  await host.waitFor('titled child', () => host.processes().length === 1);
  const live = await host.runScript(['status']);
  expect(live.code).toBe(0);
  await host.waitFor('zombie', () => host.processes().length === 0, 10_000);
  const r = await host.runScript(['status']);
  expect(r.code).toBe(3);
  expect(r.json?.result).toBe('no_sidekiq');
});
