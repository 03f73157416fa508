import { cliMain } from '../../runner/cli/main';
import { cleanupAllHosts, shq, SidekiqHost } from '../support/sidekiq-host';
import { captureIo } from './support/capture-io';

/**
 * `snowwhite … --local` against real Sidekiq: the command line runs the runner in process with the
 * local executor, which runs ssm/sidekiqctl.sh on this machine. The Sidekiqs live in a private PID
 * namespace (which this machine's /proc still shows), and --match keeps other tests' Sidekiqs out.
 */
jest.setTimeout(90_000);

const TAG = `cli-local-${process.pid}`;
let host: SidekiqHost;

beforeAll(async () => {
  host = await SidekiqHost.start({ heartbeat: 0.5 });
});
afterAll(() => cleanupAllHosts());

async function snowwhite(argv: string[]) {
  const { io, out, err } = captureIo();
  const code = await cliMain(argv, {
    io,
    env: process.env,
    clients: () => {
      throw new Error('--local must not touch AWS');
    },
  });
  return { code, out: out(), err: err() };
}

test('quiet drains real workers, then wake restarts them; every job accounted for', async () => {
  const worker = await host.startSidekiq({ concurrency: 2, tag: TAG });
  await host.enqueue(2, 3);
  await host.waitForRunning(2);

  const quiet = await snowwhite(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', TAG]);
  expect(quiet.code).toBe(0);
  expect(quiet.out).toMatch(/quiet workers in MY-APP \(us-east-1\) finished in \d+s: 1 drained/);
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
    host.shellInside(`sh ${shq(worker.ctl)} restart`),
  ]);
  expect(wake.code).toBe(0);
  expect(wake.out).toMatch(/1 awake/);
  await host.waitForCompleted(3);
  expect(await host.accounting()).toMatchObject({ enqueued: 3, completed: 3, queued: 0, lost: 0 });
  expect(host.processes().every((p) => !p.title.endsWith('stopping'))).toBe(true);
});

test('wake with no matching Sidekiq reports it and fails; quiet with none has nothing to do', async () => {
  const none = `nothing-${process.pid}`;
  const wake = await snowwhite(['wake', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', none]);
  expect(wake.code).toBe(1);
  expect(wake.out).toContain('no Sidekiq found');
  const quiet = await snowwhite(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local', '--match', none]);
  expect(quiet.code).toBe(0);
  expect(quiet.out).toContain('no Sidekiq found');
});

test('bad input: exit 64 and the usage, nothing run', async () => {
  const r = await snowwhite(['quiet', 'workers', 'MY-APP', 'nowhere-1', '--local']);
  expect(r.code).toBe(64);
  expect(r.err).toMatch(/^snowwhite: <region>: "nowhere-1" is not an AWS region/);
  expect(r.err).toContain('usage: snowwhite');
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
  expect(status.out).toContain(`pid ${quiet.hostPid} (${tag}) quiet 0/2 busy`);
  expect(status.out).toContain(`pid ${awake.hostPid} (${tag}) awake 0/3 busy`);
  for (const w of [quiet, awake]) host.exec('sh', [w.ctl, 'stop']);
});
