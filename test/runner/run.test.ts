import { MonitoringStoppedError, type InstanceExecutor } from '../../runner/drain/executor';
import type { Reporter, RunSummary } from '../../runner/drain/reporter';
import { deadlineFor, runDrain, unfinishedOutcome, type RunDrainOptions } from '../../runner/drain/run';
import type { TargetPlan, TargetSource } from '../../runner/drain/targets';
import { throttlingError } from '../support/aws-errors';
import { runRequest } from '../support/run-request';
import { VirtualClock } from './support/virtual-clock';

/** runDrain on its own: in-memory targets, executor and reporter (no SSM, no Slack). */

const request = runRequest({ executionTimeoutSeconds: 600, drainTimeoutSeconds: 300 });

const plan: TargetPlan = {
  environments: [
    {
      name: 'w1',
      reachable: [
        { instanceId: 'i-1', environment: 'w1' },
        { instanceId: 'i-2', environment: 'w1' },
      ],
      unreachable: [{ instanceId: 'i-3', environment: 'w1', reason: 'not registered with SSM' }],
    },
  ],
  otherEnvironments: [],
};
const targets = (p: TargetPlan | Error): TargetSource => ({
  resolve: async () => {
    if (p instanceof Error) throw p;
    return p;
  },
});

function recordingReporter(overrides: Partial<Reporter> = {}) {
  const events: string[] = [];
  let summary: RunSummary | undefined;
  const reporter: Reporter = {
    started: async (p) =>
      void events.push(`started ${p.environments.map((e) => `${e.name}:${e.reachable}+${e.unreachable}`)}`),
    progress: (s) => void events.push(`progress ${s.environments[0]?.done}/${s.environments[0]?.total}`),
    finished: async (s) => {
      summary = s;
      events.push(`finished ${s.exitCode}`);
    },
    interrupted: async (i) => void events.push(`interrupted ${i.commandIds.join(',')}`),
    ...overrides,
  };
  return { reporter, events, summary: () => summary };
}

/** The plan without its unreachable instance. */
const reachableOnly: TargetPlan = { ...plan, environments: [{ ...plan.environments[0]!, unreachable: [] }] };

/** An executor for runs that must end before any command is sent. */
const mustNotRun: InstanceExecutor['execute'] = async () => {
  throw new Error('must not run');
};

/** runDrain of `request` over `plan` with `execute` as executor and a recording reporter. */
async function drain(
  execute: InstanceExecutor['execute'],
  overrides: Partial<Omit<RunDrainOptions, 'reporter'>> & { reporter?: Partial<Reporter> } = {},
) {
  const { reporter, ...options } = overrides;
  const rec = recordingReporter(reporter);
  const result = await runDrain({
    request,
    targets: targets(plan),
    executor: { execute },
    reporter: rec.reporter,
    ...options,
  });
  return { result, rec };
}

describe('runDrain', () => {
  it('acts only on the instances a Retry names, and drops environments left with none', async () => {
    const id = (n: number) => `i-0000000${n}`.padEnd(10, '0');
    const fleet: TargetPlan = {
      environments: [
        {
          name: 'w1',
          reachable: [
            { instanceId: id(1), environment: 'w1' },
            { instanceId: id(2), environment: 'w1' },
          ],
          unreachable: [{ instanceId: id(3), environment: 'w1', reason: 'offline' }],
        },
        { name: 'w2', reachable: [{ instanceId: id(4), environment: 'w2' }], unreachable: [] },
      ],
      otherEnvironments: [],
    };
    const sent: string[] = [];
    const { result, rec } = await drain(
      async (req, l) => {
        sent.push(...req.targets.map((t) => t.instanceId));
        for (const t of req.targets) l.finished({ ...t, kind: 'drained', reason: 'ok' });
      },
      { targets: targets(fleet), request: runRequest({ instanceIds: [id(2), id(3)] }) },
    );
    expect(sent).toEqual([id(2)]);
    expect(rec.events[0]).toBe('started w1:1+1');
    expect(result.outcomes.map((o) => `${o.instanceId}:${o.kind}`).sort()).toEqual([
      `${id(2)}:drained`,
      `${id(3)}:unreachable`,
    ]);
  });

  it('reports the plan, progress and a summary with unreachable instances counted as done-but-failed', async () => {
    const { result, rec } = await drain(async (req, l) => {
      l.dispatched(
        'h-1',
        req.targets.map((t) => t.instanceId),
      );
      for (const t of req.targets) l.finished({ ...t, kind: 'drained', reason: 'ok' });
    });
    expect(rec.events).toEqual(['started w1:2+1', 'progress 2/3', 'progress 3/3', 'finished 1']);
    expect(result).toMatchObject({ exitCode: 1, commandIds: ['h-1'], interrupted: false });
    expect(result.outcomes.map((o) => `${o.instanceId}:${o.kind}`).sort()).toEqual([
      'i-1:drained',
      'i-2:drained',
      'i-3:unreachable',
    ]);
  });

  it('gives instances with no result by the deadline a timed-out outcome', async () => {
    const clock = new VirtualClock();
    let deadline = 0;
    const { result } = await drain(
      async (req, l) => {
        deadline = req.deadline;
        l.finished({ ...req.targets[0]!, kind: 'busy_at_deadline', reason: '1 job' });
      },
      { targets: targets(reachableOnly), clock },
    );
    expect(deadline).toBe(deadlineFor(clock.now(), 600));
    expect(deadline - clock.now()).toBe((600 + 720) * 1000);
    expect(result.exitCode).toBe(1);
    expect(result.outcomes.find((o) => o.instanceId === 'i-2')).toMatchObject({
      kind: 'timed_out',
      reason: expect.stringContaining("runner's deadline"),
    });
  });

  it('turns a target-listing error into a reported failure (exit 1), not a crash', async () => {
    const { result, rec } = await drain(mustNotRun, { targets: targets(throttlingError()) });
    expect(result.exitCode).toBe(1);
    // Public: what failed and an error id; the AWS error itself only in the details (log, requester).
    const summary = rec.summary()!;
    expect(summary.error).toMatch(/^could not list the targets \(error id `E[0-9a-f]{8}`\)$/);
    expect(summary.errorDetails).toEqual([
      { errorId: /`(E[0-9a-f]{8})`/.exec(summary.error!)![1], detail: 'ThrottlingException: Rate exceeded' },
    ]);
  });

  it('is not stopped by a reporter that throws', async () => {
    const { result, rec } = await drain(
      async (req, l) => {
        for (const t of req.targets) l.finished({ ...t, kind: 'drained', reason: 'ok' });
      },
      {
        targets: targets(reachableOnly),
        reporter: {
          started: async () => {
            throw new Error('slack exploded');
          },
          progress: () => {
            throw new Error('slack exploded again');
          },
        },
      },
    );
    expect(result.exitCode).toBe(0);
    expect(rec.events).toEqual(['finished 0']);
  });

  it('reports an interruption that came before any command was sent', async () => {
    const controller = new AbortController();
    const { result, rec } = await drain(mustNotRun, {
      targets: {
        resolve: async () => {
          controller.abort();
          return plan;
        },
      },
      signal: controller.signal,
    });
    expect(result).toMatchObject({ exitCode: 1, interrupted: true, commandIds: [] });
    expect(rec.events).toEqual(['interrupted ']);
  });

  it('when the executor stops following, says which commands may still run; their instances are unknown, not failed', async () => {
    const { result, rec } = await drain(async (req, l) => {
      l.dispatched('h-1', [req.targets[0]!.instanceId]);
      l.dispatched('h-2', [req.targets[1]!.instanceId]);
      l.finished({ ...req.targets[0]!, kind: 'drained', reason: 'ok' });
      throw new MonitoringStoppedError(
        'SSM polling failed 10 rounds in a row (last: 503)',
        ['h-2'],
        'SSM polling failed 10 rounds in a row',
      );
    });
    expect(result).toMatchObject({
      exitCode: 1,
      interrupted: false,
      monitoringStopped: {
        reason: expect.stringMatching(/^SSM polling failed 10 rounds in a row \(error id `E[0-9a-f]{8}`\)$/),
        commandIds: ['h-2'],
      },
    });
    expect(result.error).toBeUndefined();
    const summary = rec.summary()!;
    expect(summary.error).toBeUndefined();
    expect(summary.monitoringStopped?.commandIds).toEqual(['h-2']);
    expect(summary.errorDetails?.[0]?.detail).toBe('SSM polling failed 10 rounds in a row (last: 503)');
    expect(summary.outcomes.find((o) => o.instanceId === 'i-2')).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/stopped following SSM command h-2 .*may still be running/),
    });
  });
});

describe('unfinishedOutcome', () => {
  const t = { instanceId: 'i-9', environment: 'w' };
  it('is unknown when a command reached the instance, failed when none did, timed out otherwise', () => {
    expect(unfinishedOutcome(t, { stoppedFollowing: 'x', commandId: 'c' }).kind).toBe('unknown');
    expect(unfinishedOutcome(t, { error: 'boom', commandId: 'c' }).kind).toBe('unknown');
    expect(unfinishedOutcome(t, { error: 'boom' })).toMatchObject({
      kind: 'failed',
      reason: 'not started: boom',
    });
    expect(unfinishedOutcome(t, {}).kind).toBe('timed_out');
  });
});
