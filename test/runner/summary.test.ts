import type { InstanceOutcome } from '../../runner/drain/outcome';
import type { RunSummary } from '../../runner/drain/reporter';
import { interruptedText, progressBar, progressText, summaryText } from '../../runner/slack/text';
import { runRequest } from '../support/run-request';

const request = runRequest({
  action: 'quiet',
  envPattern: 'workers',
  application: 'MY-APP',
  region: 'us-east-1',
});
const outcome = (i: number, kind: InstanceOutcome['kind'], environment = 'workers-a'): InstanceOutcome => ({
  instanceId: `i-${String(i).padStart(4, '0')}`,
  environment,
  kind,
  reason:
    kind === 'busy_at_deadline' ? '2 jobs still running at the drain timeout (nothing was killed)' : kind,
});

describe('progress', () => {
  it('draws a bar proportional to done/total', () => {
    expect(progressBar(0, 10, 10)).toBe('░░░░░░░░░░ 0%');
    expect(progressBar(5, 10, 10)).toBe('█████░░░░░ 50%');
    expect(progressBar(10, 10, 10)).toBe('██████████ 100%');
    expect(progressBar(0, 0, 4)).toBe('████ 100%');
  });

  it('shows done/total overall and per environment', () => {
    const text = progressText({
      request,
      elapsedMs: 95_000,
      environments: [
        { name: 'workers-a', total: 10, done: 4, running: 6 },
        { name: 'workers-b', total: 2, done: 2, running: 0 },
      ],
    });
    expect(text).toContain('Quieting `workers` in MY-APP (us-east-1): 6/12 instances done, 1m 35s so far');
    expect(text).toContain('*workers-a*: 4/10 done, 6 running');
    expect(text).toContain('*workers-b*: 2/2 done  `██████████ 100%`');
  });
});

describe('summaryText', () => {
  const summary = (outcomes: InstanceOutcome[], extra: Partial<RunSummary> = {}): RunSummary => ({
    request,
    exitCode: 2,
    elapsedMs: 600_000,
    outcomes,
    commandIds: ['cmd-1'],
    ...extra,
  });

  it('lists each environment with counts and each instance, attention first', () => {
    const text = summaryText(
      summary([
        outcome(1, 'drained'),
        { ...outcome(4, 'drained'), processes: 1, busyJobs: 0, elapsedSeconds: 7.9 },
        outcome(2, 'busy_at_deadline'),
        outcome(3, 'unreachable', 'workers-b'),
      ]),
    );
    const lines = text.split('\n');
    expect(lines[0]).toContain(
      'finished in 10m 0s: 2 drained, 1 still busy at the deadline, 1 not reachable by SSM',
    );
    expect(text).toContain('*workers-a*: 2 drained, 1 still busy at the deadline');
    expect(lines.findIndex((l) => l.includes('i-0002'))).toBeLessThan(
      lines.findIndex((l) => l.includes('i-0001')),
    );
    expect(text).toContain('`i-0002` still busy at the deadline — 2 jobs still running');
    expect(text).toContain('`i-0004` drained — 1 process, 0 busy, 8s');
    expect(text).toContain('*workers-b*: 1 not reachable by SSM');
    expect(text).toContain('SSM commands: cmd-1');
  });

  it('stays readable for 5,000 instances', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      outcome(i, i % 100 === 0 ? 'failed' : 'drained', `env-${Math.floor(i / 1000)}`),
    );
    const text = summaryText(summary(many, { exitCode: 1 }));
    expect(text.length).toBeLessThan(40_000);
    expect(text).toContain('*env-0*: 990 drained, 10 failed');
    expect(text).toContain('…and 960 more');
  });

  it('explains an empty match with the live environments', () => {
    const text = summaryText(
      summary([], { exitCode: 1, noMatch: { otherEnvironments: ['web-prod', 'web-stg'] } }),
    );
    expect(text).toContain('no environment matches');
    expect(text).toContain('Live environments: web-prod, web-stg');
  });

  it('puts a run-level error in the headline', () => {
    expect(summaryText(summary([], { exitCode: 1, error: 'AccessDeniedException: nope' }))).toMatch(
      /^:x: quiet `workers` in MY-APP \(us-east-1\) failed: AccessDeniedException: nope/,
    );
  });
});

describe('summaryText when the runner stopped following', () => {
  it('says the commands may still run and names them; their instances are "result unknown", not failed', () => {
    const text = summaryText({
      request,
      exitCode: 1,
      elapsedMs: 3_600_000,
      outcomes: [
        outcome(1, 'drained'),
        { ...outcome(2, 'unknown'), reason: 'the runner stopped following SSM command cmd-2 (…)' },
      ],
      commandIds: ['cmd-1', 'cmd-2'],
      monitoringStopped: {
        reason: 'SSM polling failed 10 rounds in a row (last: 503)',
        commandIds: ['cmd-2'],
      },
    });
    const [head, ...rest] = text.split('\n');
    expect(head).toBe(
      ':x: quiet `workers` in MY-APP (us-east-1): the runner stopped following the SSM commands after 1h 0m (SSM polling failed 10 rounds in a row (last: 503)); so far 1 drained, 1 result unknown',
    );
    expect(head).not.toContain(' failed:');
    expect(rest[0]).toContain('may still be running on the instances');
    expect(rest[1]).toBe('• `cmd-2`');
    expect(text).toContain(
      ':grey_exclamation: `i-0002` result unknown — the runner stopped following SSM command cmd-2',
    );
  });
});

describe('interruptedText', () => {
  it('says the commands keep running and names them', () => {
    const text = interruptedText({
      request,
      commandIds: ['cmd-a', 'cmd-b'],
      snapshot: { request, elapsedMs: 1000, environments: [{ name: 'w', total: 3, done: 1, running: 2 }] },
    });
    expect(text).toContain('interrupted');
    expect(text).toContain('1/3 instances done');
    expect(text).toContain('keep running');
    expect(text).toContain('`cmd-a`');
    expect(text).toContain('`cmd-b`');
  });
});
