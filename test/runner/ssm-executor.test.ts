import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import {
  MonitoringStoppedError,
  type ExecutionListener,
  type ExecutionRequest,
} from '../../runner/drain/executor';
import type { InstanceOutcome } from '../../runner/drain/outcome';
import { createLogger } from '../../runner/log';
import type { Target } from '../../runner/drain/targets';
import { pollDelayMs } from '../../runner/aws/ssm-executor/poll-interval';
import {
  HEALTHY,
  judgeRound,
  MAX_CONSECUTIVE_FAILED_ROUNDS,
} from '../../runner/aws/ssm-executor/polling-health';
import { commandComment, findBatchCommand } from '../../runner/aws/ssm-executor/dispatch';
import { SsmExecutor } from '../../runner/aws/ssm-executor/executor';
import {
  joinPluginOutput,
  PLUGIN_OUTPUT_LIMIT,
  splitPluginOutput,
} from '../../runner/aws/ssm-executor/plugin-output';
import { awsError, httpError, networkError, throttlingError } from '../support/aws-errors';
import { mockSsmFleet } from './support/mock-ssm';
import { SCRIPTS, SsmFleet, type InstanceScript } from './support/ssm-fleet';
import { VirtualClock } from './support/virtual-clock';

const targets = (n: number, environment = 'workers-a'): Target[] =>
  Array.from({ length: n }, (_, i) => ({ instanceId: `i-${String(i).padStart(5, '0')}`, environment }));

function setup(scriptFor: (id: string) => InstanceScript, pageSize = 50) {
  const clock = new VirtualClock();
  const fleet = new SsmFleet(clock, scriptFor, pageSize);
  const { client, mock } = mockSsmFleet(fleet);
  const logs: string[] = [];
  const executor = new SsmExecutor(client, {
    documentName: (a) => `SnowWhite-${a}`,
    clock,
    concurrency: 4,
    log: createLogger({ write: (line) => logs.push(line) }),
  });
  const events: string[] = [];
  const outcomes = new Map<string, InstanceOutcome>();
  const commandIds: string[] = [];
  const listener: ExecutionListener = {
    dispatched: (id, ids) => {
      commandIds.push(id);
      events.push(`dispatched ${id} ${ids.length}`);
    },
    running: (id) => events.push(`running ${id}`),
    finished: (o) => {
      expect(outcomes.has(o.instanceId)).toBe(false);
      outcomes.set(o.instanceId, o);
      events.push(`finished ${o.instanceId} ${o.kind}`);
    },
  };
  const request = (ts: Target[], deadlineMs = 3 * 3600_000): ExecutionRequest => ({
    runId: 'run-1',
    action: 'quiet',
    targets: ts,
    drainTimeoutSeconds: 3600,
    executionTimeoutSeconds: 7200,
    deadline: clock.now() + deadlineMs,
  });
  return { clock, fleet, mock, executor, events, outcomes, commandIds, listener, request, logs };
}

const never = new AbortController().signal;

describe('SsmExecutor', () => {
  it('follows an instance from pending to in progress to success, with the script JSON', async () => {
    const s = setup(() => ({ ...SCRIPTS.drained(20_000), deliverAfterMs: 3_000 }));
    await s.executor.execute(s.request(targets(1)), s.listener, never);
    expect(s.events).toEqual(['dispatched cmd-0001 1', 'running i-00000', 'finished i-00000 drained']);
    expect(s.outcomes.get('i-00000')).toMatchObject({
      kind: 'drained',
      exitCode: 0,
      busyJobs: 0,
      processes: 1,
    });
    const send = s.mock.commandCalls(SendCommandCommand)[0]!.args[0].input;
    expect(send).toMatchObject({
      DocumentName: 'SnowWhite-quiet',
      InstanceIds: ['i-00000'],
      Parameters: { drainTimeout: ['3600'], executionTimeout: ['7200'] },
      MaxConcurrency: '100%',
      MaxErrors: '100%',
    });
    // The JSON came with the listing: no per-instance GetCommandInvocation.
    expect(s.mock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 0);
  });

  it('classifies mixed outcomes: 0, 2, 3, failure, execution timeout, undeliverable', async () => {
    const byId: Record<string, InstanceScript> = {
      'i-00000': SCRIPTS.drained(),
      'i-00001': SCRIPTS.busy(3),
      'i-00002': SCRIPTS.noSidekiq(),
      'i-00003': SCRIPTS.failed('could not signal 4242'),
      'i-00004': SCRIPTS.executionTimedOut(),
      'i-00005': SCRIPTS.undeliverable(),
    };
    const s = setup((id) => byId[id]!);
    await s.executor.execute(s.request(targets(6)), s.listener, never);
    const kinds = Object.fromEntries([...s.outcomes].map(([id, o]) => [id, o.kind]));
    expect(kinds).toEqual({
      'i-00000': 'drained',
      'i-00001': 'busy_at_deadline',
      'i-00002': 'no_sidekiq',
      'i-00003': 'failed',
      'i-00004': 'timed_out',
      'i-00005': 'unreachable',
    });
    expect(s.outcomes.get('i-00001')).toMatchObject({ busyJobs: 3, exitCode: 2 });
    expect(s.outcomes.get('i-00001')!.reason).toContain('3 jobs still running');
    expect(s.outcomes.get('i-00003')!.reason).toBe('could not signal 4242');
  });

  it('sends 120 instances in batches of at most 50 and polls at most one page per 50 per round', async () => {
    const s = setup(() => SCRIPTS.drained(60_000));
    let listsThisRound = 0;
    let maxListsPerRound = 0;
    s.mock.on(ListCommandInvocationsCommand).callsFake(async (input) => {
      listsThisRound += 1;
      return s.fleet.listCommandInvocations(input);
    });
    s.listener.cycle = () => {
      maxListsPerRound = Math.max(maxListsPerRound, listsThisRound);
      listsThisRound = 0;
    };
    await s.executor.execute(s.request(targets(120)), s.listener, never);
    const batches = s.mock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.InstanceIds!.length);
    expect(batches).toEqual([50, 50, 20]);
    const sentIds = s.mock.commandCalls(SendCommandCommand).flatMap((c) => c.args[0].input.InstanceIds!);
    expect(new Set(sentIds).size).toBe(120);
    expect(s.outcomes.size).toBe(120);
    expect(maxListsPerRound).toBe(3);
  });

  it('follows every page of ListCommandInvocations', async () => {
    const s = setup(() => SCRIPTS.drained(), 7);
    await s.executor.execute(s.request(targets(20)), s.listener, never);
    expect(s.outcomes.size).toBe(20);
    const tokens = s.mock.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input.NextToken);
    expect(tokens).toEqual(expect.arrayContaining([undefined, '7', '14']));
  });

  it('absorbs throttling on the first polling calls and slows down instead of failing', async () => {
    const s = setup(() => SCRIPTS.drained(1_000));
    s.mock
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(throttlingError())
      .rejectsOnce(throttlingError())
      .callsFake(async (input) => s.fleet.listCommandInvocations(input));
    await s.executor.execute(s.request(targets(3)), s.listener, never);
    expect([...s.outcomes.values()].map((o) => o.kind)).toEqual(['drained', 'drained', 'drained']);
    // Round 1 and 2 throttled: the waits after them double.
    expect(s.clock.sleeps.slice(0, 3)).toEqual([2_000, 4_000, 8_000]);
  });

  it('reads the full output with GetCommandInvocation (step plugin name) only when the listing cut it', async () => {
    const long = `${'x'.repeat(3000)}\n{"action":"quiet","result":"drained","processes":[{"busy":0}]}`;
    const s = setup((id) =>
      id === 'i-00000'
        ? { runMs: 1_000, final: { Status: 'Success', ResponseCode: 0, stdout: long } }
        : SCRIPTS.drained(1_000),
    );
    await s.executor.execute(s.request(targets(2)), s.listener, never);
    expect(s.mock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
    expect(s.mock).toHaveReceivedCommandWith(GetCommandInvocationCommand, {
      InstanceId: 'i-00000',
      PluginName: 'sidekiqctl',
    });
    expect(s.outcomes.get('i-00000')).toMatchObject({ kind: 'drained', processes: 1 });
  });

  it('fails the whole execution when no command could be sent (AccessDenied), without outcomes', async () => {
    const s = setup(() => SCRIPTS.drained());
    s.mock
      .on(SendCommandCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform ssm:SendCommand'));
    await expect(s.executor.execute(s.request(targets(60)), s.listener, never)).rejects.toThrow(
      'not authorized to perform ssm:SendCommand',
    );
    expect(s.outcomes.size).toBe(0);
  });

  it('marks only the batch whose SendCommand failed, and follows the others', async () => {
    const s = setup(() => SCRIPTS.drained());
    s.mock
      .on(SendCommandCommand)
      .rejectsOnce(awsError('InvalidInstanceId', 'i-00000 is not valid'))
      .callsFake(async (input) => s.fleet.sendCommand(input));
    await s.executor.execute(s.request(targets(60)), s.listener, never);
    const kinds = [...s.outcomes.values()].map((o) => o.kind);
    expect(kinds.filter((k) => k === 'failed')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'drained')).toHaveLength(10);
    // The reason is public (thread, channel): an error id, the AWS error only in the log under it.
    const reason = s.outcomes.get('i-00000')!.reason;
    const errorId = /^SendCommand failed \(error id `(E[0-9a-f]{8})`\)$/.exec(reason)?.[1];
    expect(errorId).toBeDefined();
    expect(reason).not.toContain('InvalidInstanceId');
    expect(s.logs.some((l) => l.includes(`"errorId":"${errorId}"`) && l.includes('InvalidInstanceId'))).toBe(
      true,
    );
  });

  it('stops at the deadline and leaves unfinished instances without an outcome', async () => {
    const s = setup(() => SCRIPTS.drained(10 * 3600_000));
    const started = s.clock.now();
    await s.executor.execute(s.request(targets(2), 600_000), s.listener, never);
    expect(s.outcomes.size).toBe(0);
    expect(s.clock.now() - started).toBe(600_000);
  });

  it('returns promptly when aborted, after the commands were sent', async () => {
    const s = setup(() => SCRIPTS.drained(3600_000));
    const controller = new AbortController();
    s.listener.cycle = () => controller.abort();
    await s.executor.execute(s.request(targets(3)), s.listener, controller.signal);
    expect(s.commandIds).toEqual(['cmd-0001']);
    expect(s.mock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
  });

  it('keeps following through a 5xx and a network timeout on ListCommandInvocations, backing off', async () => {
    const s = setup(() => SCRIPTS.drained(1_000));
    s.mock
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(httpError('InternalServerError', 500))
      .rejectsOnce(networkError('ETIMEDOUT'))
      .callsFake(async (input) => s.fleet.listCommandInvocations(input));
    await s.executor.execute(s.request(targets(3)), s.listener, never);
    expect([...s.outcomes.values()].map((o) => o.kind)).toEqual(['drained', 'drained', 'drained']);
    // Rounds 1 and 2 failed: skipped, and the waits after them double, as for throttling.
    expect(s.clock.sleeps.slice(0, 3)).toEqual([2_000, 4_000, 8_000]);
    expect(s.logs.some((l) => l.includes('skipping it and slowing down'))).toBe(true);
  });

  it('stops following after 10 failed rounds in a row, naming the commands that may still run', async () => {
    const s = setup(() => SCRIPTS.drained(3600_000));
    s.mock.on(ListCommandInvocationsCommand).rejects(httpError('ServiceUnavailable', 503));
    const started = s.clock.now();
    const err = await s.executor.execute(s.request(targets(60)), s.listener, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MonitoringStoppedError);
    expect((err as MonitoringStoppedError).handles).toEqual(['cmd-0001', 'cmd-0002']);
    expect((err as MonitoringStoppedError).message).toMatch(/10 rounds in a row \(last: ServiceUnavailable/);
    expect(s.mock).toHaveReceivedCommandTimes(
      ListCommandInvocationsCommand,
      2 * MAX_CONSECUTIVE_FAILED_ROUNDS,
    );
    // Backing off between the rounds: SSM was given over ten minutes to come back.
    expect(s.clock.now() - started).toBeGreaterThan(10 * 60_000);
    expect(s.outcomes.size).toBe(0);
  });

  it('stops following at once on a polling error no retry can fix, naming the commands', async () => {
    const s = setup(() => SCRIPTS.drained());
    s.mock
      .on(ListCommandInvocationsCommand)
      .rejects(awsError('AccessDeniedException', 'no ssm:ListCommandInvocations'));
    const err = await s.executor.execute(s.request(targets(1)), s.listener, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MonitoringStoppedError);
    expect((err as MonitoringStoppedError).message).toContain('no ssm:ListCommandInvocations');
    expect((err as MonitoringStoppedError).handles).toEqual(['cmd-0001']);
    expect(s.mock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
  });

  it('keeps an instance pending when GetCommandInvocation fails with a 5xx, and reads it next round', async () => {
    const long = `${'x'.repeat(3000)}\n{"action":"quiet","result":"drained","processes":[{"busy":0}]}`;
    const s = setup(() => ({ runMs: 1_000, final: { Status: 'Success', ResponseCode: 0, stdout: long } }));
    s.mock
      .on(GetCommandInvocationCommand)
      .rejectsOnce(httpError('InternalServerError', 500))
      .callsFake(async (input) => s.fleet.getCommandInvocation(input));
    await s.executor.execute(s.request(targets(1)), s.listener, never);
    expect(s.mock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 2);
    expect(s.outcomes.get('i-00000')).toMatchObject({ kind: 'drained', processes: 1 });
  });

  describe('SendCommand whose answer was lost', () => {
    it('names the run and the batch in the Comment, within SSM’s 100 characters', async () => {
      const s = setup(() => SCRIPTS.drained());
      await s.executor.execute(s.request(targets(60)), s.listener, never);
      const comments = s.mock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.Comment);
      expect(comments).toEqual([
        'snowwhite quiet run run-1 batch 1/2',
        'snowwhite quiet run run-1 batch 2/2',
      ]);
      expect(commandComment('status', 'r'.repeat(64), 99, 100)).toHaveLength(99);
    });

    it('is not sent again after a 500: the command SSM created is found with ListCommands and followed', async () => {
      const s = setup(() => SCRIPTS.drained());
      s.mock.on(SendCommandCommand).callsFake(async (input) => {
        s.fleet.sendCommand(input); // created, then the answer fails
        throw httpError('InternalServerError', 500);
      });
      await s.executor.execute(s.request(targets(3)), s.listener, never);
      expect(s.fleet.sent).toHaveLength(1);
      expect(s.commandIds).toEqual(['cmd-0001']);
      expect([...s.outcomes.values()].map((o) => o.kind)).toEqual(['drained', 'drained', 'drained']);
      expect(s.mock).toHaveReceivedCommandWith(ListCommandsCommand, {
        Filters: expect.arrayContaining([
          { key: 'DocumentName', value: 'SnowWhite-quiet' },
          { key: 'InvokedAfter', value: expect.any(String) },
        ]),
      });
    });

    it('looks again when ListCommands does not show the new command yet', async () => {
      const s = setup(() => SCRIPTS.drained());
      s.mock.on(SendCommandCommand).callsFake(async (input) => {
        s.fleet.sendCommand(input);
        throw networkError('ECONNRESET');
      });
      s.mock
        .on(ListCommandsCommand)
        .resolvesOnce({ Commands: [] })
        .callsFake(async (input) => s.fleet.listCommands(input));
      await s.executor.execute(s.request(targets(2)), s.listener, never);
      expect(s.mock).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
      expect(s.commandIds).toEqual(['cmd-0001']);
      expect(s.outcomes.size).toBe(2);
    });

    it('fails only its batch when no command was created, without sending it again', async () => {
      const s = setup(() => SCRIPTS.drained());
      s.mock
        .on(SendCommandCommand)
        .rejectsOnce(httpError('TimeoutError', 0, 'socket hang up'))
        .callsFake(async (input) => s.fleet.sendCommand(input));
      await s.executor.execute(s.request(targets(60)), s.listener, never);
      expect(s.mock).toHaveReceivedCommandTimes(SendCommandCommand, 2);
      expect(s.mock).toHaveReceivedCommandTimes(ListCommandsCommand, 3);
      const kinds = [...s.outcomes.values()].map((o) => o.kind);
      expect(kinds.filter((k) => k === 'failed')).toHaveLength(50);
      expect(kinds.filter((k) => k === 'drained')).toHaveLength(10);
      expect(s.outcomes.get('i-00000')!.reason).toContain('no command was found');
    });

    it('reports "result unknown", not failed, when the look-up itself fails', async () => {
      const s = setup(() => SCRIPTS.drained());
      s.mock.on(SendCommandCommand).rejects(httpError('InternalServerError', 500));
      s.mock.on(ListCommandsCommand).rejects(httpError('ServiceUnavailable', 503));
      await s.executor.execute(s.request(targets(2)), s.listener, never);
      expect([...s.outcomes.values()].map((o) => o.kind)).toEqual(['unknown', 'unknown']);
      expect(s.outcomes.get('i-00000')!.reason).toContain('snowwhite quiet run run-1 batch 1/1');
    });

    it('does not look for a command SSM refused (4xx) or throttled', async () => {
      const s = setup(() => SCRIPTS.drained());
      s.mock
        .on(SendCommandCommand)
        .rejectsOnce(awsError('InvalidInstanceId', 'i-00000 is not valid'))
        .rejectsOnce(throttlingError())
        .callsFake(async (input) => s.fleet.sendCommand(input));
      await s.executor.execute(s.request(targets(120)), s.listener, never);
      expect(s.mock).toHaveReceivedCommandTimes(ListCommandsCommand, 0);
      expect([...s.outcomes.values()].filter((o) => o.kind === 'failed')).toHaveLength(100);
    });

    it('matches a command by Comment, document and instances; the oldest if several', () => {
      const want = { comment: 'c', documentName: 'd', instanceIds: ['i-2', 'i-1'] };
      const at = (s: number) => new Date(s * 1000);
      const { found, others } = findBatchCommand(
        [
          { CommandId: 'x', Comment: 'c', DocumentName: 'd', InstanceIds: ['i-1'], RequestedDateTime: at(1) },
          {
            CommandId: 'b',
            Comment: 'c',
            DocumentName: 'd',
            InstanceIds: ['i-1', 'i-2'],
            RequestedDateTime: at(3),
          },
          {
            CommandId: 'a',
            Comment: 'c',
            DocumentName: 'd',
            InstanceIds: ['i-2', 'i-1'],
            RequestedDateTime: at(2),
          },
          { CommandId: 'y', Comment: 'other', DocumentName: 'd', InstanceIds: ['i-1', 'i-2'] },
        ],
        want,
      );
      expect(found?.CommandId).toBe('a');
      expect(others.map((c) => c.CommandId)).toEqual(['b']);
      expect(findBatchCommand([], want)).toEqual({ others: [] });
    });
  });
});

describe('polling health', () => {
  const throttled = throttlingError();
  const e500 = httpError('InternalServerError', 500);
  it('skips throttled and failed rounds, slowing down; only 5xx/network rounds count toward stopping', () => {
    let health = HEALTHY;
    for (let round = 1; round <= 20; round++) {
      const v = judgeRound(health, [throttled]);
      expect(v.stop).toBe(false);
      if (!v.stop) health = v.health;
    }
    expect(health).toEqual({ slowdownStreak: 20, failedRounds: 0 });
    let v = judgeRound(health, [e500, throttled]);
    expect(v).toEqual({ stop: false, health: { slowdownStreak: 21, failedRounds: 1 } });
    v = judgeRound(health, []);
    expect(v).toEqual({ stop: false, health: HEALTHY });
  });

  it('stops after the limit of failed rounds in a row, or at once on a non-retryable error', () => {
    expect(judgeRound({ slowdownStreak: 9, failedRounds: 9 }, [e500])).toMatchObject({
      stop: true,
      why: 'too_many_failed_rounds',
      failedRounds: 10,
      cause: e500,
    });
    const denied = awsError('AccessDeniedException', 'no');
    expect(judgeRound(HEALTHY, [e500, denied])).toMatchObject({
      stop: true,
      why: 'not_retryable',
      cause: denied,
    });
  });
});

describe('poll interval', () => {
  it('starts quick, grows with the elapsed time, caps, and backs off when throttled', () => {
    expect(pollDelayMs(0)).toBe(2_000);
    expect(pollDelayMs(40_000)).toBe(2_000);
    expect(pollDelayMs(200_000)).toBe(10_000);
    expect(pollDelayMs(3600_000)).toBe(30_000);
    expect(pollDelayMs(0, 2)).toBe(8_000);
    expect(pollDelayMs(3600_000, 10)).toBe(120_000);
  });
});

describe('splitPluginOutput', () => {
  it('separates stdout from the stderr section of runShellScript output', () => {
    expect(splitPluginOutput('{"a":1}\n\n----------ERROR-------\nquiet sent')).toEqual([
      '{"a":1}\n\n',
      '\nquiet sent',
    ]);
    expect(splitPluginOutput(undefined)).toEqual(['', '']);
  });
});

describe('joinPluginOutput', () => {
  it('puts stderr after the marker line, only when there is some, and cuts at the limit', () => {
    expect(joinPluginOutput('{"a":1}\n', 'quiet sent')).toBe('{"a":1}\n\n----------ERROR-------\nquiet sent');
    expect(joinPluginOutput('{"a":1}\n', '')).toBe('{"a":1}\n');
    expect(splitPluginOutput(joinPluginOutput('out', 'err'))).toEqual(['out\n', '\nerr']);
    expect(joinPluginOutput('x'.repeat(3_000), 'err')).toHaveLength(PLUGIN_OUTPUT_LIMIT);
  });
});
