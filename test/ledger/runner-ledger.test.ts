import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { launchedRunItem } from '../../runner/ledger/items';
import { fleetKey, runKey } from '../../runner/ledger/schema';
import { createLedger, createLedgerClient } from '../../runner/ledger/store';
import { createLogger, silentLogger } from '../../runner/log';
import { main } from '../../runner/main';
import { runRequest, runRequestInput } from '../support/run-request';
import { FakeSlack } from '../support/fake-slack';
import { startLedgerTable, type LedgerTable } from '../support/ledger-table';
import { sentByTheBot } from '../support/sent-by-bot';
import { mockSsmFleet } from '../runner/support/mock-ssm';
import { SCRIPTS, SsmFleet, type InstanceScript } from '../runner/support/ssm-fleet';
import { VirtualClock } from '../runner/support/virtual-clock';

/**
 * The runner's ledger writes, end to end: main() with mocked Elastic Beanstalk and SSM, the fake
 * Slack, and dynalite holding the table as the synthesized template defines it.
 */
let slack: FakeSlack;
let db: LedgerTable;
beforeAll(async () => {
  [slack, db] = await Promise.all([FakeSlack.start(), startLedgerTable()]);
});
afterAll(async () => {
  await Promise.all([slack.close(), db.close()]);
});

const eb = mockClient(ElasticBeanstalkClient);
const doc = () => createLedgerClient(db.client);
const get = async (tableName: string, pk: string) =>
  (await doc().send(new GetCommand({ TableName: tableName, Key: { pk } }))).Item;

const where = { region: 'us-east-1', application: 'MY-APP' } as const;

async function runOnce(
  tableName: string,
  request: ReturnType<typeof runRequestInput>,
  scripts: Record<string, InstanceScript>,
  ledgerClient: DynamoDBClient = db.client,
) {
  eb.reset();
  const ids = Object.keys(scripts);
  eb.on(DescribeEnvironmentsCommand).resolves({
    Environments: [{ EnvironmentId: 'e-1', EnvironmentName: 'my-app-workers-a', Status: 'Ready' }],
  });
  eb.on(DescribeEnvironmentResourcesCommand).resolves({
    EnvironmentResources: { Instances: ids.map((Id) => ({ Id })) },
  });
  const clock = new VirtualClock();
  const { client, mock } = mockSsmFleet(new SsmFleet(clock, (id) => scripts[id]!));
  mock.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: ids.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' as const })),
  });
  const logs: string[] = [];
  const code = await main(
    {
      // What the bot hands the runner: the commands it already sent.
      RUN_REQUEST: JSON.stringify(
        await sentByTheBot(
          client,
          request,
          [{ name: 'my-app-workers-a', instanceIds: ids }],
          `SnowWhite-${request.action[0]!.toUpperCase()}${request.action.slice(1)}`,
          clock,
        ),
      ),
      SLACK_BOT_TOKEN: 'xoxb-test-0000',
      SLACK_API_URL: slack.apiUrl,
      SNOWWHITE_ALLOW_SLACK_API_URL: '1',
      SSM_DOCUMENT_QUIET: 'SnowWhite-Quiet',
      SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
      SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
      SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
      LEDGER_TABLE_NAME: tableName,
    },
    {
      clients: { ssm: client },
      clock,
      log: createLogger({ write: (line) => logs.push(line) }),
      slackRetryDelaysMs: [5],
      ledgerClient,
    },
  );
  return { code, logs };
}

describe('runner → ledger', () => {
  it('a quiet run is in the ledger with its outcome, and leaves its environment quiet', async () => {
    const table = await db.fresh();
    const request = runRequestInput({ runId: 'run-quiet-1', action: 'quiet' });
    const { code } = await runOnce(table, request, { 'i-a1': SCRIPTS.drained(), 'i-a2': SCRIPTS.busy(2) });
    expect(code).toBe(2);

    expect(await get(table, runKey('run-quiet-1'))).toEqual(
      expect.objectContaining({
        kind: 'run',
        state: 'finished',
        action: 'quiet',
        application: 'MY-APP',
        iamUserName: 'alice',
        slackUserId: 'U0ALICE',
        environments: ['my-app-workers-a'],
        instances: 2,
        counts: { drained: 1, busy_at_deadline: 1 },
        exitCode: 2,
        channel: 'C0OPS',
        threadTs: '1700000000.000100',
      }),
    );
    const fleet = await get(table, fleetKey({ ...where, environment: 'my-app-workers-a' }));
    expect(fleet).toEqual(
      expect.objectContaining({
        state: 'quiet',
        runId: 'run-quiet-1',
        slackUserId: 'U0ALICE',
        gsiNotAwake: 'fleet',
      }),
    );
    expect(fleet).not.toHaveProperty('expiresAt');
    // Read back through the adapter's indexes, as Home and the reminders do.
    const ledger = createLedger({ client: doc(), tableName: table, logger: silentLogger });
    expect((await ledger.notAwakeFleets()).map((f) => f.environment)).toEqual(['my-app-workers-a']);
    expect((await ledger.runsOf('U0ALICE', 5)).map((r) => r.runId)).toEqual(['run-quiet-1']);
    expect((await ledger.recentRuns(5)).map((r) => r.runId)).toEqual(['run-quiet-1']);
    expect(await ledger.runsInProgress(Date.now(), 3600)).toEqual([]);
  });

  it("keeps the bot's launch item (task, permalink) and carries the permalink to the fleet", async () => {
    const table = await db.fresh();
    const request = runRequestInput({ runId: 'run-stop-1', action: 'stop' });
    const ledger = createLedger({ client: doc(), tableName: table, logger: silentLogger });
    const permalink = 'https://example.slack.com/archives/C0OPS/p1700000000000100';
    const item = launchedRunItem(runRequest(request), {
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/0123456789abcdef0123456789abcdef',
      permalink,
      nowMs: Date.now() - 60_000,
    });
    expect(await ledger.recordLaunch(item)).toBe('written');
    expect(await ledger.recordLaunch(item)).toBe('exists');

    expect((await runOnce(table, request, { 'i-a1': SCRIPTS.drained() })).code).toBe(0);
    const run = await get(table, runKey('run-stop-1'));
    expect(run).toEqual(
      expect.objectContaining({
        state: 'finished',
        taskArn: item.taskArn,
        permalink,
        startedAt: item.startedAt,
      }),
    );
    expect(await get(table, fleetKey({ ...where, environment: 'my-app-workers-a' }))).toEqual(
      expect.objectContaining({ state: 'stopped', permalink }),
    );
  });

  it('a wake run that woke every instance leaves the fleet awake, out of the not-awake index', async () => {
    const table = await db.fresh();
    await runOnce(table, runRequestInput({ runId: 'run-q', action: 'quiet' }), { 'i-a1': SCRIPTS.drained() });
    await runOnce(table, runRequestInput({ runId: 'run-w', action: 'wake' }), { 'i-a1': SCRIPTS.drained() });
    const fleet = await get(table, fleetKey({ ...where, environment: 'my-app-workers-a' }));
    expect(fleet).toEqual(expect.objectContaining({ state: 'awake', runId: 'run-w' }));
    expect(fleet).not.toHaveProperty('gsiNotAwake');
    expect(fleet).toHaveProperty('expiresAt');
    const ledger = createLedger({ client: doc(), tableName: table, logger: silentLogger });
    expect(await ledger.notAwakeFleets()).toEqual([]);
  });

  it('a wake that failed somewhere leaves the fleet not awake', async () => {
    const table = await db.fresh();
    await runOnce(table, runRequestInput({ runId: 'run-q2', action: 'quiet' }), {
      'i-a1': SCRIPTS.drained(),
    });
    await runOnce(table, runRequestInput({ runId: 'run-w2', action: 'wake' }), {
      'i-a1': SCRIPTS.drained(),
      'i-a2': SCRIPTS.failed('systemctl restart failed'),
    });
    expect(await get(table, fleetKey({ ...where, environment: 'my-app-workers-a' }))).toEqual(
      expect.objectContaining({ state: 'quiet', runId: 'run-q2' }),
    );
  });

  it('DynamoDB unavailable: the drain still runs and reports; each lost write is logged with the run id', async () => {
    const unreachable = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9', // discard port: nothing listens
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 2,
    });
    const request = runRequestInput({ runId: 'run-lost-1', action: 'quiet' });
    const { code, logs } = await runOnce(
      'snowwhite-ledger-missing',
      request,
      { 'i-a1': SCRIPTS.drained() },
      unreachable,
    );
    unreachable.destroy();
    expect(code).toBe(0);
    const lost = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'ledger_write_lost');
    expect(lost.map((l) => l.write)).toEqual(['running', 'finished', 'fleet my-app-workers-a']);
    expect(lost.every((l) => l.runId === 'run-lost-1')).toBe(true);
    // Slack still got the summary.
    expect(slack.callsOf('chat.postMessage').some((c) => String(c.args.text).includes('finished'))).toBe(
      true,
    );
  });
});
