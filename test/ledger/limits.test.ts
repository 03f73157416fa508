import { InvokeCommand } from '@aws-sdk/client-lambda';
import { REQUEST_ACTION_ID } from '../../runner/slack/buttons';
import { useLedgerWorld } from '../support/ledger-world';
import { httpApiEvent } from '../support/slack-signing';
import { lambdaMock, operator, SIGNING_SECRET, World } from '../bot/world';

/**
 * The per-person limit, kept in the ledger table (dynalite, the template's table) and drawn on by
 * every door of every container: the real Lambda handler, signed Slack and command-line requests.
 */
const ctx = useLedgerWorld();
let world: World;
let table: string;
beforeEach(() => ({ world, table } = ctx));

/** Ten seconds into a minute: a test's burst never straddles the window's edge. */
const minuteStart = (Math.floor(Date.now() / 60_000) + 1) * 60_000;
const at = (offsetMs: number) => () => minuteStart + 10_000 + offsetMs;
const container = (offsetMs = 0, env: Record<string, string> = {}) =>
  world.newContainer({ LEDGER_TABLE_NAME: table, ...env }, { nowMs: at(offsetMs) });

const SLOW_DOWN =
  /Too many Snow White requests from you in the last minute; nothing was done\. Try again in \d+ s/;
const slowDowns = () =>
  [
    ...world.slack.calls.filter((c) => c.method.startsWith('response_url:')),
    ...world.slack.callsOf('chat.postMessage'),
  ].filter((c) => SLOW_DOWN.test(String(c.args.text)));

const statusButton = JSON.stringify({
  v: 1,
  action: 'status',
  envPattern: '=myapp-workers-prod',
  application: 'MY-APP',
  region: 'us-east-1',
});

describe('one budget per person, across containers and doors', () => {
  test('12 Status clicks in a minute across three fresh module instances: at most 10 answered and one clear "slow down"', async () => {
    const containers = [container(), container(1000), container(2000)];
    for (let i = 0; i < 12; i++) {
      const handler = containers[i % 3]!;
      await world.click(statusButton, 'confirm', { actionId: `${REQUEST_ACTION_ID}:status`, handler });
      await world.playHandoffs(handler);
    }
    // Each status within the budget is answered by the bot: one status command (one environment).
    expect(world.ssm.sent.filter((c) => c.documentName === 'snowwhite-status')).toHaveLength(10);
    expect(world.launchedTasks).toBe(0);
    expect(slowDowns()).toHaveLength(1);
    expect(world.logs.filter((l) => l.includes('"reason":"rate limited"'))).toHaveLength(2);
  });

  test('App Home buttons and typed commands share the budget; another person has their own', async () => {
    const handler = container();
    for (let i = 0; i < 6; i++) await world.clickInHome(statusButton, REQUEST_ACTION_ID, { handler });
    const replies = [];
    for (let i = 0; i < 5; i++)
      replies.push((await world.slash('status workers MY-APP us-east-1', { handler })).reply);
    expect(replies.slice(0, 4).map((r) => String(r?.text))).toEqual(
      Array(4).fill(expect.stringContaining('Checking your permissions')),
    );
    expect(String(replies[4]?.text)).toMatch(SLOW_DOWN);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 10);
    // history is a door too.
    expect(String((await world.slash('history', { handler })).reply?.text)).toMatch(SLOW_DOWN);

    world.users.push(operator('bob', 'U0BOB'));
    const bob = await world.slash('quiet workers MY-APP us-east-1', { userId: 'U0BOB', handler });
    expect(String(bob.reply?.text)).toContain('Checking your permissions');
  });

  test('App Home clicks over the budget: one direct message says so, nothing more is handed off', async () => {
    const handler = container();
    for (let i = 0; i < 12; i++) await world.clickInHome(statusButton, REQUEST_ACTION_ID, { handler });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 10);
    const dms = slowDowns().filter((c) => c.args.channel === 'U0ALICE');
    expect(dms).toHaveLength(1);
  });

  test('the next minute has a fresh budget', async () => {
    const now = container();
    for (let i = 0; i < 10; i++) await world.slash('status workers MY-APP us-east-1', { handler: now });
    expect(
      String((await world.slash('status workers MY-APP us-east-1', { handler: now })).reply?.text),
    ).toMatch(SLOW_DOWN);
    const next = container(60_000);
    expect(
      String((await world.slash('status workers MY-APP us-east-1', { handler: next })).reply?.text),
    ).toContain('Checking your permissions');
  });

  test('the command line is keyed by principal (every session of a role is the role), in every container', async () => {
    const handlers = [
      container(0, { COMMANDS_PER_MINUTE: '2', CLI_ROLES: 'oncall' }),
      container(500, { COMMANDS_PER_MINUTE: '2', CLI_ROLES: 'oncall' }),
    ];
    world.roles.push({
      name: 'oncall',
      statements: [
        { effect: 'Allow', action: 'ecs:RunTask', resource: '*' },
        { effect: 'Allow', action: 'ssm:SendCommand', resource: '*' },
      ],
    });
    const post = async (session: string, handler: (typeof handlers)[number]) => {
      const res = (await handler(
        await world.cliEvent(
          JSON.stringify({
            action: 'status',
            envPattern: 'staging',
            application: 'MY-APP',
            region: 'us-east-1',
          }),
          `arn:aws:sts::123456789012:assumed-role/oncall/${session}`,
        ),
        {},
      )) as { statusCode: number; body: string; headers: Record<string, string> };
      return {
        status: res.statusCode,
        body: JSON.parse(res.body) as Record<string, unknown>,
        headers: res.headers,
      };
    };
    expect((await post('alice', handlers[0]!)).status).toBe(200);
    expect((await post('bob', handlers[1]!)).status).toBe(200);
    const limited = await post('carol', handlers[0]!);
    expect(limited.status).toBe(429);
    expect(String(limited.body.detail)).toMatch(
      /^too many Snow White requests from arn:aws:sts::123456789012:assumed-role\/oncall in the last minute; nothing was done\. Try again in \d+ s$/,
    );
    expect(limited.headers['retry-after']).toBe(String(limited.body.retryAfterSeconds));
    expect(world.launchedTasks).toBe(2);
  });

  test('opening App Home has its own budget: browsing never costs a command', async () => {
    const handler = container(0, { HOME_OPENS_PER_MINUTE: '3' });
    const open = () =>
      handler(
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
        }),
        {},
      );
    for (let i = 0; i < 5; i++) await open();
    await world.playHandoffs(handler);
    expect(world.slack.callsOf('views.publish')).toHaveLength(3);
    expect(String((await world.slash('status workers MY-APP us-east-1', { handler })).reply?.text)).toContain(
      'Checking your permissions',
    );
  });
});
