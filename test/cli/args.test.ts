import { parseCli } from '../../runner/cli/args';
import { callerNameFromArn } from '../../runner/cli/caller';
import { formatRunnerLogLine, logStreamFor } from '../../runner/cli/follow';
import { summaryTable } from '../../runner/cli/console-reporter';
import { runRequest } from '../support/run-request';

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
        stack: 'SnowWhite',
      }),
    });
  });

  test('--help and -h', () => {
    expect(parseCli(['--help'])).toEqual({ kind: 'help' });
    expect(parseCli(['quiet', '-h'])).toEqual({ kind: 'help' });
  });

  test('says precisely what is wrong', () => {
    expect(errorOf([])).toBe('expected 4 arguments (action, env-pattern, eb-application, region), got 0');
    expect(errorOf(['quiet', 'workers', 'MY-APP'])).toMatch(/got 3/);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', 'extra'])).toBe('too many arguments: extra');
    expect(errorOf(['reboot', 'workers', 'MY-APP', 'us-east-1'])).toBe(
      'unknown action "reboot" (quiet, stop, wake or status)',
    );
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-middle-1'])).toMatch(
      /^<region>: "us-middle-1" is not an AWS region/,
    );
    expect(errorOf(['quiet', 'work ers', 'MY-APP', 'us-east-1'])).toMatch(/^<env-pattern>: /);
    expect(errorOf(['quiet', 'workers', 'MY/APP', 'us-east-1'])).toMatch(/^<eb-application>: .*"\/"/);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', 'soon'])).toMatch(/^--timeout: /);
    expect(errorOf(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '0'])).toMatch(
      /^--timeout: must be at least 1/,
    );
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
    ],
  });
  const lines = table.split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/^environment\s+instance\s+outcome\s+busy jobs\s+seconds\s+detail$/);
  expect(lines[2]).toMatch(/^A-workers\s+i-1\s+drained\s+0\s+7\.9\s+drained$/);
  expect(lines[3]).toMatch(/^A-workers\s+i-22\s+still busy at the deadline\s+2\s+-\s+2 jobs still running$/);
  expect(lines[2]!.indexOf('drained')).toBe(lines[3]!.indexOf('still busy'));
});
