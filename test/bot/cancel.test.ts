import { DescribeTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { Task } from '@aws-sdk/client-ecs';
import { checkRunnerTask, clusterArnOf } from '../../bot/deferred/runner-task';
import { buildRunTaskInput, type LaunchSettings } from '../../runner/launch';
import {
  CANCEL_RUN_ACTION_ID,
  cancelRunButtonValueSchema,
  encodeButtonValue,
} from '../../runner/slack/buttons';
import { runRequestInput } from '../support/run-request';
import { ecsMock, lambdaMock, ssmDocArn, TASK_DEF, World } from './world';

/**
 * Cancel on a run in progress, through the real Lambda handler: signed clicks, the bot's own
 * hand-off, ECS DescribeTasks/StopTask on the fake world's tasks.
 */
let world: World;
beforeEach(async () => {
  world = await World.start();
});
afterEach(() => world.stop());

const OTHER_DEF = 'arn:aws:ecs:us-east-1:123456789012:task-definition/payments-worker:3';
const taskArnIn = (cluster: string, n: string) =>
  `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${n.repeat(32)}`;

/** A confirmed run of `text`, launched by alice: its run id, task and thread. */
async function launched(text = 'quiet workers MY-APP us-east-1') {
  const { responseId } = await world.slash(text);
  await world.playHandoffs();
  await world.click(world.confirmValue(responseId), 'confirm');
  await world.playHandoffs();
  const i = world.runTaskInputs.length - 1;
  const request = world.runRequestOf(i);
  const taskArn = [...world.tasks.values()].at(-1)!.taskArn;
  return { request, taskArn };
}

/** The value the runner's progress message puts on its Cancel button. */
const cancelValue = (
  run: Awaited<ReturnType<typeof launched>>,
  overrides: Partial<Record<'runId' | 'action' | 'taskArn' | 'application', string>> = {},
) =>
  encodeButtonValue({
    v: 1,
    runId: run.request.runId,
    action: run.request.action,
    envPattern: run.request.envPattern,
    application: run.request.application,
    region: run.request.region,
    taskArn: run.taskArn,
    ...overrides,
  });

/** Cancel clicked on the progress message, the hand-off played: what the clicker was told. */
async function clickCancel(value: string, userId = 'U0ALICE') {
  const { result, responseId } = await world.click(value, 'confirm', {
    actionId: CANCEL_RUN_ACTION_ID,
    userId,
  });
  expect(result.statusCode).toBe(200);
  await world.playHandoffs();
  return String(world.lastResponse(responseId)?.text);
}

const threadLines = (threadTs: string) =>
  world.slack
    .callsOf('chat.postMessage')
    .filter((c) => c.args.thread_ts === threadTs)
    .map((c) => String(c.args.text));

describe('Cancel a run in progress', () => {
  test('authorized: ack only hands off; the runner task is stopped with who cancelled; clicker and thread are told', async () => {
    const run = await launched();
    const handoffsBefore = lambdaMock.commandCalls(InvokeCommand).length;
    const { result, responseId } = await world.click(cancelValue(run), 'confirm', {
      actionId: CANCEL_RUN_ACTION_ID,
    });
    expect(result.statusCode).toBe(200);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(handoffsBefore + 1);
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand); // the click only acknowledges
    await world.playHandoffs();

    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: 'snowwhite',
      tasks: [run.taskArn],
      include: ['TAGS'],
    });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, {
      cluster: 'snowwhite',
      task: run.taskArn,
      reason: 'Cancelled from Slack by U0ALICE (IAM user alice)',
    });
    const answer = world.lastResponse(responseId);
    expect(answer).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer?.text)).toContain('Cancelling the run of `quiet` on *MY-APP* (us-east-1)');
    expect(threadLines(run.request.slack!.threadTs)).toContain(
      ':octagonal_sign: <@U0ALICE> cancelled the run; workers already quiet stay quiet — Wake is offered in the report.',
    );
    expect(world.authorizationLogs().at(-1)).toMatchObject({
      slackUserId: 'U0ALICE',
      action: 'quiet',
      allowed: true,
    });
  });

  test('a second click: refused as already stopping, nothing stopped twice', async () => {
    const run = await launched();
    await clickCancel(cancelValue(run));
    const second = await clickCancel(cancelValue(run));
    expect(second).toContain('Nothing to cancel: the run is already being stopped');
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
  });

  test('a run that already ended: nothing to cancel', async () => {
    const run = await launched();
    world.taskStops.set(run.taskArn, { ended: true });
    expect(await clickCancel(cancelValue(run))).toContain('Nothing to cancel: the run has already ended');
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('unauthorized clickers are refused before ECS is asked: no IAM user, or not allowed the run’s action', async () => {
    world.users.push({
      name: 'carol',
      tags: { slack_userid: 'U0CAROL' },
      allow: ['ecs:RunTask *', `ssm:SendCommand ${ssmDocArn('snowwhite-status')}`],
    });
    const run = await launched();
    const nobody = await clickCancel(cancelValue(run), 'U0NOBODY');
    expect(nobody).toContain('You may not cancel the run of `quiet`');
    expect(nobody).toContain('no IAM user has the tag slack_userid=U0NOBODY');
    const statusOnly = await clickCancel(cancelValue(run), 'U0CAROL');
    expect(statusOnly).toContain('cancelling takes what running `quiet` takes');
    expect(statusOnly).toContain('carol may not ssm:SendCommand');
    expect(statusOnly).toContain('Nothing was stopped');
    expect(ecsMock).not.toHaveReceivedCommand(DescribeTasksCommand);
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('forged values stop nothing: another cluster, a task that is not a runner, another run, another action', async () => {
    const run = await launched();
    const other = await launched('stop workers-prod MY-APP us-east-1');
    const forgedTags = [
      { key: 'snowwhite:run-id', value: run.request.runId },
      { key: 'snowwhite:action', value: 'quiet' },
    ];
    world.otherTasks.push(
      {
        taskArn: taskArnIn('other-cluster', 'a'),
        clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/other-cluster',
        taskDefinitionArn: TASK_DEF,
        tags: forgedTags,
        overrides: world.runTaskInputs[0]!.overrides,
      },
      {
        taskArn: taskArnIn('snowwhite', 'b'),
        clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/snowwhite',
        taskDefinitionArn: OTHER_DEF,
        tags: forgedTags,
        overrides: world.runTaskInputs[0]!.overrides,
      },
    );

    const otherCluster = await clickCancel(cancelValue(run, { taskArn: taskArnIn('other-cluster', 'a') }));
    expect(otherCluster).toContain('does not match a Snow White run in progress');
    expect(otherCluster).toContain(
      'ECS knows no task arn:aws:ecs:us-east-1:123456789012:task/other-cluster/',
    );

    const notRunner = await clickCancel(cancelValue(run, { taskArn: taskArnIn('snowwhite', 'b') }));
    expect(notRunner).toContain('the task is not a Snow White runner');

    // This run's id with the other run's task, and the other way round.
    for (const value of [
      cancelValue(run, { taskArn: other.taskArn }),
      cancelValue(other, { runId: run.request.runId }),
    ])
      expect(await clickCancel(value)).toContain('the task runs another run than the button names');

    // A value that names a lesser action (status) for a stop run: refused, though alice may do both.
    expect(await clickCancel(cancelValue(other, { action: 'status' }))).toContain(
      'the task runs another run than the button names',
    );
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('a malformed value is refused at once and handed off nowhere', async () => {
    const run = await launched();
    const before = lambdaMock.commandCalls(InvokeCommand).length;
    for (const value of [
      'not json',
      cancelValue(run, { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/x' }),
    ]) {
      const { responseId } = await world.click(value, 'confirm', { actionId: CANCEL_RUN_ACTION_ID });
      expect(String(world.lastResponse(responseId)?.text)).toBe(
        'This Cancel button is not valid; nothing was stopped.',
      );
    }
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(before);
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('from App Home (no response_url): the run is stopped and the clicker answered by direct message', async () => {
    const run = await launched();
    const res = await world.clickInHome(cancelValue(run), CANCEL_RUN_ACTION_ID);
    expect(res.statusCode).toBe(200);
    await world.playHandoffs();
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    const dm = world.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'U0ALICE');
    expect(dm.map((c) => String(c.args.text))).toEqual([
      expect.stringContaining('Cancelling the run of `quiet` on *MY-APP* (us-east-1)'),
    ]);
  });
});

describe('checkRunnerTask (pure)', () => {
  const launch: LaunchSettings = {
    cluster: 'snowwhite',
    taskDefinitionArn: TASK_DEF,
    containerName: 'runner',
    subnetIds: ['subnet-0a1'],
    securityGroupIds: ['sg-0c3'],
    assignPublicIp: 'DISABLED',
  };
  const taskArn = taskArnIn('snowwhite', 'c');
  const value = cancelRunButtonValueSchema.parse({
    v: 1,
    runId: 'run-1',
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    taskArn,
  });
  /** The task ECS describes after the bot's own RunTask input. */
  const taskFrom = (overrides: Partial<Task> = {}): Task => {
    const input = buildRunTaskInput(launch, runRequestInput(), { clientToken: 't' });
    return {
      taskArn,
      clusterArn: clusterArnOf(launch),
      taskDefinitionArn: TASK_DEF,
      tags: input.tags,
      overrides: input.overrides,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      ...overrides,
    } as Task;
  };

  test('the runner of the run, still going: ok, with its run request (thread included)', () => {
    const check = checkRunnerTask({ tasks: [taskFrom()] }, launch, value);
    expect(check).toMatchObject({ ok: true, request: { runId: 'run-1', slack: { channel: 'C0OPS' } } });
  });

  test('a newer revision of the runner (a deploy during the run) is still the runner; a cluster given as an ARN matches', () => {
    const newer = taskFrom({ taskDefinitionArn: TASK_DEF.replace(/:7$/, ':8') });
    expect(checkRunnerTask({ tasks: [newer] }, launch, value).ok).toBe(true);
    const byArn = { ...launch, cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/snowwhite' };
    expect(checkRunnerTask({ tasks: [newer] }, byArn, value).ok).toBe(true);
  });

  test('refused: same family name in another account, no run request, tags of another run', () => {
    const otherAccount = taskFrom({ taskDefinitionArn: TASK_DEF.replace('123456789012', '999999999999') });
    expect(checkRunnerTask({ tasks: [otherAccount] }, launch, value)).toMatchObject({ reason: 'not_runner' });
    expect(checkRunnerTask({ tasks: [taskFrom({ overrides: {} })] }, launch, value)).toMatchObject({
      reason: 'other_run',
    });
    expect(checkRunnerTask({ tasks: [taskFrom()] }, launch, { ...value, runId: 'run-2' })).toMatchObject({
      reason: 'other_run',
    });
    expect(
      checkRunnerTask({ tasks: [], failures: [{ arn: taskArn, reason: 'MISSING' }] }, launch, value),
    ).toMatchObject({
      reason: 'not_found',
    });
  });
});
