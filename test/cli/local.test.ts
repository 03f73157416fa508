import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cliMain } from '../../runner/cli/main';
import { cleanupAllHosts, SidekiqHost } from '../support/sidekiq-host';
import { captureIo } from './support/capture-io';

/**
 * `snowwhite … --local` against real Sidekiq: the command line runs the runner with the local
 * executor, which runs ssm/sidekiqctl.sh on this machine, and acts only on the Sidekiq processes
 * of its own PID namespace. The workers live in a private PID namespace (a SidekiqHost), so the
 * command line is run inside it (the real bin, through tsx); --match keeps other tests' Sidekiqs out.
 */
jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '../..');
const TAG = `cli-local-${process.pid}`;
let host: SidekiqHost;

beforeAll(async () => {
  host = await SidekiqHost.start({ heartbeat: 0.5 });
});
afterAll(() => cleanupAllHosts());

/** The `snowwhite` program, run inside the host's PID namespace as a person there would run it. */
function snowwhite(argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = host.exec(resolve(ROOT, 'node_modules/.bin/tsx'), [resolve(ROOT, 'runner/cli.ts'), ...argv], {
    cwd: ROOT,
    // Any AWS call would fail at once: --local must not make one.
    env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
}

/** The command line in this test's own process (and PID namespace). */
async function snowwhiteHere(argv: string[]) {
  const { io, out, err } = captureIo();
  const code = await cliMain(argv, {
    io,
    env: process.env,
    clients: () => {
      throw new Error('--local must not touch AWS');
    },
    profileRegion: async () => undefined,
  });
  return { code, out: out(), err: err() };
}

test('quiet drains real workers, then wake restarts them; every job accounted for', async () => {
  const worker = await host.startSidekiq({ concurrency: 2, tag: TAG });
  // Jobs long enough that the quiet lands while the first two run, even when starting the command
  // line through tsx takes seconds on a loaded machine: the third must still be queued after it.
  await host.enqueue(8, 3);
  await host.waitForRunning(2);

  const quiet = await snowwhite(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', TAG]);
  expect(quiet.code).toBe(0);
  // The names typed only name the run; the region is not shown: nothing went to AWS.
  expect(quiet.out).toContain(
    'snowwhite quiet workers in MY-APP on this host: 1 instance in MY-APP/workers (this host)',
  );
  expect(quiet.out).toMatch(/quiet workers in MY-APP on this host finished in \d+s: 1 drained/);
  expect(quiet.out).not.toContain('us-east-1');
  expect(quiet.out).toMatch(/MY-APP\/workers \(this host\)\s+\S+\s+drained\s+0\s/);
  expect(await host.accounting()).toMatchObject({
    enqueued: 3,
    completed: 2,
    queued: 1,
    running: 0,
    lost: 0,
  });
  expect(host.processes().map((p) => p.title)).toEqual([expect.stringMatching(/ stopping$/)]);

  const wake = await snowwhite([
    'wake',
    'workers',
    'MY-APP',
    'us-east-1',
    '--local',
    '--match',
    TAG,
    '--restart-command',
    `sh '${worker.ctl}' restart`,
  ]);
  expect(wake.code).toBe(0);
  expect(wake.out).toMatch(/1 awake/);
  await host.waitForCompleted(3);
  expect(await host.accounting()).toMatchObject({ enqueued: 3, completed: 3, queued: 0, lost: 0 });
  expect(host.processes().every((p) => !p.title.endsWith('stopping'))).toBe(true);
});

test('no matching Sidekiq: wake, quiet and stop say so and exit 1; status reports it and exits 0', async () => {
  const none = `nothing-${process.pid}`;
  for (const action of ['wake', 'quiet', 'stop']) {
    const r = await snowwhiteHere([action, 'workers', 'MY-APP', 'us-east-1', '--local', '--match', none]);
    expect({ action, code: r.code }).toEqual({ action, code: 1 });
    expect(r.out).toContain('no Sidekiq found');
  }
  const status = await snowwhiteHere([
    'status',
    'workers',
    'MY-APP',
    'us-east-1',
    '--local',
    '--match',
    none,
  ]);
  expect(status.code).toBe(0);
});

test('--json: only JSON on stdout, one event per line, the summary object last', async () => {
  const none = `nothing-${process.pid}`;
  const r = await snowwhiteHere([
    'quiet',
    'workers',
    'MY-APP',
    'us-east-1',
    '--local',
    '--match',
    none,
    '--json',
  ]);
  expect(r.code).toBe(1);
  const events = r.out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(events.map((e) => e.event)).toEqual(['started', 'progress', 'progress', 'summary']);
  expect(events.at(-1)).toMatchObject({
    action: 'quiet',
    exitCode: 1,
    counts: { no_sidekiq: 1 },
    outcomes: [expect.objectContaining({ kind: 'no_sidekiq' })],
  });
});

test('bad input: one line, exit 64, nothing run', async () => {
  const r = await snowwhiteHere(['quiet', 'workers', 'MY-APP', 'nowhere-1', '--local']);
  expect(r.code).toBe(64);
  expect(r.err).toBe(
    `snowwhite: <region>: "nowhere-1" is not an AWS region (for example us-east-1, eu-west-1) (see 'snowwhite --help')\n`,
  );
});

test('status counts one quiet and one awake real worker, per environment and per process', async () => {
  const tag = `cli-status-${process.pid}`;
  const quiet = await host.startSidekiq({ concurrency: 2, tag });
  const awake = await host.startSidekiq({ concurrency: 3, tag });
  process.kill(quiet.hostPid, 'SIGTSTP');
  await host.waitFor('the quieted worker to show it', () =>
    host.processes().some((p) => p.hostPid === quiet.hostPid && p.title.endsWith(' stopping')),
  );

  const status = await snowwhite(['status', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', tag]);
  expect(status.code).toBe(0);
  expect(status.out).toContain('sidekiq: 1 quiet · 1 awake · 0 busy of 5 threads');
  // The table keeps each process: which is quiet, which is awake.
  expect(status.out).toMatch(/\(this host\)\s+\S+\s+reported\s+0\s+\S+\s+1 quiet · 1 awake\s/);
  expect(status.out).toContain(`pid ${quiet.pid} (${tag}) quiet 0/2 busy`);
  expect(status.out).toContain(`pid ${awake.pid} (${tag}) awake 0/3 busy`);
  for (const w of [quiet, awake]) host.exec('sh', [w.ctl, 'stop']);
});

/** A real Sidekiq in this test's own PID namespace, on the host's Redis (the network is shared). */
async function sidekiqHere(tag: string): Promise<{ pid: number; title: () => string; child: ChildProcess }> {
  const child = spawn(
    '/usr/bin/sidekiq',
    ['-r', resolve(ROOT, 'test/support/sidekiq-app/app.rb'), '-c', '2', '-g', tag],
    {
      cwd: host.dir,
      env: {
        ...process.env,
        REDIS_URL: host.redisUrl,
        MARKER_DIR: host.markerDir,
        SIDEKIQ_BEAT_PAUSE: '0.5',
      },
      stdio: 'ignore',
    },
  );
  const pid = child.pid!;
  const title = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    } catch {
      return '';
    }
  };
  await host.waitFor('the Sidekiq of this namespace to have its title', () =>
    title().startsWith('sidekiq 6'),
  );
  return { pid, title, child };
}

test('--local acts only on its own PID namespace: a worker of another (a container) is left alone', async () => {
  const tag = `cli-ns-${process.pid}`;
  const mine = await sidekiqHere(tag);
  const container = await host.startSidekiq({ concurrency: 2, tag });
  try {
    // Both are visible from here, with the same kind of title: only the namespace tells them apart.
    expect(readFileSync(`/proc/${container.hostPid}/cmdline`, 'utf8')).toContain(tag);

    const quiet = await snowwhiteHere(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', tag]);
    expect(quiet.code).toBe(0);
    expect(quiet.out).toMatch(/1 drained/);
    expect(quiet.out).toContain(`pid ${mine.pid} (${tag}) quiet 0/2 busy`);
    expect(quiet.out).not.toContain(`pid ${container.hostPid} `);
    expect(mine.title()).toMatch(/ stopping$/);
    // The other namespace's worker, through a heartbeat and more: still awake.
    await new Promise((r) => setTimeout(r, 1500));
    expect(host.processes().find((p) => p.pid === container.pid)?.title).toMatch(/busy\]$/);
  } finally {
    mine.child.kill('SIGTERM');
    host.exec('sh', [container.ctl, 'stop']);
    await new Promise((r) => (mine.child.exitCode !== null ? r(undefined) : mine.child.once('exit', r)));
  }
});
