import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { lockKey } from '../../runner/ledger/locks';
import { LedgerReporter } from '../../runner/ledger/reporter';
import { createLocks } from '../../runner/ledger/locks';
import { fleetKey, runKey } from '../../runner/ledger/schema';
import { createLedgerClient, type Ledger } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import { CANCEL_RUN_ACTION_ID, REQUEST_ACTION_ID } from '../../runner/slack/buttons';
import type { RunRequest } from '../../runner/request';
import type { LedgerTable } from '../support/ledger-table';
import { useLedgerWorld } from '../support/ledger-world';
import { httpApiEvent } from '../support/slack-signing';
import { operator, SIGNING_SECRET, World } from '../bot/world';

/**
 * "State that holds", end to end: the real Lambda handler driven by signed Slack requests, its own
 * hand-offs and EventBridge's scheduled event; the runner's own LedgerReporter for run ends; dynalite
 * holding the table as the synthesized template defines it.
 */
const ctx = useLedgerWorld();
let db: LedgerTable;
let world: World;
let table: string;
let ledger: Ledger;
const doc = () => createLedgerClient(db.client);
beforeEach(() => ({ db, world, table, ledger } = ctx));
beforeEach(() => world.users.push(operator('bob', 'U0BOB')));

const get = async (pk: string) => (await doc().send(new GetCommand({ TableName: table, Key: { pk } }))).Item;
const lockOf = (environment: string) =>
  get(lockKey({ region: 'us-east-1', application: 'MY-APP', environment }));
const textOf = (responseId: string) => JSON.stringify(world.lastResponse(responseId) ?? {});

/** A typed command by `userId` up to its prompt (or its refusal). */
async function ask(text: string, userId = 'U0ALICE', handler = world.handler) {
  const res = await world.slash(text, { userId, handler });
  await world.playHandoffs(handler);
  return res.responseId;
}
async function confirm(responseId: string, userId = 'U0ALICE', handler = world.handler) {
  const value = world.confirmValue(responseId);
  const res = await world.click(value, 'confirm', { userId, handler });
  await world.playHandoffs(handler);
  return { responseId: res.responseId, runId: (JSON.parse(value) as { runId: string }).runId };
}

/** What the runner records when its run ends (all instances drained), with the locks it was given. */
async function runnerFinished(request: RunRequest) {
  const locks = createLocks({ client: doc(), tableName: table, logger: silentLogger });
  await new LedgerReporter(ledger, silentLogger, Date.now, locks).finished({
    request,
    exitCode: 0,
    elapsedMs: 60_000,
    outcomes: [
      {
        instanceId: 'i-0123456789abcdef0',
        environment: 'myapp-workers-prod',
        kind: 'drained',
        reason: 'done',
      },
    ],
    commandIds: [],
  });
}

const cancelClick = async (run: RunRequest, taskArn: string, userId = 'U0ALICE') => {
  const value = JSON.stringify({
    v: 1,
    runId: run.runId,
    action: run.action,
    envPattern: run.envPattern,
    application: run.application,
    region: run.region,
    taskArn,
  });
  const res = await world.click(value, 'confirm', { userId, actionId: CANCEL_RUN_ACTION_ID });
  await world.playHandoffs();
  return res.responseId;
};

const homeOpened = (user = 'U0ALICE') =>
  httpApiEvent({
    signingSecret: SIGNING_SECRET,
    contentType: 'application/json',
    body: JSON.stringify({
      token: 'deprecated',
      team_id: 'T0TEAM',
      api_app_id: 'A0APP',
      type: 'event_callback',
      event_id: 'Ev0HOME',
      event_time: 1700000000,
      event: { type: 'app_home_opened', user, channel: 'D0X', tab: 'home', event_ts: '1700000000.000200' },
    }),
  });
const scheduledEvent = () => ({
  version: '0',
  id: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-03-02T11:15:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {},
});
interface Block {
  type: string;
  text?: { text: string };
  accessory?: { action_id: string; value: string };
}
const homeBlocks = () =>
  (world.slack.callsOf('views.publish').at(-1)?.args.view as { blocks?: Block[] } | undefined)?.blocks ?? [];

describe('one state-changing run per environment', () => {
  test('a wake while a quiet holds the lock is refused at the prompt and at Confirm, with who and the thread; status still runs', async () => {
    // Bob's prompt comes first, then Alice confirms a quiet on the same workers.
    const bobsEarlyPrompt = await ask('wake workers-prod MY-APP us-east-1', 'U0BOB');
    const alice = await confirm(await ask('quiet workers-prod MY-APP us-east-1'));
    expect(world.launchedTasks).toBe(1);
    const lock = await lockOf('myapp-workers-prod');
    expect(lock).toMatchObject({ runId: alice.runId, action: 'quiet', slackUserId: 'U0ALICE' });
    expect(String(lock?.permalink)).toMatch(/^https:\/\//);

    // At the prompt: refused at once, naming who, what, since when and the thread.
    const refused = await ask('wake workers MY-APP us-east-1', 'U0BOB');
    const text = textOf(refused);
    expect(text).toContain('<@U0ALICE> is running `quiet` on *myapp-workers-prod* since <!date^');
    expect(text).toContain(`${String(lock?.permalink)}|see its thread`);
    expect(() => world.confirmValue(refused)).toThrow('no confirmation prompt');

    // At Confirm (the prompt was shown before the lock was taken): refused, nothing launched.
    const late = await confirm(bobsEarlyPrompt, 'U0BOB');
    expect(textOf(late.responseId)).toContain('<@U0ALICE> is running `quiet`');
    expect(textOf(late.responseId)).toContain('Nothing was launched');
    expect(world.launchedTasks).toBe(1);
    expect((await lockOf('myapp-workers-prod'))?.runId).toBe(alice.runId);

    // status is never blocked.
    const status = await ask('status workers-prod MY-APP us-east-1', 'U0BOB');
    expect(textOf(status)).toContain('3 reported');
    expect(world.ssm.sent.filter((c) => c.documentName === 'snowwhite-status')).toHaveLength(1);
    expect(world.launchedTasks).toBe(1);
  });

  test('the lock is released when the run ends', async () => {
    await confirm(await ask('quiet workers-prod MY-APP us-east-1'));
    expect(await lockOf('myapp-workers-prod')).toBeDefined();
    await runnerFinished(world.runRequestOf(0));
    expect(await lockOf('myapp-workers-prod')).toBeUndefined();
    await confirm(await ask('wake workers-prod MY-APP us-east-1', 'U0BOB'), 'U0BOB');
    expect(world.launchedTasks).toBe(2);
  });

  test('the lock is released when the run is cancelled; its environments are then possibly quiet, with Wake, and reminded', async () => {
    const alice = await confirm(await ask('quiet workers MY-APP us-east-1'));
    const run = world.runRequestOf(0);
    const taskArn = [...world.tasks.values()][0]!.taskArn;
    expect(await lockOf('myapp-workers-staging')).toBeDefined();
    await cancelClick(run, taskArn);
    expect(world.taskStops.get(taskArn)).toBeDefined();
    expect(await get(runKey(alice.runId))).toMatchObject({ state: 'cancelled' });
    expect(await lockOf('myapp-workers-prod')).toBeUndefined();
    expect(await lockOf('myapp-workers-staging')).toBeUndefined();
    const fleet = await get(
      fleetKey({ region: 'us-east-1', application: 'MY-APP', environment: 'myapp-workers-prod' }),
    );
    expect(fleet).toMatchObject({ state: 'possibly_quiet', runId: alice.runId, gsiNotAwake: 'fleet' });

    // App Home: both environments possibly quiet, each with a Wake naming exactly it.
    await world.handler(homeOpened(), {});
    await world.playHandoffs();
    const withWake = homeBlocks().filter((b) => b.accessory?.action_id === REQUEST_ACTION_ID);
    expect(withWake.map((b) => b.text?.text.split('*')[1])).toEqual([
      'myapp-workers-prod',
      'myapp-workers-staging',
    ]);
    expect(withWake[0]?.text?.text).toContain('possibly quiet');
    expect(JSON.parse(withWake[0]!.accessory!.value)).toMatchObject({
      action: 'wake',
      envPattern: '=myapp-workers-prod',
    });

    // The reminder fires once REMINDER_AFTER_SECONDS (default 2 h) have passed, not before.
    const remindersPosted = () =>
      world.slack
        .callsOf('chat.postMessage')
        .filter((c) => JSON.stringify(c.args.blocks ?? '').includes(REQUEST_ACTION_ID));
    await world.newContainer({ LEDGER_TABLE_NAME: table }, { nowMs: () => Date.now() + 3600_000 })(
      scheduledEvent(),
      {},
    );
    expect(remindersPosted()).toHaveLength(0);
    await world.newContainer({ LEDGER_TABLE_NAME: table }, { nowMs: () => Date.now() + 7300_000 })(
      scheduledEvent(),
      {},
    );
    expect(remindersPosted().length).toBeGreaterThanOrEqual(2); // thread and DM, per environment
    expect(JSON.stringify(remindersPosted()[0]?.args.text)).toContain('possibly quiet');
  });

  test('a lock expires after the run’s execution timeout: a later container may take the environment', async () => {
    await confirm(await ask('quiet workers-prod MY-APP us-east-1'));
    const lock = await lockOf('myapp-workers-prod');
    expect(Number(lock?.expiresAt) - Math.floor(Date.now() / 1000)).toBeGreaterThan(7100);
    expect(Number(lock?.expiresAt) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(7200);
    // Two hours and a minute later (nothing released it: the runner died without a word).
    const later = world.newContainer({ LEDGER_TABLE_NAME: table }, { nowMs: () => Date.now() + 7260_000 });
    await confirm(await ask('wake workers-prod MY-APP us-east-1', 'U0BOB', later), 'U0BOB', later);
    expect(world.launchedTasks).toBe(2);
    expect((await lockOf('myapp-workers-prod'))?.runId).toBe(world.runRequestOf(1).runId);
  });

  test('a longer --timeout makes the lock hold longer (the execution timeout grows with it)', async () => {
    await confirm(await ask('quiet workers-prod MY-APP us-east-1 --timeout 4h'));
    const lock = await lockOf('myapp-workers-prod');
    expect(Number(lock?.expiresAt) - Math.floor(Date.now() / 1000)).toBeGreaterThan(4 * 3600 + 500);
  });
});

describe('exact targets on buttons', () => {
  test('App Home Wake on workers-prod next to workers-prod-eu: the prompt names only workers-prod', async () => {
    world.environments.push({ name: 'myapp-workers-prod-eu', instances: 2 });
    await confirm(await ask('quiet workers-prod MY-APP us-east-1'));
    expect(world.runRequestOf(0).envPattern).toBe('workers-prod'); // typed: both environments
    await runnerFinished(world.runRequestOf(0));
    await world.handler(homeOpened(), {});
    await world.playHandoffs();
    const wake = homeBlocks().find((b) => b.accessory?.action_id === REQUEST_ACTION_ID);
    expect(wake?.text?.text).toContain('*myapp-workers-prod*');

    await world.clickInHome(wake!.accessory!.value, REQUEST_ACTION_ID);
    await world.playHandoffs();
    const prompt = world.slack
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === 'U0ALICE')
      .at(-1);
    const text = JSON.stringify(prompt?.args);
    expect(text).toContain('myapp-workers-prod');
    expect(text).not.toContain('myapp-workers-prod-eu');
    expect(text).toContain('named exactly');
  });
});
