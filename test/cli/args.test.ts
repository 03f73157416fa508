import { localNames, parseCli } from '../../runner/cli/args';
import { callerNameFromArn } from '../../runner/cli/caller';
import { formatRunnerLogLine, logStreamFor } from '../../runner/cli/follow';
import { summaryTable } from '../../runner/cli/console-reporter';
import { runRequest } from '../support/run-request';
import { resolveRegions } from '../../runner/cli/regions';
import { cliMain } from '../../runner/cli/main';
import { isYes, previewText } from '../../runner/cli/preview';
import packageJson from '../../package.json';
import { captureIo } from './support/capture-io';

const errorOf = (argv: string[]): string => {
  const r = parseCli(argv);
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`);
  return r.message;
};

describe('snowwhite command line arguments', () => {
  test('a full command with options', () => {
    expect(
      parseCli([
        'stop',
        'workers',
        'MY-APP',
        'eu-west-1',
        '--timeout',
        '900',
        '--execution-timeout',
        '1800',
        '--follow',
      ]),
    ).toEqual({
      kind: 'run',
      options: expect.objectContaining({
        action: 'stop',
        envPattern: 'workers',
        application: 'MY-APP',
        region: 'eu-west-1',
        drainTimeoutSeconds: 900,
        executionTimeoutSeconds: 1800,
        follow: true,
        local: false,
      }),
    });
  });

  test('--help, -h, help and --version', () => {
    expect(parseCli(['--help'])).toEqual({ kind: 'help' });
    expect(parseCli(['quiet', '-h'])).toEqual({ kind: 'help', topic: 'quiet' });
    expect(parseCli(['help'])).toEqual({ kind: 'help' });
    expect(parseCli(['HELP'])).toEqual({ kind: 'help' });
    expect(parseCli(['--version'])).toEqual({ kind: 'version' });
    expect(parseCli(['-v'])).toEqual({ kind: 'version' });
    expect(parseCli(['version'])).toEqual({ kind: 'version' });
    // help <action> was a usage error: now the action's own help.
    expect(parseCli(['help', 'quiet'])).toEqual({ kind: 'help', topic: 'quiet' });
    expect(parseCli(['help', 'DOCTOR'])).toEqual({ kind: 'help', topic: 'doctor' });
    expect(parseCli(['wake', '--help'])).toEqual({ kind: 'help', topic: 'wake' });
    expect(errorOf(['help', 'reboot'])).toBe(
      'no help on "reboot": quiet, stop, wake, status, history, setup, doctor, manifest',
    );
  });

  test('a --local run is named for this host, never a region; the names only when typed', () => {
    const names = (argv: string[]) => {
      const r = parseCli(argv);
      if (r.kind !== 'run') throw new Error(`not a run: ${JSON.stringify(r)}`);
      return localNames(r.options);
    };
    expect(names(['status', '--local'])).toEqual({ where: 'on this host', environment: 'this host' });
    expect(names(['status', '--local', '--region', 'eu-west-1'])).toEqual({
      where: 'on this host',
      environment: 'this host',
    });
    expect(names(['quiet', 'workers', '--local'])).toEqual({
      where: 'workers on this host',
      environment: 'workers (this host)',
    });
    expect(names(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local'])).toEqual({
      where: 'workers in MY-APP on this host',
      environment: 'MY-APP/workers (this host)',
    });
  });

  test('--local needs neither a region nor an application', () => {
    expect(parseCli(['status', '--local'])).toMatchObject({
      kind: 'run',
      options: { action: 'status', local: true, envPattern: 'sidekiq', application: 'this-host' },
    });
    expect(parseCli(['quiet', 'workers', '--local', '--timeout', '2m'])).toMatchObject({
      options: { envPattern: 'workers', drainTimeoutSeconds: 120 },
    });
    expect(errorOf(['status'])).toMatch(/^expected <action> <env-pattern> <eb-application>/);
  });

  test('the hints the script gives name options the command line takes', () => {
    // sidekiqctl.sh says "give --restart-command or --supervisor systemd:UNIT|supervisord:PROGRAM|runit:DIR|none"
    // and "wait for them, or use --force": each is accepted with --local.
    for (const extra of [
      ['--restart-command', 'systemctl restart sk'],
      ['--supervisor', 'systemd:sidekiq@2.service'],
      ['--supervisor', 'supervisord:sidekiq'],
      ['--supervisor', 'runit:/etc/sv/sidekiq'],
      ['--supervisor', 'none'],
      ['--force'],
    ])
      expect(parseCli(['wake', '--local', ...extra])).toMatchObject({ kind: 'run' });
    expect(errorOf(['wake', '--local', '--supervisor', 'cron:x'])).toBe(
      '--supervisor: must be systemd:UNIT, supervisord:PROGRAM, runit:DIR or none',
    );
    expect(errorOf(['quiet', '--local', '--force'])).toBe('--force goes with wake only');
    expect(errorOf(['wake', 'w', 'A', 'us-east-1', '--force'])).toMatch(/go with --local/);
  });

  test('--execution-timeout takes durations as --timeout does', () => {
    const r = parseCli(['quiet', 'w', 'A', 'us-east-1', '--execution-timeout', '3h']);
    expect(r).toMatchObject({ options: { executionTimeoutSeconds: 10800 } });
    expect(errorOf(['quiet', 'w', 'A', 'us-east-1', '--execution-timeout', 'soon'])).toMatch(
      /^--execution-timeout: "soon" is not a duration/,
    );
  });

  test('--profile, --region, --stack-region and the other commands', () => {
    expect(parseCli(['status', 'w', 'A', '--region', 'EU-WEST-1', '--profile', 'ops-sso'])).toMatchObject({
      options: { region: 'eu-west-1', profile: 'ops-sso' },
    });
    expect(errorOf(['status', 'w', 'A', 'us-east-1', '--region', 'eu-west-1'])).toBe(
      '<region> us-east-1 and --region eu-west-1 differ: give one',
    );
    expect(errorOf(['status', 'w', 'A', '--profile', 'a b'])).toBe('--profile: is not an AWS profile name');
    expect(parseCli(['setup', '--stack-region', 'eu-west-1'])).toEqual({
      kind: 'setup',
      options: { json: false, stackRegion: 'eu-west-1' },
    });
    expect(parseCli(['history', 'MY-APP', '--json'])).toEqual({
      kind: 'history',
      options: { json: true, application: 'MY-APP' },
    });
    expect(
      parseCli(['doctor', '--application', 'MY-APP', '--region', 'us-east-1', '--member', 'U0123ABCD']),
    ).toMatchObject({
      kind: 'doctor',
      options: { application: 'MY-APP', region: 'us-east-1', member: 'U0123ABCD' },
    });
    expect(errorOf(['history', '--yes'])).toBe('--yes does not go with history');
    expect(errorOf(['setup', '--stack-region', 'mars-1'])).toBe(
      '--stack-region: "mars-1" is not an AWS region (for example us-east-1, eu-west-1)',
    );
    // A usage error knows it was asked for JSON.
    expect(parseCli(['quiet', '--json'])).toMatchObject({ kind: 'error', json: true });
  });

  test('action and region in any case, as Slack takes them', () => {
    const r = parseCli(['QUIET', 'workers', 'MY-APP', 'US-EAST-1']);
    expect(r).toMatchObject({ kind: 'run', options: { action: 'quiet', region: 'us-east-1' } });
    // The application and pattern keep their case: Elastic Beanstalk names are case-sensitive.
    expect(r).toMatchObject({ options: { application: 'MY-APP', envPattern: 'workers' } });
  });

  test('the region may come from the environment later: three arguments are enough', () => {
    const r = parseCli(['status', 'workers', 'MY-APP']);
    expect(r).toMatchObject({ kind: 'run', options: { action: 'status' } });
    expect(r.kind === 'run' && r.options.region).toBeUndefined();
  });

  test('--timeout in seconds, minutes or hours, raising the execution timeout with it', () => {
    const opts = (t: string) => {
      const r = parseCli(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', t]);
      if (r.kind !== 'run') throw new Error(r.kind === 'error' ? r.message : r.kind);
      return [r.options.drainTimeoutSeconds, r.options.executionTimeoutSeconds];
    };
    expect(opts('900')).toEqual([900, 7200]);
    expect(opts('90s')).toEqual([90, 7200]);
    expect(opts('15m')).toEqual([900, 7200]);
    expect(opts('4h')).toEqual([14400, 15000]);
    // The help allowed it and it crashed with a ZodError dump: now the execution timeout follows.
    expect(opts('8000')).toEqual([8000, 8600]);
    expect(opts('47h')).toEqual([169200, 169800]);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '48h'])).toBe(
      '--timeout: must be between 1s and 47h 50m (172200 seconds)',
    );
    expect(
      errorOf(['quiet', 'w', 'A', 'us-east-1', '--timeout', '9000', '--execution-timeout', '8000']),
    ).toBe(
      '--execution-timeout: must be longer than --timeout, or SSM stops the script before the drain ends',
    );
  });

  test('--yes, --dry-run and --json', () => {
    expect(parseCli(['stop', 'w', 'A', 'us-east-1', '--yes', '--json'])).toMatchObject({
      options: { yes: true, json: true, dryRun: false },
    });
    expect(parseCli(['stop', 'w', 'A', 'us-east-1', '--dry-run'])).toMatchObject({
      options: { dryRun: true },
    });
    expect(errorOf(['stop', 'w', 'A', 'us-east-1', '--dry-run', '--local'])).toMatch(/^--dry-run goes with/);
  });

  test('says precisely what is wrong, in one line', () => {
    expect(errorOf([])).toBe(
      'expected <action> <env-pattern> <eb-application> [<region>], got 0 arguments (actions: quiet, stop, wake, status, history, setup, doctor, manifest; or `snowwhite help`)',
    );
    expect(errorOf(['quiet', 'workers'])).toMatch(/got 2 arguments/);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', 'extra'])).toBe('too many arguments: extra');
    expect(errorOf(['reboot', 'workers', 'MY-APP', 'us-east-1'])).toBe(
      'unknown action "reboot" (quiet, stop, wake, status, history, setup, doctor, manifest)',
    );
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-middle-1'])).toMatch(
      /^<region>: "us-middle-1" is not an AWS region/,
    );
    expect(errorOf(['quiet', 'work ers', 'MY-APP', 'us-east-1'])).toMatch(/^<env-pattern>: /);
    expect(errorOf(['quiet', 'workers', 'MY/APP', 'us-east-1'])).toMatch(/^<eb-application>: .*"\/"/);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', 'soon'])).toBe(
      '--timeout: "soon" is not a duration: use seconds, minutes or hours, for example 90, 90s, 15m or 4h',
    );
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '0'])).toMatch(
      /^--timeout: must be between 1s/,
    );
    // Several problems: the first, on one line.
    expect(errorOf(['quiet', 'work ers', 'MY/APP', 'nowhere-1'])).not.toContain('\n');
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--frobnicate'])).toMatch(/--frobnicate/);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--local', '--follow'])).toMatch(
      /--follow goes with/,
    );
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--match', 'x'])).toMatch(/go with --local/);
  });

  test('every accepted command makes a valid run request', () => {
    const r = parseCli([
      'wake',
      'w',
      'A',
      'us-east-1',
      '--local',
      '--restart-command',
      'systemctl restart sk',
    ]);
    if (r.kind !== 'run') throw new Error(r.kind);
    const { action, envPattern, application, region } = r.options;
    expect(() => runRequest({ action, envPattern, application, region })).not.toThrow();
  });
});

describe('caller names', () => {
  test.each([
    ['arn:aws:iam::123456789012:user/alice', 'alice', true],
    ['arn:aws:iam::123456789012:user/ops/team/bob@example.com', 'bob@example.com', true],
    ['arn:aws:sts::123456789012:assumed-role/OpsAdmin/carol', 'carol', false],
    ['arn:aws-us-gov:iam::123456789012:root', 'root', false],
  ])('%s → %s', (arn, name, isIamUser) => {
    expect(callerNameFromArn(arn)).toEqual({ name, isIamUser });
  });
});

describe('following the runner', () => {
  test('the awslogs stream of a task', () => {
    expect(logStreamFor('arn:aws:ecs:us-east-1:123456789012:task/snowwhite/abc123', 'runner')).toBe(
      'runner/runner/abc123',
    );
  });

  test('runner JSON log lines read as sentences; other lines pass through', () => {
    expect(
      formatRunnerLogLine(
        JSON.stringify({
          time: '2026-11-21T10:11:12.000Z',
          level: 'info',
          event: 'run starting',
          runId: 'r',
          action: 'quiet',
        }),
      ),
    ).toBe('10:11:12 run starting {"action":"quiet"}');
    expect(
      formatRunnerLogLine(
        JSON.stringify({ time: '2026-11-21T10:11:12.000Z', level: 'error', event: 'boom' }),
      ),
    ).toBe('10:11:12 ERROR boom');
    expect(formatRunnerLogLine('plain text')).toBe('plain text');
  });
});

test('the summary table has one row per instance, columns aligned', () => {
  const request = runRequest();
  const table = summaryTable({
    request,
    exitCode: 2,
    elapsedMs: 1000,
    commandIds: [],
    outcomes: [
      {
        instanceId: 'i-1',
        environment: 'A-workers',
        kind: 'drained',
        reason: 'drained',
        busyJobs: 0,
        elapsedSeconds: 7.94,
      },
      {
        instanceId: 'i-22',
        environment: 'A-workers',
        kind: 'busy_at_deadline',
        reason: '2 jobs still running',
        busyJobs: 2,
      },
      {
        instanceId: 'i-333',
        environment: 'A-workers',
        kind: 'drained',
        reason: 'drained',
        busyJobs: 0,
        elapsedSeconds: 754.2,
      },
    ],
  });
  const lines = table.split('\n');
  expect(lines).toHaveLength(5);
  expect(lines[0]).toMatch(/^environment\s+instance\s+outcome\s+busy jobs\s+took\s+detail$/);
  expect(lines[2]).toMatch(/^A-workers\s+i-1\s+drained\s+0\s+8s\s+drained$/);
  expect(lines[3]).toMatch(/^A-workers\s+i-22\s+still busy at the deadline\s+2\s+-\s+2 jobs still running$/);
  // Durations as everywhere else on the command line (formatDuration), not decimal seconds.
  expect(lines[4]).toMatch(/^A-workers\s+i-333\s+drained\s+0\s+12m 34s\s+drained$/);
  expect(lines[2]!.indexOf('drained')).toBe(lines[3]!.indexOf('still busy'));
});

describe('which regions', () => {
  test('the argument is the fleet; the clients use the configured region, else the fleet', () => {
    expect(resolveRegions({ argument: 'eu-west-1', env: {} })).toEqual({
      fleet: 'eu-west-1',
      aws: 'eu-west-1',
    });
    expect(resolveRegions({ argument: 'eu-west-1', env: { AWS_REGION: 'us-east-1' } })).toEqual({
      fleet: 'eu-west-1',
      aws: 'us-east-1',
    });
    expect(resolveRegions({ env: { AWS_DEFAULT_REGION: 'US-WEST-2' } })).toEqual({
      fleet: 'us-west-2',
      aws: 'us-west-2',
    });
    expect(resolveRegions({ env: {}, profile: 'ap-south-1' })).toEqual({
      fleet: 'ap-south-1',
      aws: 'ap-south-1',
    });
  });

  test('none anywhere, or an invalid one configured: a message that says where to put one', () => {
    expect(resolveRegions({ env: {} })).toEqual({
      error:
        'no AWS region: give the fleet region as the 4th argument (for example us-east-1), or set AWS_REGION or a region in your AWS profile',
    });
    expect(resolveRegions({ argument: 'us-east-1', env: { AWS_REGION: 'mars-1' } })).toEqual({
      error: 'AWS_REGION is "mars-1", which is not an AWS region (for example us-east-1)',
    });
  });
});

describe('the command line speaks in one line', () => {
  const cli = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const { io, out, err } = captureIo();
    const code = await cliMain(argv, {
      io,
      env,
      clients: () => {
        throw new Error('must not reach AWS');
      },
      profileRegion: async () => undefined,
    });
    return { code, out: out(), err: err() };
  };

  test('a usage error: one line, "see --help", exit 64', async () => {
    const r = await cli(['quiet', 'workers', 'MY-APP', 'us-middle-1']);
    expect(r).toEqual({
      code: 64,
      out: '',
      err: `snowwhite: <region>: "us-middle-1" is not an AWS region (for example us-east-1, eu-west-1) (see 'snowwhite --help')\n`,
    });
  });

  test('a typed but invalid region is named, never "Region is missing"; none at all says where to put one', async () => {
    expect((await cli(['quiet', 'workers', 'MY-APP', 'US-MIDDLE-1'])).err).toMatch(
      /"US-MIDDLE-1" is not an AWS region/,
    );
    const none = await cli(['quiet', 'workers', 'MY-APP']);
    expect(none.code).toBe(64);
    expect(none.err).toBe(
      "snowwhite: no AWS region: give the fleet region as the 4th argument (for example us-east-1), or set AWS_REGION or a region in your AWS profile (see 'snowwhite --help')\n",
    );
  });

  test('help and --version', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: snowwhite/);
    const version = await cli(['--version']);
    expect(version).toEqual({ code: 0, out: `snowwhite ${packageJson.version}\n`, err: '' });
  });
});

describe('the preview', () => {
  const env = (name: string, instanceCount: number, status = 'Ready') => ({
    id: `e-${name}`,
    name,
    status,
    instanceCount,
    instanceIds: [],
  });
  test('lists the environments, the totals, what happens and the drain timeout; names from outside are made printable', () => {
    const text = previewText(
      {
        action: 'quiet',
        envPattern: 'workers',
        application: 'MY-APP',
        region: 'us-east-1',
        drainTimeoutSeconds: 14400,
      },
      {
        environments: [env('MY-APP-workers', 3), env('MY-APP-workers-b\x1b[2J', 1, 'Updating')],
        totalInstances: 4,
        others: [],
      },
    );
    expect(text.split('\n')).toEqual([
      'quiet on the environments of MY-APP in us-east-1 whose name contains "workers":',
      '  MY-APP-workers: 3 instances',
      '  MY-APP-workers-b?[2J: 1 instance (Updating)',
      '  2 environments, 4 instances',
      expect.stringMatching(/^Every Sidekiq process stops taking new jobs/),
      'Drain timeout: 4h 0m (workers still busy then are left running and reported; nothing is killed).',
    ]);
    expect(isYes('y')).toBe(true);
    expect(isYes(' YES ')).toBe(true);
    expect(isYes('')).toBe(false);
    expect(isYes('yep')).toBe(false);
    expect(isYes(undefined)).toBe(false);
  });
});
