import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LedgerReporter } from '../../runner/ledger/reporter';
import { runKey, type FleetItem } from '../../runner/ledger/schema';
import { createLedgerClient, type Ledger } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import {
  CANCEL_RUN_ACTION_ID,
  REQUEST_ACTION_ID,
  requestButtonValueSchema,
} from '../../runner/slack/buttons';
import type { InstanceOutcome } from '../../runner/drain/outcome';
import type { Action } from '../../ssm/actions';
import type { LedgerTable } from '../support/ledger-table';
import { useLedgerWorld } from '../support/ledger-world';
import { httpApiEvent } from '../support/slack-signing';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { DescribeEnvironmentsCommand } from '@aws-sdk/client-elastic-beanstalk';
import { ebMock, ecsMock, SIGNING_SECRET, World } from '../bot/world';

/**
 * Fleet memory through the bot, end to end: the real Lambda handler (signed Slack requests, its own
 * hand-offs, EventBridge's scheduled event), the fake Slack, and dynalite holding the table as the
 * synthesized template defines it. Fleet states are written by the runner's own LedgerReporter.
 */
const ctx = useLedgerWorld();
let db: LedgerTable;
let world: World;
let table: string;
let ledger: Ledger;
beforeEach(() => ({ db, world, table, ledger } = ctx));

const HOUR = 3600_000;
const T0 = Date.parse('2026-03-02T09:00:00.000Z');

/** A container of the bot whose wall clock (ledger times) reads `nowMs`. */
const botAt = (nowMs: number, env: Record<string, string> = {}) =>
  world.newContainer({ LEDGER_TABLE_NAME: table, ...env }, { nowMs: () => nowMs });

/** What the runner records when a run of `action` ends on `environment` at `atMs`. */
async function runnerFinished(
  action: Action,
  environment: string,
  atMs: number,
  runId = `run-${action}-${atMs}`,
) {
  const outcomes: InstanceOutcome[] = [
    { instanceId: 'i-0123456789abcdef0', environment, kind: 'drained', reason: 'done' },
  ];
  await new LedgerReporter(ledger, silentLogger, () => atMs).finished({
    request: {
      runId,
      action,
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1',
      requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
      slack: { channel: 'C0OPS', threadTs: '1700000000.000100' },
      drainTimeoutSeconds: 3600,
      executionTimeoutSeconds: 7200,
    },
    exitCode: 0,
    elapsedMs: 60_000,
    outcomes,
    commandIds: [],
  });
  return runId;
}

const scheduledEvent = () => ({
  version: '0',
  id: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-03-02T11:15:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/SnowWhiteReminders'],
  detail: {},
});

const eventRequest = (payload: Record<string, unknown>) =>
  httpApiEvent({
    signingSecret: SIGNING_SECRET,
    body: JSON.stringify(payload),
    contentType: 'application/json',
  });

const homeOpened = (user = 'U0ALICE') =>
  eventRequest({
    token: 'deprecated',
    team_id: 'T0TEAM',
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: 'Ev0HOME',
    event_time: 1700000000,
    event: { type: 'app_home_opened', user, channel: 'D0ALICE', tab: 'home', event_ts: '1700000000.000200' },
  });

interface Block {
  type: string;
  text?: { text: string };
  accessory?: { action_id: string; value: string; text: { text: string } };
}
const blocksOf = (call: { args: Record<string, unknown> }) =>
  (call.args.view as { blocks?: Block[] } | undefined)?.blocks ??
  (call.args.blocks as Block[] | undefined) ??
  [];

/** The Wake buttons of a message or view: their value as a request button (parsed as the bot will). */
const wakeButtons = (blocks: Block[]) =>
  blocks
    .filter((b) => b.accessory?.action_id === REQUEST_ACTION_ID)
    .map((b) => ({
      text: b.accessory!.text.text,
      value: requestButtonValueSchema.parse(JSON.parse(b.accessory!.value)),
    }));

const reminders = () =>
  world.slack
    .callsOf('chat.postMessage')
    .filter((c) => JSON.stringify(c.args.blocks ?? '').includes(REQUEST_ACTION_ID));

describe('launch', () => {
  test('the bot writes the run at launch, once: a replayed launch writes nothing new', async () => {
    const { responseId } = await world.slash('quiet workers MY-APP us-east-1');
    await world.playHandoffs();
    const value = world.confirmValue(responseId);
    await world.click(value, 'confirm');
    await world.playHandoffs();
    const runId = (JSON.parse(value) as { runId: string }).runId;
    const doc = createLedgerClient(db.client);
    const read = async () =>
      (await doc.send(new GetCommand({ TableName: table, Key: { pk: runKey(runId) } }))).Item;
    const first = await read();
    expect(first).toEqual(
      expect.objectContaining({
        state: 'launched',
        action: 'quiet',
        envPattern: 'workers',
        slackUserId: 'U0ALICE',
        iamUserName: 'alice',
        channel: 'C0OPS',
        taskArn: expect.stringMatching(/^arn:aws:ecs:/),
        permalink: expect.stringContaining('https://example.slack.com/archives/C0OPS/'),
        gsiUser: 'U0ALICE',
        gsiRecent: 'run',
      }),
    );
    // The same confirmation replayed in a fresh container (module memo gone): ECS refuses a second
    // task, and the ledger keeps the first item untouched.
    await world.click(value, 'confirm', { handler: world.newContainer({ LEDGER_TABLE_NAME: table }) });
    await world.playHandoffs(world.newContainer({ LEDGER_TABLE_NAME: table }));
    expect(await read()).toEqual(first);
    expect(world.launchedTasks).toBe(1);
  });

  test('DynamoDB unavailable: a quiet is refused (its locks cannot be taken); a status is still answered and the lost writes are logged', async () => {
    const unreachable = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 2,
    });
    world.dynamodb = unreachable;
    const handler = world.newContainer({ LEDGER_TABLE_NAME: table });
    const quiet = await world.slash('quiet workers MY-APP us-east-1', { handler });
    await world.playHandoffs(handler);
    expect(JSON.stringify(world.lastResponse(quiet.responseId))).toContain(
      'Could not check whether another run holds these environments',
    );
    expect(world.launchedTasks).toBe(0);

    const status = await world.slash('status workers MY-APP us-east-1', { handler });
    await world.playHandoffs(handler);
    unreachable.destroy();
    // Status takes no lock and needs no runner: answered from the instances, each sent its command once.
    expect(world.launchedTasks).toBe(0);
    expect(String(world.lastResponse(status.responseId)?.text)).toContain('4 reported');
    const lost = world.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'ledger_write_lost');
    // Every lost write names the run: the send's claim and its record.
    expect(lost.map((l) => l.write)).toEqual(expect.arrayContaining(['send_claim', 'sent']));
    expect(new Set(lost.map((l) => l.runId)).size).toBe(1);
    expect(world.ssm.instancesSentTo('snowwhite-status').sort()).toEqual([
      'i-e-myapp-workers-prod-0',
      'i-e-myapp-workers-prod-1',
      'i-e-myapp-workers-prod-2',
      'i-e-myapp-workers-staging-0',
    ]);
  });
});

describe('command-line runs', () => {
  test("a run from the command line by an IAM user tagged slack_userid is in the ledger under their Slack id, and in their Home's recent runs", async () => {
    const res = (await world.handler(
      await world.cliEvent(
        JSON.stringify({
          action: 'quiet',
          envPattern: 'staging',
          application: 'MY-APP',
          region: 'us-east-1',
          idempotencyKey: 'cli-run-tagged',
        }),
        'arn:aws:iam::123456789012:user/alice',
      ),
      {},
    )) as { statusCode: number };
    expect(res.statusCode).toBe(200);
    const request = world.runRequestOf(0);
    const runId = request.runId;
    expect(request.requestedBy).toEqual({ iamUserName: 'alice', slackUserId: 'U0ALICE' });

    // The runner's first ledger write, from the request the bot launched it with.
    await ledger.markRunning(request, { environments: ['myapp-workers-staging'], instances: 1 }, T0);
    const item = (
      await createLedgerClient(db.client).send(
        new GetCommand({ TableName: table, Key: { pk: runKey(runId) } }),
      )
    ).Item;
    expect(item).toMatchObject({ iamUserName: 'alice', slackUserId: 'U0ALICE', gsiUser: 'U0ALICE' });

    await world.handler(homeOpened('U0ALICE'), {});
    await world.playHandoffs();
    const blocks = blocksOf(world.slack.callsOf('views.publish').at(-1)!);
    const mine = blocks[blocks.findIndex((b) => b.text?.text === 'Your recent runs') + 1];
    expect(mine?.text?.text).toContain('*quiet* `staging` in MY-APP (us-east-1) by <@U0ALICE>');
  });
});

describe('App Home', () => {
  test('app_home_opened publishes a Home view naming the quiet environments, each with Wake', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    await runnerFinished('stop', 'myapp-workers-staging', T0 + HOUR);
    const handler = botAt(T0 + 3 * HOUR);
    const res = (await handler(homeOpened(), {})) as { statusCode: number };
    expect(res.statusCode).toBe(200);
    expect(world.slack.callsOf('views.publish')).toHaveLength(0); // only handed off
    await world.playHandoffs(handler);

    const [publish] = world.slack.callsOf('views.publish');
    expect(publish!.args.user_id).toBe('U0ALICE');
    const blocks = blocksOf(publish!);
    const text = JSON.stringify(blocks);
    expect(text).toContain('Fleets left quiet or stopped');
    expect(text).toContain('*myapp-workers-prod* · MY-APP (us-east-1)');
    expect(text).toContain('quiet for 3h 0m');
    expect(text).toContain('stopped for 2h 0m');
    expect(text).toContain('<@U0ALICE>');
    expect(wakeButtons(blocks)).toEqual([
      {
        text: 'Wake',
        value: {
          v: 1,
          action: 'wake',
          envPattern: '=myapp-workers-prod',
          application: 'MY-APP',
          region: 'us-east-1',
        },
      },
      {
        text: 'Wake',
        value: {
          v: 1,
          action: 'wake',
          envPattern: '=myapp-workers-staging',
          application: 'MY-APP',
          region: 'us-east-1',
        },
      },
    ]);
    expect(text).toContain('Your recent runs');
    expect(text).toContain('Latest runs in this workspace');
  });

  test('a fleet redeployed since it was quieted shows as probably awake, without Wake; the ledger still has it as Snow White left it', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    await runnerFinished('quiet', 'myapp-workers-staging', T0);
    // Deployed 30 minutes after the quiet: before any reminder was due, so only Home can notice.
    world.environments.find((e) => e.name === 'myapp-workers-prod')!.updatedAt = new Date(T0 + HOUR / 2);
    world.environments.find((e) => e.name === 'myapp-workers-staging')!.updatedAt = new Date(T0 - HOUR);
    const handler = botAt(T0 + HOUR);
    await handler(homeOpened(), {});
    await world.playHandoffs(handler);

    const blocks = blocksOf(world.slack.callsOf('views.publish').at(-1)!);
    expect(wakeButtons(blocks).map((b) => b.value.envPattern)).toEqual(['=myapp-workers-staging']);
    const prod = blocks.find((b) => b.text?.text.startsWith('*myapp-workers-prod*'));
    expect(prod?.accessory).toBeUndefined();
    expect(prod?.text?.text).toContain('quiet by <@U0ALICE> 1h 0m ago, but redeployed since');
    expect(prod?.text?.text).toContain('probably awake');
    expect(prod?.text?.text).toContain('`/snowwhite status =myapp-workers-prod MY-APP us-east-1`');
    // Listed after the fleets still quiet.
    expect(blocks.indexOf(prod!)).toBeGreaterThan(
      blocks.findIndex((b) => b.text?.text.startsWith('*myapp-workers-staging*')),
    );
    expect((await ledger.notAwakeFleets()).map((f) => [f.environment, f.state])).toEqual([
      ['myapp-workers-prod', 'quiet'],
      ['myapp-workers-staging', 'quiet'],
    ]);
  });

  test('Elastic Beanstalk unreachable: Home shows the fleets as the ledger has them, with Wake', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    world.environments.find((e) => e.name === 'myapp-workers-prod')!.updatedAt = new Date(T0 + HOUR / 2);
    ebMock.on(DescribeEnvironmentsCommand).rejects(new Error('EB is down'));
    const handler = botAt(T0 + HOUR);
    await handler(homeOpened(), {});
    await world.playHandoffs(handler);
    const blocks = blocksOf(world.slack.callsOf('views.publish').at(-1)!);
    expect(wakeButtons(blocks).map((b) => b.value.envPattern)).toEqual(['=myapp-workers-prod']);
    expect(world.logs.join('\n')).toContain('home_lookup_failed');
  });

  test('Events API handshake: a signed url_verification gets its challenge back; an unsigned one gets 401', async () => {
    const ok = (await world.handler(
      eventRequest({ token: 'x', type: 'url_verification', challenge: 'c0ffee' }),
      {},
    )) as {
      statusCode: number;
      body: string;
    };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ challenge: 'c0ffee' });
    const forged = eventRequest({ token: 'x', type: 'url_verification', challenge: 'c0ffee' });
    forged.headers['x-slack-signature'] = 'v0=' + '0'.repeat(64);
    expect(((await world.handler(forged, {})) as { statusCode: number }).statusCode).toBe(401);
  });

  test('DynamoDB unavailable: Home still opens and says it cannot read the history right now', async () => {
    world.dynamodb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const handler = world.newContainer({ LEDGER_TABLE_NAME: table });
    await handler(homeOpened(), {});
    await world.playHandoffs(handler);
    world.dynamodb.destroy();
    const [publish] = world.slack.callsOf('views.publish');
    expect(JSON.stringify(blocksOf(publish!))).toContain('cannot read the history right now');
  });
});

describe('reminders (EventBridge scheduled event)', () => {
  test('after REMINDER_AFTER_SECONDS: one reminder in the thread and a DM, with Wake; the next check does not repeat it', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    // Not yet due.
    await botAt(T0 + HOUR)(scheduledEvent(), {});
    expect(reminders()).toHaveLength(0);

    const result = await botAt(T0 + 2 * HOUR + 60_000)(scheduledEvent(), {});
    expect(result).toMatchObject({ ok: true, reminded: 1 });
    const posted = reminders();
    expect(posted.map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
      ['C0OPS', '1700000000.000100'],
      ['U0ALICE', undefined],
    ]);
    const blocks = blocksOf(posted[0]!);
    expect(JSON.stringify(blocks)).toContain('has been quiet for 2h 1m');
    expect(wakeButtons(blocks).map((b) => b.value.envPattern)).toEqual(['=myapp-workers-prod']);

    // 15 minutes later: nothing new.
    await botAt(T0 + 2 * HOUR + 16 * 60_000)(scheduledEvent(), {});
    expect(reminders()).toHaveLength(2);
    // After REMINDER_EVERY_SECONDS (4 h), one more.
    await botAt(T0 + 6 * HOUR + 2 * 60_000)(scheduledEvent(), {});
    expect(reminders()).toHaveLength(4);
    const fleet = (await ledger.notAwakeFleets())[0] as FleetItem;
    expect(fleet.reminders).toBe(2);
  });

  test('a wake run clears the reminder: no more once the fleet is awake', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    await botAt(T0 + 2 * HOUR + 60_000)(scheduledEvent(), {});
    expect(reminders()).toHaveLength(2);
    await runnerFinished('wake', 'myapp-workers-prod', T0 + 3 * HOUR);
    await botAt(T0 + 10 * HOUR)(scheduledEvent(), {});
    expect(reminders()).toHaveLength(2);
    expect(await ledger.notAwakeFleets()).toEqual([]);
  });

  test('a redeployed environment gets no reminder (Elastic Beanstalk updated it after it was quieted)', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0);
    await runnerFinished('quiet', 'myapp-workers-staging', T0);
    world.environments.find((e) => e.name === 'myapp-workers-prod')!.updatedAt = new Date(T0 + HOUR);
    world.environments.find((e) => e.name === 'myapp-workers-staging')!.updatedAt = new Date(T0 - HOUR);
    const result = await botAt(T0 + 3 * HOUR)(scheduledEvent(), {});
    expect(result).toMatchObject({ reminded: 1, skipped: 1 });
    expect(reminders().map((c) => JSON.stringify(c.args.blocks))).toEqual([
      expect.stringContaining('myapp-workers-staging'),
      expect.stringContaining('myapp-workers-staging'),
    ]);
    expect(world.logs.join('\n')).toContain('"reason":"redeployed"');
  });
});

describe('/snowwhite history', () => {
  test('answers only the asker with the last runs, filtered by application when given', async () => {
    await runnerFinished('quiet', 'myapp-workers-prod', T0, 'run-h1');
    await runnerFinished('wake', 'myapp-workers-prod', T0 + HOUR, 'run-h2');
    const { reply, responseId } = await world.slash('history MY-APP');
    expect(reply).toMatchObject({ response_type: 'ephemeral' });
    await world.playHandoffs();
    const answer = world.lastResponse(responseId)!;
    expect(answer.response_type).toBe('ephemeral');
    const text = String(answer.text);
    expect(text).toContain('Last runs for *MY-APP*');
    expect(text.indexOf('*wake*')).toBeLessThan(text.indexOf('*quiet*')); // newest first
    const other = await world.slash('history OTHER-APP');
    await world.playHandoffs();
    expect(String(world.lastResponse(other.responseId)!.text)).toContain(
      "No runs of this application among the workspace's latest 1,000 runs",
    );
  });

  test('someone who is not a known IAM user is refused', async () => {
    const { responseId } = await world.slash('history', { userId: 'U0MALLORY' });
    await world.playHandoffs();
    expect(String(world.lastResponse(responseId)!.text)).toContain(
      'no IAM user has the tag slack_userid=U0MALLORY',
    );
  });
});

describe('Cancel', () => {
  test('App Home lists the run in progress with Cancel; the click stops it and the ledger says cancelled, by whom, for good', async () => {
    const { responseId } = await world.slash('quiet workers MY-APP us-east-1');
    await world.playHandoffs();
    await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    const request = world.runRequestOf(0);

    await world.handler(homeOpened(), {});
    await world.playHandoffs();
    const home = blocksOf(world.slack.callsOf('views.publish').at(-1)!);
    const cancel = home.find((b) => b.accessory?.action_id === CANCEL_RUN_ACTION_ID);
    expect(cancel?.text?.text).toContain('*quiet* `workers` in MY-APP (us-east-1)');

    await world.clickInHome(cancel!.accessory!.value, CANCEL_RUN_ACTION_ID);
    await world.playHandoffs();
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    const read = async () =>
      (
        await createLedgerClient(db.client).send(
          new GetCommand({ TableName: table, Key: { pk: runKey(request.runId) } }),
        )
      ).Item;
    expect(await read()).toMatchObject({ state: 'cancelled', cancelledBy: 'U0ALICE' });

    // The stopped runner reports its interruption; cancelled stays.
    await ledger.recordEnd(request, { state: 'interrupted', exitCode: 143 }, Date.now());
    expect(await read()).toMatchObject({ state: 'cancelled', cancelledBy: 'U0ALICE' });

    // Home no longer offers Cancel for it.
    await world.handler(homeOpened(), {});
    await world.playHandoffs();
    const again = blocksOf(world.slack.callsOf('views.publish').at(-1)!);
    expect(again.some((b) => b.accessory?.action_id === CANCEL_RUN_ACTION_ID)).toBe(false);
  });
});
