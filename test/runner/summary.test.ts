import type { InstanceOutcome } from '../../runner/drain/outcome';
import type { RunSummary } from '../../runner/drain/reporter';
import { decodeButtonValue, REQUEST_ACTION_ID, requestButtonValueSchema } from '../../runner/slack/buttons';
import { runLinks } from '../../runner/slack/links';
import {
  interruptedText,
  progressBar,
  progressText,
  summaryActions,
  summaryReport,
  summaryText,
} from '../../runner/slack/text';
import { simulatedFleet as fleet } from './support/simulated-fleet';
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

  it('counts per environment and lists each instance, problems first', () => {
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
    expect(text).toContain('• *workers-a* (3): 2 drained, 1 still busy');
    expect(text).toContain('• *workers-b* (1): 1 unreachable');
    expect(lines.findIndex((l) => l.includes('i-0002'))).toBeLessThan(
      lines.findIndex((l) => l.includes('i-0001')),
    );
    expect(lines.findIndex((l) => l.includes('i-0003'))).toBeLessThan(
      lines.findIndex((l) => l.includes('i-0001')),
    );
    expect(text).toContain('`i-0002` (workers-a) still busy at the deadline — 2 jobs still running');
    expect(text).toContain('`i-0004` (workers-a) drained — 1 process, 0 busy, 8s');
    expect(text).toContain('SSM commands: `cmd-1`');
    expect(summaryReport(summary([outcome(1, 'drained')])).file).toBeUndefined();
  });

  it('links the ECS task, the runner log and each SSM command when it knows them', () => {
    const links = runLinks({
      runId: 'run-1',
      region: 'us-east-1',
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/snowwhite/0123456789abcdef0123456789abcdef',
      logGroup: '/ecs/snowwhite',
      logStream: 'runner/runner/0123456789abcdef0123456789abcdef',
    });
    const text = summaryText(summary([outcome(1, 'drained')]), links);
    expect(text).toContain(
      '<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/snowwhite/tasks/0123456789abcdef0123456789abcdef/configuration?region=eu-west-1|ECS task>',
    );
    expect(text).toContain(
      '<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fsnowwhite/log-events/runner$252Frunner$252F0123456789abcdef0123456789abcdef|runner log>',
    );
    expect(text).toContain(
      'SSM commands: <https://us-east-1.console.aws.amazon.com/systems-manager/run-command/cmd-1?region=us-east-1|cmd-1>',
    );
  });

  it('shows, for status, which workers are quiet, awake and busy: per environment and per process', () => {
    const status = runRequest({ action: 'status' });
    const text = summaryText({
      request: status,
      exitCode: 0,
      elapsedMs: 5_000,
      commandIds: [],
      outcomes: [
        {
          ...outcome(1, 'drained'),
          processes: 2,
          sidekiq: [
            { pid: 11, busy: 0, concurrency: 3, quiet: true },
            { pid: 12, tag: 'mail', busy: 2, concurrency: 5, quiet: false },
          ],
        },
      ],
    });
    expect(text).toContain('• *workers-a* (1): 1 reported — 1 quiet · 1 awake · 2 busy of 8 threads');
    expect(text).toContain('`i-0001` reported — pid 11 quiet 0/3 busy; pid 12 (mail) awake 2/5 busy');
  });

  it('escapes what came from outside: instance output, names, errors', () => {
    const hostile = '<!channel> <https://evil.example|click> & co';
    const text = summaryText(
      summary(
        [
          { ...outcome(1, 'failed', `env<!here>`), reason: hostile },
          {
            ...outcome(2, 'drained'),
            sidekiq: [{ pid: 1, tag: '<!everyone>', busy: 0, concurrency: 1, quiet: true }],
          },
        ],
        { request: runRequest({ application: 'A&<b>' }) },
      ),
    );
    expect(text).not.toMatch(/<!(channel|here|everyone)>/);
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co');
    expect(text).toContain('*env&lt;!here&gt;*');
    expect(text).toContain('A&amp;&lt;b&gt;');
    expect(text).toContain('(&lt;!everyone&gt;)');
    expect(summaryText(summary([], { exitCode: 1, error: 'AccessDenied: <@U123> & <!channel>' }))).toContain(
      'AccessDenied: &lt;@U123&gt; &amp; &lt;!channel&gt;',
    );
  });

  it('at 10 instances, says everything in one message and attaches nothing', () => {
    const ten = fleet(10, 2);
    const report = summaryReport(summary(ten, { exitCode: 1 }));
    expect(report.file).toBeUndefined();
    expect(report.text.length).toBeLessThan(4_000);
    for (const o of ten) expect(report.text).toContain(`\`${o.instanceId}\``);
  });

  it('at 1,000 instances in 20 environments, stays under 4,000 characters and attaches the full list', () => {
    const many = fleet(1_000, 20);
    const commandIds = Array.from(
      { length: 20 },
      (_, i) => `0d6c3f1e-aaaa-bbbb-cccc-${String(i).padStart(12, '0')}`,
    );
    const report = summaryReport(summary(many, { exitCode: 1, commandIds }));
    expect(report.text.length).toBeLessThan(4_000);
    for (let e = 0; e < 20; e++)
      expect(report.text).toContain(`*workers-${String(e).padStart(2, '0')}* (50)`);
    const problems = many.filter((o) => o.kind !== 'drained');
    // Every problem instance is named in the message or in the file; the message says what it left out.
    for (const o of problems)
      expect(report.text.includes(`\`${o.instanceId}\``) || report.file!.content.includes(o.instanceId)).toBe(
        true,
      );
    expect(report.file!.filename).toBe('snowwhite-run-1.txt');
    for (const o of many) expect(report.file!.content).toContain(o.instanceId);
    for (const id of commandIds) expect(report.file!.content).toContain(id);
    expect(report.text).toMatch(
      /…and \d+ more instances \(\d+ with a problem\): the full list is in the attached file\.$/,
    );
    // Problems come before the drained ones in the message.
    expect(report.text.indexOf(':white_check_mark: `')).toBe(-1);
  });

  it('where nothing can be attached (an answer only its asker sees), says what it left out and how to see it', () => {
    const many = fleet(1_000, 20);
    const report = summaryReport(summary(many, { exitCode: 1, commandIds: ['cmd-1'] }), undefined, {
      attachable: false,
    });
    expect(report.text.length).toBeLessThan(4_000);
    expect(report.text).not.toContain('attached');
    expect(report.text).toMatch(
      /…and \d+ more instances \(\d+ with a problem\): ask again for fewer environments \(`=NAME`\) to see each of them\.$/,
    );
  });

  it('offers no Retry whose value Slack would cut: 80 failed instances in 20 long-named environments', () => {
    const env = (e: number) => `payments-background-workers-${String(e).padStart(2, '0')}-euw1`;
    const failed = Array.from({ length: 80 }, (_, i) => ({
      ...outcome(i, 'failed', env(i % 20)),
      instanceId: `i-0${String(i).padStart(16, '0')}`,
    }));
    const actions = summaryActions(summary(failed, { exitCode: 1 }))!;
    expect(actions.elements.map((b) => b.text.text)).toEqual(['Wake', 'Status']);
    for (const b of actions.elements) expect(b.value!.length).toBeLessThanOrEqual(2000);
    // Fewer of them fit, and the Retry names exactly those.
    const few = summaryActions(summary(failed.slice(0, 10), { exitCode: 1 }))!;
    const retry = few.elements.find((b) => b.text.text === 'Retry')!;
    expect(decodeButtonValue(requestButtonValueSchema, retry.value)!.instanceIds).toHaveLength(10);
  });

  it('offers Wake, Retry on exactly the failed and unreachable instances, and Status', () => {
    const many = fleet(100, 4);
    const actions = summaryActions(summary(many, { exitCode: 1 }))!;
    expect(actions.elements.map((b) => b.text.text)).toEqual(['Wake', 'Retry', 'Status']);
    const values = actions.elements.map((b) => decodeButtonValue(requestButtonValueSchema, b.value)!);
    // Exactly the environments the run acted on (the pattern might select more by now).
    expect(values[0]).toEqual({
      v: 1,
      action: 'wake',
      envPattern: '=workers-00,workers-01,workers-02,workers-03',
      application: 'MY-APP',
      region: 'us-east-1',
    });
    expect(values[1]!.action).toBe('quiet');
    expect(values[1]!.instanceIds).toEqual(
      many
        .filter((o) => o.kind === 'failed' || o.kind === 'unreachable')
        .map((o) => o.instanceId)
        .sort(),
    );
    expect(values[2]!.action).toBe('status');
    expect(new Set(actions.elements.map((b) => b.action_id)).size).toBe(3);
    for (const b of actions.elements) expect(b.action_id.startsWith(REQUEST_ACTION_ID)).toBe(true);
    // Nothing failed: no Retry; after status, no Wake.
    const clean = summaryActions({ ...summary(fleet(3, 1)), request: runRequest({ action: 'status' }) })!;
    expect(clean.elements.map((b) => b.text.text)).toEqual(['Status']);
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
    expect(rest[0]).toContain('Run Command (us-east-1): `cmd-2`');
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
