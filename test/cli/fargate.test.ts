import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstanceInformationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import type { Clock } from '../../runner/drain/clock';
import { cliMain, type CliClients } from '../../runner/cli/main';
import { parseRunRequest } from '../../runner/request';
import { awsError } from '../support/aws-errors';
import { runRequest } from '../support/run-request';
import { createLogger } from '../../runner/log';
import { runDrain } from '../../runner/drain/run';
import { outcomeOf } from '../../runner/drain/outcome';
import { captureIo } from './support/capture-io';
import { localSts, type KnownCredentials } from '../support/local-sts';
import { createCallerIdentityVerifier, createProofStsClient } from '../../bot/cli/sts-identity';
import { IDENTITY_PROOF_HEADER } from '../../runner/identity-proof';

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
const INSTALLATION_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/SnowWhite/0001#c8aa';
/** The caller's credentials, as the local STS knows them (a test may change who they are). */
const caller: KnownCredentials = {
  accessKeyId: 'AKIDCLITEST',
  secretAccessKey: 'cli-secret',
  sessionToken: 'cli-session',
  arn: 'arn:aws:iam::123456789012:user/ops/alice',
};
let sts: Awaited<ReturnType<typeof localSts>>;
beforeAll(async () => {
  sts = await localSts([caller]);
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
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await sts.close();
});
beforeEach(() => {
  received.length = 0;
  sts.calls.length = 0;
  caller.arn = 'arn:aws:iam::123456789012:user/ops/alice';
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
    // A real client on a local STS: the identity proof is signed by the SDK's own endpoint resolution.
    sts: new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: caller }),
    iam: new IAMClient({ region: 'us-east-1' }),
    ecs: new ECSClient({ region: 'us-east-1' }),
    cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
    logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
    elasticBeanstalk: new ElasticBeanstalkClient({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'us-east-1' }),
    ssmSendCommand: new SSMClient({ region: 'us-east-1' }),
  };
  const mocks = {
    ssm: mockClient(clients.ssm),
    ssmSend: mockClient(clients.ssmSendCommand),
    iam: mockClient(clients.iam),
    ecs: mockClient(clients.ecs),
    cfn: mockClient(clients.cloudFormation),
    logs: mockClient(clients.logs),
    eb: mockClient(clients.elasticBeanstalk),
  };
  mocks.eb.on(DescribeEnvironmentsCommand, { ApplicationName: 'MY-APP' }).resolves({
    Environments: [
      { EnvironmentId: 'e-1', EnvironmentName: 'MY-APP-workers', Status: 'Ready' },
      { EnvironmentId: 'e-2', EnvironmentName: 'MY-APP-web', Status: 'Ready' },
    ],
  });
  mocks.eb.on(DescribeEnvironmentResourcesCommand, { EnvironmentId: 'e-1' }).resolves({
    EnvironmentResources: { Instances: [{ Id: 'i-0aaaaaaaaaaaaaaa1' }, { Id: 'i-0aaaaaaaaaaaaaaa2' }] },
  });
  mocks.ssm.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'].map((InstanceId) => ({
      InstanceId,
      PingStatus: 'Online' as const,
    })),
  });
  mocks.ssmSend
    .on(SendCommandCommand)
    .resolves({ Command: { CommandId: '0b7e1a52-5f0c-4d2e-9d55-2f1c0e6a8b11' } });
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
          output(STACK_OUTPUTS.installationId, INSTALLATION_ID),
        ],
      },
    ],
  });
  mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
  const { io, out, err } = captureIo();
  const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
  const regions: Array<{ aws: string; fleet: string }> = [];
  const asked: string[] = [];
  /** `answer`: a person at a terminal who types it; absent: no terminal (a script, a pipe). */
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}, answer?: string) =>
    cliMain(argv, {
      io: {
        ...io,
        ...(answer !== undefined
          ? {
              stdin: {
                isTTY: true,
                readLine: async () => {
                  asked.push(err());
                  return answer;
                },
              },
            }
          : {}),
      },
      env,
      clients: (r) => {
        regions.push(r);
        return clients;
      },
      profileRegion: async () => undefined,
      clock,
      newRunId: () => 'cli-test-run',
    });
  return { mocks, run, out, err, regions, asked };
}

test("launches through the bot: a request to the stack's /cli/runs signed with the caller's credentials, no RunTask of its own", async () => {
  const t = setup();
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '600', '--yes'])).toBe(0);
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  expect(received).toHaveLength(1);
  const [req] = received;
  // Our id is only the request's idempotency key: the bot assigns the run id.
  expect(JSON.parse(req!.body)).toEqual({
    idempotencyKey: 'cli-test-run',
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
  // The identity proof: the bot's own check, against the same STS, takes it as the caller.
  const verify = createCallerIdentityVerifier({
    sts: createProofStsClient({ region: 'us-east-1', endpoint: sts.url }),
    installationId: INSTALLATION_ID,
    nowMs: Date.now,
  });
  expect(await verify(String(req!.headers[IDENTITY_PROOF_HEADER]), req!.body)).toEqual({
    ok: true,
    arn: 'arn:aws:iam::123456789012:user/ops/alice',
  });
  expect(String(req!.headers.authorization)).toMatch(/SignedHeaders=[a-z0-9;-]*x-snowwhite-identity/);
  expect(t.out()).toContain(TASK_ARN);
  expect(t.out()).toContain('authorized by Snow White as alice for my-app-workers (2)');
  expect(t.out()).toContain(
    'aws logs tail /snowwhite/runner --follow --log-stream-name-prefix runner/runner/0123456789abcdef',
  );
});

test('a refusal from the bot is shown with its reason; exit 4 (refused, nothing done)', async () => {
  const t = setup();
  answer = {
    status: 403,
    body: {
      error: 'refused',
      reason: 'not_allowed',
      detail: 'payments-oncall may not ssm:SendCommand to the instances of myapp-workers-prod (not allowed)',
    },
  };
  expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1', '--yes'])).toBe(4);
  expect(t.err()).toContain('refused (not_allowed): payments-oncall may not ssm:SendCommand');
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

test("the bot's per-caller limit (429) is one line saying when to try again; exit 4", async () => {
  const t = setup();
  answer = {
    status: 429,
    body: {
      error: 'rate_limited',
      detail:
        'too many Snow White requests from arn:aws:iam::123456789012:user/alice in the last minute; nothing was done. Try again in 6 s',
      retryAfterSeconds: 6,
    },
  };
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--yes'])).toBe(4);
  expect(
    t
      .err()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('snowwhite: ')),
  ).toEqual([
    'snowwhite: rate_limited: too many Snow White requests from arn:aws:iam::123456789012:user/alice in the last minute; nothing was done. Try again in 6 s',
  ]);
});

test("API Gateway's own refusal (no execute-api:Invoke) is shown with the right to ask for", async () => {
  const t = setup();
  answer = { status: 403, body: { message: 'Forbidden' } };
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1', '--yes'])).toBe(4);
  expect(t.err()).toContain('403');
  expect(t.err()).toContain('Forbidden');
  expect(t.err()).toContain("execute-api:Invoke on the stack's CliInvokeResource output");
});

test('RUNNER_* variables take precedence over the stack', async () => {
  const t = setup();
  const env = {
    SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
    RUNNER_CLUSTER: 'other',
    RUNNER_TASK_DEFINITION_ARN: TASK_DEF,
    RUNNER_SUBNET_IDS: 'subnet-0dd',
    RUNNER_SECURITY_GROUP_IDS: 'sg-0ee',
  };
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1', '--yes'], env)).toBe(0);
  expect(t.mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input.cluster).toBe('other');
});

test('incomplete RUNNER_* variables are named, nothing launched', async () => {
  const t = setup();
  expect(await t.run(['status', 'workers', 'MY-APP', 'us-east-1', '--yes'], { RUNNER_CLUSTER: 'x' })).toBe(1);
  expect(t.err()).toMatch(
    /RUNNER_TASK_DEFINITION_ARN is missing[\s\S]*RUNNER_SUBNET_IDS is missing[\s\S]*RUNNER_SECURITY_GROUP_IDS is missing/,
  );
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

/** RUNNER_* by hand: the direct launch with the caller's own RunTask and PassRole (administrators). */
const DIRECT = {
  SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
  SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
  SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
  RUNNER_CLUSTER: 'snowwhite',
  RUNNER_TASK_DEFINITION_ARN: TASK_DEF,
  RUNNER_SUBNET_IDS: 'subnet-0aa',
  RUNNER_SECURITY_GROUP_IDS: 'sg-0cc',
};

test('direct launch: a role session has no Slack id: the run goes on and the user is told why there is no DM', async () => {
  const t = setup();
  caller.arn = 'arn:aws:sts::123456789012:assumed-role/Ops/carol@example.com';
  expect(await t.run(['wake', 'workers', 'MY-APP', 'us-east-1', '--yes'], DIRECT)).toBe(0);
  const input = t.mocks.ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
  const request = parseRunRequest(input.overrides?.containerOverrides?.[0]?.environment?.[0]?.value);
  expect(request.requestedBy).toEqual({ iamUserName: 'carol@example.com' });
  // The command went out before the launch, to exactly the previewed instances; the runner follows it.
  expect(t.mocks.ssmSend).toHaveReceivedCommandWith(SendCommandCommand, {
    DocumentName: 'SnowWhite-Wake',
    InstanceIds: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'],
  });
  expect(request.commands).toEqual([
    { commandId: '0b7e1a52-5f0c-4d2e-9d55-2f1c0e6a8b11', environment: 'MY-APP-workers', instances: 2 },
  ]);
  expect(t.err()).toContain('not an IAM user');
  expect(t.mocks.iam.commandCalls(ListUserTagsCommand)).toHaveLength(0);
});

test("direct launch without the action's document name: said what to set, nothing sent or launched", async () => {
  const t = setup();
  const { SSM_DOCUMENT_WAKE: _unset, ...env } = DIRECT;
  expect(await t.run(['wake', 'workers', 'MY-APP', 'us-east-1', '--yes'], env)).toBe(1);
  expect(t.err()).toContain('set SSM_DOCUMENT_WAKE');
  expect(t.mocks.ssmSend.commandCalls(SendCommandCommand)).toHaveLength(0);
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

test('AWS refusing the launch is a clear error and exit 1', async () => {
  const t = setup();
  t.mocks.ecs
    .on(RunTaskCommand)
    .rejects(awsError('AccessDeniedException', 'User alice is not authorized to perform ecs:RunTask'));
  expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1', '--yes'], DIRECT)).toBe(1);
  expect(t.err()).toMatch(
    /^snowwhite: AccessDeniedException: User alice is not authorized to perform ecs:RunTask \(ask your AWS administrator.*\)\n$/,
  );
});

test('a missing stack is a clear error', async () => {
  const t = setup();
  t.mocks.cfn
    .on(DescribeStacksCommand)
    .rejects(awsError('ValidationError', 'Stack with id SnowWhite does not exist'));
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--yes'])).toBe(1);
  expect(t.err()).toBe(
    'snowwhite: no stack SnowWhite in us-east-1: give --stack-region REGION where Snow White is deployed (`snowwhite setup --stack-region REGION` remembers it), or --stack NAME\n',
  );
  expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
});

/**
 * The runner's own log lines for a quiet on 3 instances (one drained, one still busy, one not
 * reachable by SSM): runDrain and the logger are the runner's, only targets and SSM are stand-ins.
 */
async function runnerLogLines(): Promise<string[]> {
  const lines: string[] = [];
  const log = createLogger({
    fields: { program: 'snowwhite-runner' },
    write: (l) => void lines.push(l),
  }).with({
    runId: 'cli-test-run',
  });
  const request = runRequest({
    runId: 'cli-test-run',
    action: 'quiet',
    application: 'MY-APP',
    envPattern: 'workers',
  });
  log.info('run starting', { action: 'quiet' });
  const environment = 'MY-APP-workers';
  await runDrain({
    request,
    log,
    targets: {
      resolve: async () => ({
        environments: [
          {
            name: environment,
            reachable: [
              { instanceId: 'i-0aaaaaaaaaaaaaaa1', environment },
              { instanceId: 'i-0aaaaaaaaaaaaaaa2', environment },
            ],
            unreachable: [
              { instanceId: 'i-0aaaaaaaaaaaaaaa3', environment, reason: 'SSM agent lost its connection' },
            ],
          },
        ],
        otherEnvironments: [],
      }),
    },
    executor: {
      execute: async (req, listener) => {
        listener.dispatched(
          'cmd-1',
          req.targets.map((t) => t.instanceId),
        );
        const [drained, busy] = req.targets;
        listener.finished(
          outcomeOf(drained!, {
            status: 'Success',
            exitCode: 0,
            stdout: drainedJsonLine({ busy: 0, quiet: true }),
          }),
        );
        listener.finished(
          outcomeOf(busy!, {
            status: 'Failed',
            exitCode: 2,
            stdout: drainedJsonLine({ busy: 2, quiet: true }, 'timeout'),
          }),
        );
      },
    },
    reporter: {
      started: async () => {},
      progress: () => {},
      finished: async () => {},
      interrupted: async () => {},
    },
  });
  return lines;
}

const drainedJsonLine = (p: { busy: number; quiet: boolean }, result = 'drained') =>
  JSON.stringify({
    action: 'quiet',
    result,
    elapsed_seconds: 7.9,
    processes: [{ pid: 4242, version: '6.4.1', tag: '', concurrency: 3, ...p }],
  });

test('--follow shows the same progress bar and summary table as --local, and exits with the runner exit code', async () => {
  const t = setup();
  const lines = await runnerLogLines();
  t.mocks.ecs
    .on(DescribeTasksCommand)
    .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }] })
    .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING' }] })
    .resolves({
      tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', containers: [{ name: 'runner', exitCode: 1 }] }],
    });
  t.mocks.logs
    .on(GetLogEventsCommand)
    .rejectsOnce(awsError('ResourceNotFoundException', 'The specified log stream does not exist.'))
    .resolvesOnce({ events: lines.slice(0, 3).map((message) => ({ message })), nextForwardToken: 'f1' })
    .resolvesOnce({ events: [], nextForwardToken: 'f1' })
    .resolvesOnce({ events: lines.slice(3).map((message) => ({ message })), nextForwardToken: 'f2' })
    .resolves({ events: [], nextForwardToken: 'f2' });
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--follow', '--yes'])).toBe(1);
  const out = t.out();
  expect(out).toContain('runner task provisioning');
  expect(out).toContain('snowwhite quiet workers MY-APP us-east-1: 3 instances in MY-APP-workers');
  expect(out).toMatch(/1\/3 done/); // the unreachable one is known at once
  expect(out).toMatch(/3\/3 done/);
  expect(out).toMatch(/quiet workers in MY-APP \(us-east-1\) finished in .*1 drained/);
  expect(out).toContain('sidekiq: 2 quiet · 0 awake · 2 busy of 6 threads');
  expect(out).toMatch(/MY-APP-workers\s+i-0aaaaaaaaaaaaaaa2\s+still busy at the deadline\s+2/);
  expect(out).toMatch(/MY-APP-workers\s+i-0aaaaaaaaaaaaaaa3\s+\S.*SSM agent lost its connection/);
  expect(out).toContain('runner task stopped');
  // No raw log fields: the lines were read, not echoed.
  expect(out).not.toContain('"event"');
  expect(out).not.toContain('targets resolved');
  const streams = t.mocks.logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.logStreamName);
  expect(new Set(streams)).toEqual(new Set(['runner/runner/0123456789abcdef']));
});

test('--json --follow: one JSON event per line on stdout, the summary object last, nothing else', async () => {
  const t = setup();
  const lines = await runnerLogLines();
  t.mocks.ecs.on(DescribeTasksCommand).resolves({
    tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', containers: [{ name: 'runner', exitCode: 1 }] }],
  });
  t.mocks.logs
    .on(GetLogEventsCommand)
    .resolvesOnce({ events: lines.map((message) => ({ message })), nextForwardToken: 'f1' })
    .resolves({ events: [], nextForwardToken: 'f1' });
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--follow', '--yes', '--json'])).toBe(1);
  const events = t
    .out()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(events.map((e) => e.event)).toEqual([
    'preview',
    'launched',
    'started',
    'progress', // 0 of 3
    'progress', // the unreachable one
    'progress',
    'progress',
    'summary',
  ]);
  expect(events[0]).toEqual({
    event: 'preview',
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    environments: [expect.objectContaining({ name: 'MY-APP-workers', instanceCount: 2 })],
    totalInstances: 2,
  });
  expect(events[1]).toMatchObject({ runId: 'cli-test-run', taskArn: TASK_ARN });
  expect(events.at(-1)).toMatchObject({
    action: 'quiet',
    exitCode: 1,
    counts: { drained: 1, busy_at_deadline: 1, unreachable: 1 },
    sidekiq: { quiet: 2, awake: 0, busy: 2, threads: 6 },
    outcomes: expect.arrayContaining([
      expect.objectContaining({ instanceId: 'i-0aaaaaaaaaaaaaaa3', kind: 'unreachable' }),
    ]),
  });
  // The preview and the task's state are for people: stderr.
  expect(t.err()).toContain('2 instances');
  expect(t.err()).toContain('runner task stopped');
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
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--follow', '--yes'])).toBe(1);
  expect(t.out()).toContain('CannotPullContainerError: pull access denied');
});

/** The run the command line asked the bot for (the signed request's body). */
const requestOf = (_t: ReturnType<typeof setup>) => JSON.parse(received[0]!.body) as Record<string, unknown>;

describe('the preview and the confirmation before a launch', () => {
  test('the preview, then a question on the terminal: yes launches', async () => {
    const t = setup();
    expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1'], {}, 'y')).toBe(0);
    expect(t.out()).toMatch(
      /^stop on the environments of MY-APP in us-east-1 whose name contains "workers":\n {2}MY-APP-workers: 2 instances\n {2}1 environment, 2 instances\n/,
    );
    expect(t.out()).toContain('Drain timeout: 1h 0m');
    expect(t.asked).toEqual(['Launch stop on 2 instances in 1 environment? [y/N] ']);
    expect(received).toHaveLength(1);
  });

  test('anything but yes launches nothing, and says so', async () => {
    const t = setup();
    expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1'], {}, '')).toBe(1);
    expect(t.err()).toMatch(/snowwhite: not launched\n$/);
    expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
    expect(received).toHaveLength(0);
    expect(t.mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  test('no terminal and no --yes: one clear line, exit 64, nothing launched', async () => {
    const t = setup();
    expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1'])).toBe(64);
    expect(t.err()).toBe(
      "snowwhite: not launched: stdin is not a terminal, so nobody can confirm; add --yes to launch (see 'snowwhite --help')\n",
    );
    expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  });

  test('--dry-run stops after the preview: no stack, caller or launch', async () => {
    const t = setup();
    expect(await t.run(['stop', 'workers', 'MY-APP', 'us-east-1', '--dry-run'])).toBe(0);
    expect(t.out()).toContain('MY-APP-workers: 2 instances');
    expect(t.err()).toBe('snowwhite: dry run: nothing was launched\n');
    expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
    expect(received).toHaveLength(0);
    expect(t.mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    expect(sts.calls).toHaveLength(0);
  });

  test('no matching environment: the other environments are named, nothing launched, exit 1', async () => {
    const t = setup();
    expect(await t.run(['quiet', 'wrokers', 'MY-APP', 'us-east-1', '--yes'])).toBe(1);
    expect(t.err()).toBe(
      'snowwhite: nothing to quiet: no running environment of MY-APP in us-east-1 has a name containing "wrokers" (other environments: MY-APP-web, MY-APP-workers); nothing was launched\n',
    );
    expect(t.mocks.ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  });
});

test('--timeout 8000 launches with the execution timeout raised with it', async () => {
  const t = setup();
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-east-1', '--timeout', '8000', '--yes'])).toBe(0);
  expect(requestOf(t)).toMatchObject({ drainTimeoutSeconds: 8000, executionTimeoutSeconds: 8600 });
});

test('regions: the fleet from the argument or AWS_REGION; the clients where the SDK is configured, else the fleet', async () => {
  const t = setup();
  expect(await t.run(['QUIET', 'workers', 'MY-APP', '--yes'], { AWS_REGION: 'eu-west-1' })).toBe(0);
  expect(requestOf(t)).toMatchObject({ action: 'quiet', region: 'eu-west-1' });
  expect(
    await t.run(['quiet', 'workers', 'MY-APP', 'US-WEST-2', '--yes'], { AWS_DEFAULT_REGION: 'eu-west-1' }),
  ).toBe(0);
  expect(await t.run(['quiet', 'workers', 'MY-APP', 'us-west-2', '--yes'])).toBe(0);
  expect(t.regions).toEqual([
    { fleet: 'eu-west-1', aws: 'eu-west-1' },
    { fleet: 'us-west-2', aws: 'eu-west-1' },
    { fleet: 'us-west-2', aws: 'us-west-2' },
  ]);
});
