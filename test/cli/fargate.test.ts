import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import type { Clock } from '../../runner/drain/clock';
import { cliMain, type CliClients } from '../../runner/cli/main';
import { parseRunRequest } from '../../runner/request';
import { awsError } from '../support/aws-errors';
import { captureIo } from './support/capture-io';

/** `snowwhite` launching the runner on Fargate: AWS SDK clients mocked with aws-sdk-client-mock. */

const TASK_DEF = 'arn:aws:ecs:us-east-1:123456789012:task-definition/SnowWhite-Runner:4';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/0123456789abcdef';

/** Stands in for the stack's HTTP API route: records what arrives, answers like the bot. */
interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
const received: Received[] = [];
let answer: { status: number; body: object } = { status: 200, body: {} };
let server: Server;
let cliUrl = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cliUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cli/runs`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received.length = 0;
  answer = {
    status: 200,
    body: {
      runId: 'cli-test-run',
      taskArn: TASK_ARN,
      requestedBy: 'alice',
      environments: [{ name: 'my-app-workers', instances: 2 }],
    },
  };
});

function setup() {
  const clients: CliClients = {
    sts: new STSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-secret', sessionToken: 'cli-session' },
    }),
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
          output(STACK_OUTPUTS.cliRunsUrl, cliUrl),
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

test("launches through the bot: a request to the stack's /cli/runs signed with the caller's credentials, no RunTask of its own", async () => {
  const t = setup();
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '600'])).toBe(0);
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  expect(received).toHaveLength(1);
  const [req] = received;
  expect(JSON.parse(req!.body)).toEqual({
    runId: 'cli-test-run',
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    drainTimeoutSeconds: 600,
    executionTimeoutSeconds: 7200,
  });
  expect(String(req!.headers.authorization)).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDCLITEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
  );
  expect(req!.headers['x-amz-security-token']).toBe('cli-session');
  expect(req!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  expect(t.out()).toContain(TASK_ARN);
  expect(t.out()).toContain('authorized by Snow White as alice for my-app-workers (2)');
  expect(t.out()).toContain(
    'aws logs tail /snowwhite/runner --follow --log-stream-name-prefix runner/runner/0123456789abcdef',
  );
});

test('a refusal from the bot is shown with its reason; exit 1', async () => {
  const t = setup();
  answer = {
    status: 403,
    body: {
      error: 'refused',
      reason: 'not_allowed',
      detail: 'payments-oncall may not ssm:SendCommand to the instances of myapp-workers-prod (not allowed)',
    },
  };
  expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1'])).toBe(1);
  expect(t.err()).toContain('refused (not_allowed): payments-oncall may not ssm:SendCommand');
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

test("API Gateway's own refusal (no execute-api:Invoke) is shown as is", async () => {
  const t = setup();
  answer = { status: 403, body: { message: 'Forbidden' } };
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1'])).toBe(1);
  expect(t.err()).toContain('403');
  expect(t.err()).toContain('Forbidden');
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

/** RUNNER_* by hand: the direct launch with the caller's own RunTask and PassRole (administrators). */
const DIRECT = {
  RUNNER_CLUSTER: 'snowwhite',
  RUNNER_TASK_DEFINITION_ARN: TASK_DEF,
  RUNNER_SUBNET_IDS: 'subnet-0aa',
  RUNNER_SECURITY_GROUP_IDS: 'sg-0cc',
};

test('direct launch: a role session has no Slack id: the run goes on and the user is told why there is no DM', async () => {
  const t = setup();
  t.mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/Ops/carol@example.com' });
  expect(await t.run(['wake', 'workers', 'MY-APP', 'us-east-1'], DIRECT)).toBe(0);
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
  expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1'], DIRECT)).toBe(1);
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
