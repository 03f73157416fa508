/**
 * End to end, through every part: a signed `/snowwhite quiet workers MY-APP us-east-1` reaches the real
 * bot handler → its async hand-off is played → the Confirm button is clicked twice (signed
 * block_actions), and the Confirm's hand-off is delivered again to a fresh module instance → the bot
 * itself sends the real quiet document (ssm/sidekiqctl.sh) over SSM SendCommand to exactly the two
 * previewed "instances", each a private PID namespace with real Redis-backed Sidekiq — once — and the
 * workers are quiet before any runner exists → the RunTask the bot makes is captured → the runner's
 * main() runs (much later, as a Fargate start would) with exactly those container overrides and only
 * follows the bot's command to the summary → every Slack call lands on the local fake Slack. AWS is
 * mocked at the client (IAM, ECS, Elastic Beanstalk, Lambda, SSM). Every AWS call observed on the way
 * is then checked against the synthesized stack's role policies by an independent IAM evaluator (least
 * privilege), with calls that must stay impossible.
 */
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { silentLogger } from '../../runner/log';
import { main as runnerMain } from '../../runner/main';
import { HostSsm } from '../support/host-ssm';
import { startLedgerTable, type LedgerTable } from '../support/ledger-table';
import { cleanupAllHosts, SidekiqHost } from '../support/sidekiq-host';
import {
  baseEnv,
  BOT_TOKEN,
  ebMock,
  ecsMock,
  iamMock,
  lambdaMock,
  NOTIFY,
  secretsMock,
  ssmClient,
  World,
} from '../bot/world';
import {
  ACCOUNT,
  callCounts,
  decide,
  iamRequestsFor,
  observedSince,
  recordCalls,
  REGION,
  synthesizedRoles,
  type IamRequest,
  type ObservedCall,
  type ObservedClient,
} from '../support/least-privilege';

/** Waits on evidence, not time: `check` is asked every 200 ms until it holds (or the test times out). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 200));
}

jest.setTimeout(120_000);

const ENV_NAME = 'MY-APP-workers-prod';
const INSTANCES = [`i-e-${ENV_NAME}-0`, `i-e-${ENV_NAME}-1`];
const JOB_SECONDS = 3;
const THREADS = 2;
const JOBS_PER_HOST = 3; // two in flight, one waiting in the queue

let world: World;
let db: LedgerTable;
let table: string;
/** The bot's ledger calls, on the real DynamoDB client that talks to dynalite. */
let ledgerCalls: ObservedClient['stub'];
const hosts = new Map<string, SidekiqHost>();

beforeAll(async () => {
  // The ledger (dynalite) is where a run's send is claimed: what makes it exactly-once across containers.
  db = await startLedgerTable();
  table = await db.fresh();
  world = await World.start({ LEDGER_TABLE_NAME: table }, { dynamodb: db.client });
  ledgerCalls = recordCalls(db.client);
  world.environments = [
    { name: ENV_NAME, instances: INSTANCES.length },
    { name: 'MY-APP-web-prod', instances: 3 },
  ];
  for (const id of INSTANCES) {
    const host = await SidekiqHost.start({ heartbeat: 0.5 });
    await host.startSidekiq({ concurrency: THREADS, tag: 'myapp' });
    hosts.set(id, host);
  }
});

afterAll(async () => {
  await world?.stop();
  await db?.close();
  await cleanupAllHosts();
});

test('a signed slash command and two Confirm clicks drain real Sidekiq workers on two instances, losing nothing', async () => {
  for (const host of hosts.values()) {
    await host.enqueue(JOB_SECONDS, JOBS_PER_HOST);
    await host.waitForRunning(THREADS);
  }

  // 1. The slash command: acknowledged at once, the slow part handed to the function itself.
  const { result, responseId } = await world.slash('quiet workers MY-APP us-east-1', { userId: 'U0ALICE' });
  expect(result.statusCode).toBe(200);
  await world.playHandoffs();
  const prompt = world.responses(responseId).find((c) => Array.isArray(c.args.blocks));
  expect(JSON.stringify(prompt?.args.blocks)).toContain(ENV_NAME);

  // 2. The bot's SSM answers from the real hosts from here on (the runner uses the same client).
  const bot = baseEnv();
  const documents = {
    quiet: bot.SSM_DOCUMENT_QUIET!,
    stop: bot.SSM_DOCUMENT_STOP!,
    wake: bot.SSM_DOCUMENT_WAKE!,
    status: bot.SSM_DOCUMENT_STATUS!,
  };
  const fakeSsm = new HostSsm(hosts, documents);
  const ssmMock = fakeSsm.install(ssmClient);

  // 3. Confirm, twice (an impatient double click), and the Confirm's hand-off delivered once more to
  //    a fresh module instance: one command per instance, one runner, one thread.
  const value = world.confirmValue(responseId);
  await world.click(value, 'confirm');
  await world.click(value, 'confirm');
  const confirmHandoffs = world.pendingHandoffs();
  const confirmedAt = Date.now();
  await world.playHandoffs();
  for (const event of confirmHandoffs.slice(0, 1))
    await world.newContainer({ LEDGER_TABLE_NAME: table })(event, {});
  expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
  expect(fakeSsm.commands[0]!.instanceIds.sort()).toEqual([...INSTANCES].sort());
  const firstSendMs = fakeSsm.commands[0]!.sentAt.getTime() - confirmedAt;
  process.stdout.write(`e2e: Confirm → SendCommand ${firstSendMs} ms (goal ≤ 5000)\n`);
  expect(world.launchedTasks).toBe(1);
  const roots = world.slack
    .callsOf('chat.postMessage')
    .filter((c) => c.args.channel === 'C0OPS' && !c.args.thread_ts);
  expect(roots).toHaveLength(1);
  const threadTs = String((roots[0]!.reply as { ts: string }).ts);

  // The workers stop taking jobs before any runner has started (a Fargate start takes 30–60 s).
  for (const host of hosts.values())
    await waitFor(async () => (await host.runScript(['status'])).json?.processes?.[0]?.quiet === true);

  // 4. The runner, started with exactly the container overrides of the captured RunTask.
  const runTask = world.runTaskInputs[0]!;
  const overrides = runTask.overrides?.containerOverrides?.[0];
  expect(overrides?.name).toBe('runner');
  const overrideEnv = Object.fromEntries((overrides?.environment ?? []).map((e) => [e.name!, e.value!]));
  const slackCallsBefore = world.slack.calls.length;
  // Every AWS call so far was the bot's; every call from here on is the runner's.
  const clients: ObservedClient[] = [
    ...worldClients(),
    { service: 'ssm', stub: ssmMock },
    { service: 'dynamodb', stub: ledgerCalls },
  ];
  const botCalls = await observedSince(clients);
  const beforeRunner = callCounts(clients);

  const exitCode = await runnerMain(
    {
      // What the task definition gives every runner (infra/), then the per-run override.
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: world.slack.apiUrl,
      SNOWWHITE_ALLOW_SLACK_API_URL: '1',
      SLACK_NOTIFY_CHANNEL: NOTIFY,
      SSM_DOCUMENT_QUIET: documents.quiet,
      SSM_DOCUMENT_STOP: documents.stop,
      SSM_DOCUMENT_WAKE: documents.wake,
      SSM_DOCUMENT_STATUS: documents.status,
      PROGRESS_UPDATE_SECONDS: '1',
      ...overrideEnv,
    },
    { clients: { ssm: ssmClient }, log: silentLogger, pollDelay: () => 250 },
  );
  await fakeSsm.settled();

  // 5. Every worker drained, nothing lost: in-flight jobs finished, queued ones still queued.
  expect(exitCode).toBe(0);
  expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
  for (const [id, host] of hosts) {
    const accounting = await host.accounting();
    expect({ id, ...accounting }).toMatchObject({
      id,
      enqueued: JOBS_PER_HOST,
      completed: THREADS,
      queued: JOBS_PER_HOST - THREADS,
      running: 0,
      lost: 0,
    });
    const status = await host.runScript(['status']);
    expect(status.json?.processes).toEqual([expect.objectContaining({ quiet: true, busy: 0 })]);
  }

  // 6. Slack: progress and summary in the thread, the summary in the notification channel, a DM.
  const runnerCalls = world.slack.calls.slice(slackCallsBefore);
  const inThread = runnerCalls.filter(
    (c) => c.method === 'chat.postMessage' && c.args.thread_ts === threadTs,
  );
  expect(inThread.length).toBeGreaterThanOrEqual(2);
  const summaryText = JSON.stringify(inThread.at(-1)!.args);
  for (const id of INSTANCES) expect(summaryText).toContain(id);
  expect(summaryText).toMatch(/drained/);
  expect(runnerCalls.every((c) => c.token === BOT_TOKEN)).toBe(true);

  const notified = runnerCalls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === NOTIFY);
  expect(notified).toHaveLength(1);
  expect(JSON.stringify(notified[0]!.args)).toContain('https://example.slack.com/archives/C0OPS/');

  const opened = runnerCalls.find((c) => c.method === 'conversations.open');
  expect(opened?.args.users).toBe('U0ALICE');
  const dmChannel = (opened?.reply as { channel: { id: string } }).channel.id;
  expect(
    runnerCalls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === dmChannel),
  ).toHaveLength(1);
  // 7. Least privilege: every AWS call the bot and the runner made above is allowed by the synthesized
  // stack's own role policies, per an IAM evaluator nobody here wrote.
  const runnerAwsCalls = await observedSince(clients, beforeRunner);
  const denied = await deniedOf({ bot: botCalls, runner: runnerAwsCalls });
  expect(denied).toEqual([]);
  const observed = new Set([...botCalls, ...runnerAwsCalls].map((c) => `${c.service}:${c.command}`));
  for (const action of [
    'iam:SimulatePrincipalPolicy',
    'ecs:RunTask',
    'ssm:SendCommand',
    'ssm:ListCommandInvocations',
    // The ledger: the send's claim, the locks, the launch record, the per-person limit.
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ])
    expect([...observed]).toContain(action);
  // The split the roles are cut to: the bot sends, the runner only follows.
  expect(botCalls.map((c) => `${c.service}:${c.command}`)).toContain('ssm:SendCommand');
  expect(runnerAwsCalls.map((c) => `${c.service}:${c.command}`)).not.toContain('ssm:SendCommand');
});

/** The world's mocked clients (the bot's, its SSM reads before the hosts answered included). */
const worldClients = (): ObservedClient[] => [
  { service: 'ssm', stub: world.ssm.mock },
  { service: 'iam', stub: iamMock },
  { service: 'ecs', stub: ecsMock },
  { service: 'elasticbeanstalk', stub: ebMock },
  { service: 'lambda', stub: lambdaMock },
  { service: 'secretsmanager', stub: secretsMock },
];

let roles: ReturnType<typeof synthesizedRoles> | undefined;
const stackRoles = () => (roles ??= synthesizedRoles());

/**
 * The test ran with stand-in settings (baseEnv): a value the bot read from its environment is the
 * stack's value for the same setting (the cluster, the task definition, the documents, itself).
 */
function translator(): (value: string) => string {
  const { botEnv, botFunctionName } = stackRoles();
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(baseEnv()))
    if (value !== undefined && botEnv[name] !== undefined) map.set(value, botEnv[name]);
  map.set(baseEnv().AWS_LAMBDA_FUNCTION_NAME!, botFunctionName);
  map.set(table, botEnv.LEDGER_TABLE_NAME!);
  return (value) => map.get(value) ?? value;
}

/** Every IAM request of these calls that the role's policies do not allow, with its decision. */
async function deniedOf(calls: { bot: ObservedCall[]; runner: ObservedCall[] }) {
  const { policies, taskRoleArns } = stackRoles();
  const translate = translator();
  const out: Array<IamRequest & { role: string; decision: string }> = [];
  for (const role of ['bot', 'runner'] as const)
    for (const call of calls[role])
      for (const request of iamRequestsFor(call, translate, taskRoleArns, (id) => world.instanceTags(id))) {
        const decision = await decide(policies[role], `arn:aws:iam::${ACCOUNT}:role/${role}`, request);
        if (decision !== 'Allowed') out.push({ role, ...request, decision });
      }
  return out;
}

test('calls that must stay impossible are denied to both roles by the synthesized policies', async () => {
  const { policies, botEnv, taskRoleArns } = stackRoles();
  const cluster = botEnv.RUNNER_CLUSTER!;
  const arn = (svc: string, resource: string) => `arn:aws:${svc}:${REGION}:${ACCOUNT}:${resource}`;
  const impossible: IamRequest[] = [
    // SendCommand to an instance that is not Elastic Beanstalk's (no environment tag), or of another document.
    { action: 'ssm:SendCommand', resource: arn('ec2', 'instance/i-0123456789abcdef0'), context: {} },
    { action: 'ssm:SendCommand', resource: arn('ssm', 'document/AWS-RunShellScript'), context: {} },
    // RunTask of another task definition, or of the runner's in another cluster.
    {
      action: 'ecs:RunTask',
      resource: arn('ecs', 'task-definition/payments-worker:3'),
      context: { 'ecs:cluster': cluster },
    },
    {
      action: 'ecs:RunTask',
      resource: botEnv.RUNNER_TASK_DEFINITION_ARN!,
      context: { 'ecs:cluster': arn('ecs', 'cluster/payments') },
    },
    // Another table, another role, another function, another secret.
    ...['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DeleteItem'].map((action) => ({
      action,
      resource: arn('dynamodb', 'table/payments-ledger'),
      context: {},
    })),
    {
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/Admin`,
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    },
    { action: 'lambda:InvokeFunction', resource: arn('lambda', 'function:payments-api'), context: {} },
    {
      action: 'secretsmanager:GetSecretValue',
      resource: arn('secretsmanager', 'secret:payments-db-AbCdEf'),
      context: {},
    },
  ];
  const allowed: string[] = [];
  for (const role of ['bot', 'runner'] as const)
    for (const request of impossible) {
      const decision = await decide(policies[role], `arn:aws:iam::${ACCOUNT}:role/${role}`, request);
      if (decision === 'Allowed') allowed.push(`${role}: ${request.action} on ${request.resource}`);
    }
  expect(allowed).toEqual([]);
  // The check can tell: the stack's own runner roles may be passed, by the bot, to ECS tasks only.
  for (const role of taskRoleArns)
    expect(
      await decide(policies.bot, `arn:aws:iam::${ACCOUNT}:role/bot`, {
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      }),
    ).toBe('Allowed');
});
