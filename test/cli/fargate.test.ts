import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { clientTokenFor } from '../../runner/launch';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import type { Clock } from '../../runner/drain/clock';
import { cliMain, type CliClients } from '../../runner/cli/main';
import { parseRunRequest } from '../../runner/request';
import { awsError } from '../support/aws-errors';
import { captureIo } from './support/capture-io';

/** `snowwhite` launching the runner on Fargate: AWS SDK clients mocked with aws-sdk-client-mock. */

const TASK_DEF = 'arn:aws:ecs:us-east-1:123456789012:task-definition/SnowWhite-Runner:4';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/0123456789abcdef';

function setup() {
  const clients: CliClients = {
    sts: new STSClient({ region: 'us-east-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    ecs: new ECSClient({ region: 'us-east-1' }),
    cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
    logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
  };
  const mocks = {
    sts: mockClient(clients.sts),
    iam: mockClient(clients.iam),
    ecs: mockClient(clients.ecs),
    cfn: mockClient(clients.cloudFormation),
    logs: mockClient(clients.logs),
  };
  mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Arn: 'arn:aws:iam::123456789012:user/ops/alice', Account: '123456789012' });
  mocks.iam
    .on(ListUserTagsCommand, { UserName: 'alice' })
    .resolves({ Tags: [{ Key: 'slack_userid', Value: 'U0ALICE' }] });
  const output = (OutputKey: string, OutputValue: string) => ({ OutputKey, OutputValue });
  mocks.cfn.on(DescribeStacksCommand, { StackName: 'SnowWhite' }).resolves({
    Stacks: [
      {
        StackName: 'SnowWhite',
        CreationTime: new Date(0),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          output(STACK_OUTPUTS.runnerCluster, 'snowwhite'),
          output(STACK_OUTPUTS.runnerTaskDefinitionArn, TASK_DEF),
          output(STACK_OUTPUTS.runnerContainerName, 'runner'),
          output(STACK_OUTPUTS.runnerSubnetIds, 'subnet-0aa,subnet-0bb'),
          output(STACK_OUTPUTS.runnerSecurityGroupIds, 'sg-0cc'),
          output(STACK_OUTPUTS.runnerAssignPublicIp, 'ENABLED'),
          output(STACK_OUTPUTS.runnerLogGroupName, '/snowwhite/runner'),
        ],
      },
    ],
  });
  mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
  const { io, out, err } = captureIo();
  const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    cliMain(argv, {
      io,
      env,
      clients: () => clients,
      clock,
      newRunId: () => 'cli-test-run',
    });
  return { mocks, run, out, err };
}

test('launches the runner with the bot launch code: stack outputs, caller and Slack id, idempotency token', async () => {
  const t = setup();
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '600'])).toBe(0);
  const input = t.mocks.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
  expect(input).toMatchObject({
    cluster: 'snowwhite',
    taskDefinition: TASK_DEF,
    launchType: 'FARGATE',
    clientToken: clientTokenFor('cli-test-run'),
    startedBy: 'snowwhite/alice',
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-0aa', 'subnet-0bb'],
        securityGroups: ['sg-0cc'],
        assignPublicIp: 'ENABLED',
      },
    },
  });
  const override = input.overrides?.containerOverrides?.[0];
  expect(override?.name).toBe('runner');
  const request = parseRunRequest(override?.environment?.find((e) => e.name === 'RUN_REQUEST')?.value);
  expect(request).toMatchObject({
    runId: 'cli-test-run',
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
    drainTimeoutSeconds: 600,
  });
  expect(request.slack).toBeUndefined();
  expect(t.out()).toContain(TASK_ARN);
  expect(t.out()).toContain(
    'aws logs tail /snowwhite/runner --follow --log-stream-name-prefix runner/runner/0123456789abcdef',
  );
});

test('RUNNER_* variables take precedence over the stack', async () => {
  const t = setup();
  const env = {
    RUNNER_CLUSTER: 'other',
    RUNNER_TASK_DEFINITION_ARN: TASK_DEF,
    RUNNER_SUBNET_IDS: 'subnet-0dd',
    RUNNER_SECURITY_GROUP_IDS: 'sg-0ee',
  };
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1'], env)).toBe(0);
  expect(t.mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input.cluster).toBe('other');
});

test('incomplete RUNNER_* variables are named, nothing launched', async () => {
  const t = setup();
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1'], { RUNNER_CLUSTER: 'x' })).toBe(1);
  expect(t.err()).toMatch(
    /RUNNER_TASK_DEFINITION_ARN is missing[\s\S]*RUNNER_SUBNET_IDS is missing[\s\S]*RUNNER_SECURITY_GROUP_IDS is missing/,
  );
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

test('a role session has no Slack id: the run goes on and the user is told why there is no DM', async () => {
  const t = setup();
  t.mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/Ops/carol@example.com' });
  expect(await t.run(['wake', 'workers', 'MY-APP', 'us-east-1'])).toBe(0);
  const input = t.mocks.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
  const request = parseRunRequest(input.overrides?.containerOverrides?.[0]?.environment?.[0]?.value);
  expect(request.requestedBy).toEqual({ iamUserName: 'carol@example.com' });
  expect(t.err()).toContain('not an IAM user');
  expect(t.mocks.iam.commandCalls(ListUserTagsCommand)).toHaveLength(0);
});

test('AWS refusing the launch is a clear error and exit 1', async () => {
  const t = setup();
  t.mocks.ecs
    .on(RunTaskCommand)
    .rejects(awsError('AccessDeniedException', 'User alice is not authorized to perform ecs:RunTask'));
  expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1'])).toBe(1);
  expect(t.err()).toBe(
    'snowwhite: AccessDeniedException: User alice is not authorized to perform ecs:RunTask\n',
  );
});

test('a missing stack is a clear error', async () => {
  const t = setup();
  t.mocks.cfn
    .on(DescribeStacksCommand)
    .rejects(awsError('ValidationError', 'Stack with id SnowWhite does not exist'));
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1'])).toBe(1);
  expect(t.err()).toContain('Stack with id SnowWhite does not exist');
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

test('--follow prints the runner log until the task stops and exits with the runner exit code', async () => {
  const t = setup();
  const line = (event: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      time: '2026-11-21T10:00:00.000Z',
      level: 'info',
      event,
      program: 'snowwhite-runner',
      ...extra,
    });
  t.mocks.ecs
    .on(DescribeTasksCommand)
    .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }] })
    .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING' }] })
    .resolves({
      tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', containers: [{ name: 'runner', exitCode: 2 }] }],
    });
  t.mocks.logs
    .on(GetLogEventsCommand)
    .rejectsOnce(awsError('ResourceNotFoundException', 'The specified log stream does not exist.'))
    .resolvesOnce({
      events: [{ message: line('run starting', { action: 'quiet' }) }],
      nextForwardToken: 'f1',
    })
    .resolvesOnce({ events: [], nextForwardToken: 'f1' })
    .resolvesOnce({ events: [{ message: line('run finished', { exitCode: 2 }) }], nextForwardToken: 'f2' })
    .resolves({ events: [], nextForwardToken: 'f2' });
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--follow'])).toBe(2);
  expect(t.out()).toContain('runner task provisioning');
  expect(t.out()).toContain('10:00:00 run starting {"action":"quiet"}');
  expect(t.out()).toContain('10:00:00 run finished {"exitCode":2}');
  expect(t.out()).toContain('runner task stopped');
  const streams = t.mocks.logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.logStreamName);
  expect(new Set(streams)).toEqual(new Set(['runner/runner/0123456789abcdef']));
});

test('--follow: a task that stops without running the program says why, exit 1', async () => {
  const t = setup();
  t.mocks.ecs.on(DescribeTasksCommand).resolves({
    tasks: [
      {
        taskArn: TASK_ARN,
        lastStatus: 'STOPPED',
        stoppedReason: 'CannotPullContainerError: pull access denied',
        containers: [{ name: 'runner' }],
      },
    ],
  });
  t.mocks.logs.on(GetLogEventsCommand).rejects(awsError('ResourceNotFoundException', 'no stream'));
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--follow'])).toBe(1);
  expect(t.out()).toContain('CannotPullContainerError: pull access denied');
});
