import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { launchedRunItem } from '../../runner/ledger/items';
import { createLocks, lockKey } from '../../runner/ledger/locks';
import { LedgerReporter } from '../../runner/ledger/reporter';
import { fleetKey, runKey } from '../../runner/ledger/schema';
import { createLedgerClient, type Ledger } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import type { RunRequest } from '../../runner/request';
import { CANCEL_RUN_ACTION_ID, REQUEST_ACTION_ID } from '../../runner/slack/buttons';
import type { Action } from '../../ssm/actions';
import type { LedgerTable } from '../support/ledger-table';
import { useLedgerWorld } from '../support/ledger-world';
import { httpApiEvent } from '../support/slack-signing';
import { SIGNING_SECRET, World } from '../bot/world';

/**
 * A ledger that stays true, end to end: the real Lambda handler (signed Slack and command-line
 * requests, hand-offs, EventBridge's scheduled event), the runner's LedgerReporter, dynalite with the
 * template's table.
 */
const ctx = useLedgerWorld();
let db: LedgerTable;
let world: World;
let table: string;
let ledger: Ledger;
const doc = () => createLedgerClient(db.client);
beforeEach(() => ({ db, world, table, ledger } = ctx));

const MIN = 60_000;
const get = async (pk: string) => (await doc().send(new GetCommand({ TableName: table, Key: { pk } }))).Item;
const fleetOf = (environment: string) =>
  get(fleetKey({ region: 'us-east-1', application: 'MY-APP', environment }));
const botAt = (offsetMs: number) =>
  world.newContainer({ LEDGER_TABLE_NAME: table }, { nowMs: () => Date.now() + offsetMs });
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
const homeOpened = () =>
  httpApiEvent({
    signingSecret: SIGNING_SECRET,
    contentType: 'application/json',
    body: JSON.stringify({
      token: 'x',
      team_id: 'T0TEAM',
      api_app_id: 'A0APP',
      type: 'event_callback',
      event_id: 'Ev0HOME',
      event_time: 1700000000,
      event: { type: 'app_home_opened', user: 'U0ALICE', channel: 'D0X', tab: 'home', event_ts: '1.2' },
    }),
  });
/** App Home as published now, by a container at `offsetMs`. */
async function home(offsetMs = 0): Promise<string> {
  const handler = botAt(offsetMs);
  await handler(homeOpened(), {});
  await world.playHandoffs(handler);
  return JSON.stringify(world.slack.callsOf('views.publish').at(-1)?.args.view);
}

async function confirmed(text: string): Promise<{ runId: string; request: RunRequest; taskArn: string }> {
  const { responseId } = await world.slash(text);
  await world.playHandoffs();
  const value = world.confirmValue(responseId);
  await world.click(value, 'confirm');
  await world.playHandoffs();
  const i = world.runTaskInputs.length - 1;
  return {
    runId: (JSON.parse(value) as { runId: string }).runId,
    request: world.runRequestOf(i),
    taskArn: [...world.tasks.values()].at(-1)!.taskArn,
  };
}

/** What the runner records at the end of its run (and the locks it gives back). */
function finished(request: RunRequest, environment: string, atMs: number) {
  const locks = createLocks({ client: doc(), tableName: table, logger: silentLogger });
  return new LedgerReporter(ledger, silentLogger, () => atMs, locks).finished({
    request,
    exitCode: 0,
    elapsedMs: MIN,
    outcomes: [{ instanceId: 'i-0123456789abcdef0', environment, kind: 'drained', reason: 'done' }],
    commandIds: [],
  });
}

describe('reconciliation (the 15-minute scheduled event)', () => {
  test('a run whose task went STOPPED without starting: after one event it is interrupted, its Cancel gone, its environments possibly quiet, its locks released', async () => {
    const { runId, taskArn } = await confirmed('quiet workers-prod MY-APP us-east-1');
    expect(await home()).toContain(CANCEL_RUN_ACTION_ID);
    world.taskStops.set(taskArn, { ended: true, reason: 'CannotPullContainerError' });

    const result = (await botAt(15 * MIN)(scheduledEvent(), {})) as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, interrupted: 1 });
    expect(await get(runKey(runId))).toMatchObject({
      state: 'interrupted',
      error: expect.stringContaining('stopped'),
    });
    expect(
      await get(lockKey({ region: 'us-east-1', application: 'MY-APP', environment: 'myapp-workers-prod' })),
    ).toBe(undefined);
    expect(await fleetOf('myapp-workers-prod')).toMatchObject({ state: 'possibly_quiet', runId });
    const view = await home(15 * MIN);
    expect(view).not.toContain(CANCEL_RUN_ACTION_ID);
    expect(view).toContain('possibly quiet');
    expect(view).toContain(REQUEST_ACTION_ID); // its Wake

    // The next event changes nothing more.
    expect(await botAt(30 * MIN)(scheduledEvent(), {})).toMatchObject({ interrupted: 0 });
  });

  test('a run ECS no longer knows (MISSING) is interrupted too; one just launched is left alone', async () => {
    const ghost = 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/ffffffffffffffffffffffffffffffff';
    const request = {
      runId: 'ghost-run',
      action: 'wake' as Action,
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1' as const,
      requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
    };
    await ledger.recordLaunch(launchedRunItem(request, { taskArn: ghost, nowMs: Date.now() }));
    expect(await botAt(5 * MIN)(scheduledEvent(), {})).toMatchObject({ interrupted: 0 });
    expect(await get(runKey('ghost-run'))).toMatchObject({ state: 'launched' });
    expect(await botAt(15 * MIN)(scheduledEvent(), {})).toMatchObject({ interrupted: 1 });
    expect(await get(runKey('ghost-run'))).toMatchObject({ state: 'interrupted' });
    // A wake that died leaves nothing possibly quiet.
    expect(await fleetOf('myapp-workers-prod')).toBeUndefined();
  });

  test('a terminated environment: gone from App Home and never reminded', async () => {
    const { request } = await confirmed('quiet workers-staging MY-APP us-east-1');
    await finished(request, 'myapp-workers-staging', Date.now());
    expect(await home()).toContain('myapp-workers-staging');
    // Blue/green: quieted, then terminated.
    world.environments.find((e) => e.name === 'myapp-workers-staging')!.status = 'Terminated';

    const result = await botAt(3 * 3600_000)(scheduledEvent(), {});
    expect(result).toMatchObject({ fleetsGone: 1, reminded: 0 });
    expect(await fleetOf('myapp-workers-staging')).toMatchObject({
      state: 'quiet',
      goneAt: expect.any(String),
    });
    expect((await fleetOf('myapp-workers-staging'))?.gsiNotAwake).toBeUndefined();
    expect(await home(3 * 3600_000)).not.toContain('myapp-workers-staging');
    await botAt(6 * 3600_000)(scheduledEvent(), {});
    expect(
      world.slack.callsOf('chat.postMessage').filter((c) => String(c.args.text).includes('wake it?')),
    ).toEqual([]);
  });
});

describe('a run that does not finish', () => {
  test('a runner interrupted (its task stopped by ECS, not by Cancel): interrupted, possibly quiet, locks released', async () => {
    const { runId, request } = await confirmed('quiet workers-prod MY-APP us-east-1');
    const locks = createLocks({ client: doc(), tableName: table, logger: silentLogger });
    await new LedgerReporter(ledger, silentLogger, Date.now, locks).interrupted({
      request,
      commandIds: [],
      snapshot: { request, elapsedMs: 1, environments: [] },
    });
    expect(await get(runKey(runId))).toMatchObject({ state: 'interrupted' });
    expect(await fleetOf('myapp-workers-prod')).toMatchObject({ state: 'possibly_quiet', runId });
    expect(
      await get(lockKey({ region: 'us-east-1', application: 'MY-APP', environment: 'myapp-workers-prod' })),
    ).toBe(undefined);
    // The reconciliation then finds nothing left to do.
    world.taskStops.set([...world.tasks.values()][0]!.taskArn, { ended: true });
    expect(await botAt(15 * MIN)(scheduledEvent(), {})).toMatchObject({ interrupted: 0 });
  });
});

describe('ordered writes', () => {
  test('a late finished after cancelled: still cancelled', async () => {
    const { runId, request, taskArn } = await confirmed('quiet workers-prod MY-APP us-east-1');
    const value = JSON.stringify({
      v: 1,
      runId,
      action: 'quiet',
      envPattern: request.envPattern,
      application: 'MY-APP',
      region: 'us-east-1',
      taskArn,
    });
    await world.click(value, 'confirm', { actionId: CANCEL_RUN_ACTION_ID });
    await world.playHandoffs();
    expect(await get(runKey(runId))).toMatchObject({ state: 'cancelled', cancelledBy: 'U0ALICE' });
    await finished(request, 'myapp-workers-prod', Date.now() + MIN);
    expect(await get(runKey(runId))).toMatchObject({ state: 'cancelled', cancelledBy: 'U0ALICE' });
    // The runner's interruption report (SIGTERM) after the cancel changes nothing either.
    await new LedgerReporter(ledger, silentLogger).interrupted({
      request,
      commandIds: [],
      snapshot: { request, elapsedMs: 1, environments: [] },
    });
    expect(await get(runKey(runId))).toMatchObject({ state: 'cancelled' });
  });

  test("a fleet's state is replaced only by a run that started later", async () => {
    const quiet = await confirmed('quiet workers-prod MY-APP us-east-1');
    await finished(quiet.request, 'myapp-workers-prod', Date.now());
    const wake = await confirmed('wake workers-prod MY-APP us-east-1');
    await finished(wake.request, 'myapp-workers-prod', Date.now() + MIN);
    expect(await fleetOf('myapp-workers-prod')).toMatchObject({ state: 'awake', runId: wake.runId });
    // The quiet's report arrives again, late (a retried write): it started earlier, so it loses.
    await finished(quiet.request, 'myapp-workers-prod', Date.now() + 2 * MIN);
    expect(await fleetOf('myapp-workers-prod')).toMatchObject({ state: 'awake', runId: wake.runId });
  });
});

describe('run ids and the launch record', () => {
  test("a command-line request reusing an old run's id: a new run, the old item unchanged", async () => {
    const old = await confirmed('quiet workers-prod MY-APP us-east-1');
    const before = await get(runKey(old.runId));
    const res = (await world.handler(
      await world.cliEvent(
        JSON.stringify({
          action: 'status',
          envPattern: 'workers-prod',
          application: 'MY-APP',
          region: 'us-east-1',
          runId: old.runId,
        }),
        'arn:aws:iam::123456789012:user/alice',
      ),
      {},
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as { runId: string };
    expect(body.runId).not.toBe(old.runId);
    expect(world.launchedTasks).toBe(2);
    expect(await get(runKey(old.runId))).toEqual(before);
    // The command line's run is recorded at launch, as a Slack run is.
    expect(await get(runKey(body.runId))).toMatchObject({
      state: 'launched',
      action: 'status',
      iamUserName: 'alice',
    });
  });

  test('Slack fails after RunTask: the run is already in the ledger, and the person is told a runner was launched, with its Cancel', async () => {
    const { responseId } = await world.slash('quiet workers-prod MY-APP us-east-1');
    await world.playHandoffs();
    const value = world.confirmValue(responseId);
    const click = world.newResponseUrl();
    // The answer through the response URL and its fallback both fail.
    world.slack.once(`response_url:${click.id}`, () => ({ status: 500, body: { ok: false } }));
    world.slack.failNext('chat.postEphemeral', 'channel_not_found');
    await world.click(value, 'confirm', { responseId: click.id });
    await world.playHandoffs();
    const runId = (JSON.parse(value) as { runId: string }).runId;
    expect(world.launchedTasks).toBe(1);
    expect(await get(runKey(runId))).toMatchObject({
      state: 'launched',
      taskArn: expect.any(String),
      permalink: expect.any(String),
    });
    const dm = world.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0ALICE');
    expect(String(dm?.args.text)).toContain('A Snow White runner *was launched*');
    expect(JSON.stringify(dm?.args.blocks)).toContain(CANCEL_RUN_ACTION_ID);
    expect(JSON.stringify(world.slack.calls)).not.toContain('nothing more was done');
  });
});
