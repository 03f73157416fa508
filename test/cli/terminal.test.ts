import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupAllHosts, shq, SidekiqHost } from '../support/sidekiq-host';
import { buildCli } from './support/build-cli';

/**
 * The built `snowwhite` (the bundle the package ships) as people and scripts meet it: through a
 * real pseudo-terminal (util-linux `script`) and through pipes. Workers live in a private PID
 * namespace (a SidekiqHost) and the command line runs inside it, with its own state directory.
 */
jest.setTimeout(180_000);

let tmp: string;
let bundle: string;
let host: SidekiqHost;
let stateDir: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'snowwhite-terminal-'));
  bundle = await buildCli(tmp);
  stateDir = mkdtempSync(join(tmpdir(), 'snowwhite-terminal-state-'));
  host = await SidekiqHost.start({ heartbeat: 0.5 });
});
afterAll(async () => {
  await cleanupAllHosts();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

/** An environment with no AWS anything: no credentials, no profile, no region, no metadata service. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  const home = mkdtempSync(join(tmp, 'home-'));
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // Whatever reaches the network fails at once instead of waiting.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    SIDEKIQCTL_STATE_DIR: stateDir,
    ...extra,
  };
}

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

const collect = (child: ChildProcess): Promise<Ran> => {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
};

/** Through pipes, in this process's namespace (nothing here touches Sidekiq). */
const viaPipes = (argv: string[], env = bareEnv()): Promise<Ran> =>
  collect(spawn(process.execPath, [bundle, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] }));

/** Through pipes, inside the workers' PID namespace. */
const insideViaPipes = (argv: string[], env = bareEnv()): Promise<Ran> =>
  collect(host.exec(process.execPath, [bundle, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] }));

/**
 * Inside the workers' namespace on a real 80-column pseudo-terminal: `script` gives the command a
 * terminal, passes what is written to its stdin (Ctrl-C too) and returns the command's exit code.
 */
function insideTerminal(argv: string[], env = bareEnv()): { child: ChildProcess; output: () => string } {
  const command = `stty cols 80 rows 24; exec ${[process.execPath, bundle, ...argv].map(shq).join(' ')}`;
  const child = host.exec('script', ['-qefc', command, '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  new Promise((res) => (child.exitCode !== null ? res(child.exitCode) : child.on('close', res)));

async function waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The frames of the live line: each redraw starts with a carriage return and clears the line. */
const frames = (output: string): string[] =>
  output
    .split('\r\x1b[2K')
    .slice(1)
    .map((f) => f.split(/[\r\n]/)[0]!)
    .filter((f) => / done · /.test(f));

test('a deadline, a refusal and a missing supervisor each say why, with their own exit code', async () => {
  const tag = `term-reasons-${process.pid}`;
  const worker = await host.startSidekiq({ concurrency: 1, tag });
  await host.enqueue(12);
  await host.waitForRunning(1);

  // Quiet with a 1 s drain timeout while a 12 s job runs: the deadline, exit 2, nothing killed.
  const quiet = await insideViaPipes(['quiet', '--local', '--match', tag, '--timeout', '1']);
  expect(quiet.code).toBe(2);
  expect(quiet.out).toMatch(
    /still busy at the deadline\s+1\s+\S+\s+\S+.*1 job still running at the drain timeout \(nothing was killed\)/,
  );

  // Wake while the quiet worker still runs its job: refused, exit 4, the reason names --force.
  const refused = await insideViaPipes(['wake', '--local', '--match', tag]);
  expect(refused.code).toBe(4);
  expect(refused.out).toMatch(
    /refused\s.*refused: quiet pid\(s\) \d+ still run jobs; wait for them, or use --force/,
  );

  // Once idle, wake has no supervisor to restart it: exit 1, and the table (not only --json) says why.
  await host.waitForCompleted(1);
  // The title says idle only at the next heartbeat: wait for that evidence, as the script does.
  await host.waitFor('the quiet worker to show it is idle', () =>
    host.processes().some((p) => p.pid === worker.pid && /\[0 of 1 busy\] stopping$/.test(p.title)),
  );
  const noSupervisor = await insideViaPipes(['wake', '--local', '--match', tag]);
  expect(noSupervisor.code).toBe(1);
  expect(noSupervisor.out).toMatch(
    /failed\s.*have no supervisor to restart them; give --restart-command or --supervisor/,
  );

  // The hint works as written: the command line takes --restart-command and --supervisor none.
  const woken = await insideViaPipes([
    'wake',
    '--local',
    '--match',
    tag,
    '--supervisor',
    'none',
    '--restart-command',
    `sh '${worker.ctl}' restart`,
  ]);
  expect(woken.err).toBe('');
  expect(woken.code).toBe(0);
  expect(woken.out).toMatch(/1 awake/);
  host.exec('sh', [worker.ctl, 'stop']);
});

test('on a terminal: the live line ticks every second within 80 columns; Ctrl-C exits 130', async () => {
  const tag = `term-tick-${process.pid}`;
  const worker = await host.startSidekiq({ concurrency: 1, tag });
  await host.enqueue(15); // long enough to still run after the ticks on a loaded machine
  await host.waitForRunning(1);

  const run = insideTerminal(['quiet', '--local', '--match', tag, '--timeout', '5m']);
  // Ticks: the elapsed time of the live line moves on while nothing else happens.
  await waitFor(
    'four ticks of the live line',
    () => new Set(frames(run.output()).map((f) => / · (\d+s)/.exec(f)?.[1])).size >= 4,
  );
  for (const f of frames(run.output())) {
    expect([...f].length).toBeLessThanOrEqual(79);
    expect(f).toMatch(/^[█░]{10} \d+% 0\/1 done · \d+s/); // the counts come first, never cut
  }
  run.child.stdin!.write('\x03');
  expect(await exitOf(run.child)).toBe(130);
  expect(run.output()).toMatch(/interrupted after \d+s/);
  // Nothing was killed: the job finishes; then the worker is stopped by the test, by its own script.
  await host.waitForCompleted(1);
  expect(await host.accounting()).toMatchObject({ lost: 0 });
  host.exec('sh', [worker.ctl, 'stop']);
});

test('--local needs no region, no application and no AWS; the SDK prints no Node-version warning', async () => {
  const r = await insideViaPipes(
    ['status', '--local', '--match', `nothing-${process.pid}`],
    bareEnv({ AWS_REGION: 'eu-west-1' }),
  );
  expect(r.code).toBe(0);
  // No names typed: the run is this host's, in no region (AWS_REGION names none: nothing went there).
  expect(r.out).toContain('snowwhite status on this host: 1 instance in this host\n');
  expect(r.out).toMatch(/\nstatus on this host finished in \d+s: 1 no Sidekiq found\n/);
  expect(r.out).not.toMatch(/this-host|eu-west-1|us-east-1/);
  expect(r.err).toBe('');
});

test('no credentials: one line that says what to do; --json prints one error object on stdout', async () => {
  const human = await viaPipes(['status', 'workers', 'MY-APP', 'us-east-1', '--yes']);
  expect(human.code).toBe(1);
  expect(human.err).toBe(
    'snowwhite: no AWS credentials: give --profile NAME or set AWS_PROFILE (for an SSO profile run `aws sso login --profile NAME` first), or use --local to act on this host only\n',
  );
  expect(human.err).not.toMatch(/NodeVersionSupportWarning|CredentialsProviderError/);

  const script = await viaPipes(['status', 'workers', 'MY-APP', 'us-east-1', '--yes', '--json']);
  expect(script.code).toBe(1);
  expect(
    script.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
  ).toEqual([
    {
      event: 'error',
      error: 'no_credentials',
      message: expect.stringMatching(/^no AWS credentials/),
      exitCode: 1,
    },
  ]);
});

test('--profile or AWS_PROFILE naming a missing profile says so, and which profiles exist is one command away', async () => {
  const env = bareEnv();
  const config = join(env.HOME!, 'aws-config');
  writeFileSync(config, '[profile ops]\nregion = eu-west-1\n');
  const r = await viaPipes(['status', 'workers', 'MY-APP', '--profile', 'nosuch'], {
    ...env,
    AWS_CONFIG_FILE: config,
  });
  expect(r.code).toBe(1);
  expect(r.err).toBe(
    'snowwhite: AWS profile "nosuch" is not in ~/.aws/config or ~/.aws/credentials: `aws configure list-profiles` lists those there (`aws configure sso` adds an SSO one)\n',
  );
  const fromEnv = await viaPipes(['status', 'workers', 'MY-APP', '--json'], {
    ...env,
    AWS_CONFIG_FILE: config,
    AWS_PROFILE: 'gone',
  });
  expect(JSON.parse(fromEnv.out)).toMatchObject({ event: 'error', error: 'profile_not_found' });
  expect(fromEnv.err).toContain('"gone" (AWS_PROFILE)');
});

test('usage errors and help, through pipes', async () => {
  const bad = await viaPipes(['quiet', '--json']);
  expect(bad.code).toBe(64);
  expect(JSON.parse(bad.out)).toMatchObject({ event: 'error', error: 'usage', exitCode: 64 });
  const help = await viaPipes(['help', 'wake']);
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/^usage: snowwhite wake /);
  expect((await viaPipes(['-v'])).out).toMatch(/^snowwhite \d+\.\d+\.\d+\n$/);
});
