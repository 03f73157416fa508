import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { LambdaHandler } from '../../bot/lambda';
import { clientTokenFor } from '../../runner/launch';
import { encodeButtonValue, REQUEST_ACTION_ID } from '../../runner/slack/buttons';
import { buttonClickBody, httpApiEvent, slashCommandBody } from '../support/slack-signing';
import { awsError, throttlingError } from '../support/aws-errors';
import {
  BOT_TOKEN,
  ecsMock,
  lambdaMock,
  NOTIFY,
  operator,
  secretsMock,
  SIGNING_SECRET,
  ssmDocArn,
  TASK_DEF,
  World,
  type FakeIamUser,
} from './world';

let world: World;
beforeEach(async () => {
  world = await World.start();
});
afterEach(async () => {
  await world.stop();
});

/** `/snowwhite <text>` → ack → async part played → the prompt's response id. */
async function askFor(text: string, options: { userId?: string; channelId?: string } = {}) {
  const { result, reply, responseId } = await world.slash(text, options);
  expect(result.statusCode).toBe(200);
  await world.playHandoffs();
  return { reply, responseId };
}

describe('quiet, confirmed', () => {
  test('ack only hands off; the prompt previews targets; Confirm launches one runner and reports everywhere', async () => {
    const { result, reply, responseId } = await world.slash('quiet workers MY-APP us-east-1');
    expect(result.statusCode).toBe(200);
    expect(reply).toMatchObject({ response_type: 'ephemeral' });
    expect(String(reply?.text)).toContain('Checking your permissions');
    // The HTTP part did no AWS work besides the hand-off.
    expect(world.authorizationLogs()).toHaveLength(0);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'snowwhite-bot',
      InvocationType: 'Event',
    });
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);

    await world.playHandoffs();
    const prompt = world.lastResponse(responseId)!;
    expect(prompt.response_type).toBe('ephemeral');
    const text = JSON.stringify(prompt.blocks);
    expect(text).toContain('myapp-workers-prod');
    expect(text).toContain('3 instances');
    expect(text).toContain('myapp-workers-staging');
    expect(text).toContain('2 environments, 4 instances');
    expect(text).not.toContain('myapp-web-prod'); // does not match the pattern
    expect(text).not.toContain('myapp-workers-old'); // terminated
    expect(text).toContain('stops taking new jobs');
    const buttons = world.promptButtons(responseId);
    expect(buttons[0]).toMatchObject({ action_id: 'snowwhite_confirm', style: 'primary' });
    expect(buttons[0]).not.toHaveProperty('confirm');
    expect(buttons[1]).toMatchObject({ action_id: 'snowwhite_cancel' });
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);

    const value = world.confirmValue(responseId);
    const click = await world.click(value, 'confirm');
    expect(click.result.statusCode).toBe(200);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand); // the click only acknowledges
    await world.playHandoffs();

    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    const input = world.runTaskInputs[0]!;
    const { runId } = JSON.parse(value) as { runId: string };
    expect(input).toMatchObject({
      cluster: 'snowwhite',
      taskDefinition: TASK_DEF,
      launchType: 'FARGATE',
      clientToken: clientTokenFor(runId),
      startedBy: 'snowwhite/alice',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0a1', 'subnet-0b2'],
          securityGroups: ['sg-0c3'],
          assignPublicIp: 'DISABLED',
        },
      },
    });
    expect(input.tags).toEqual(
      expect.arrayContaining([
        { key: 'snowwhite:requested-by', value: 'alice' },
        { key: 'snowwhite:slack-user', value: 'U0ALICE' },
        { key: 'snowwhite:run-id', value: runId },
      ]),
    );
    const override = input.overrides!.containerOverrides![0]!;
    expect(override.name).toBe('runner');
    const root = world.slack.callsOf('chat.postMessage')[0]!;
    expect(root.args.channel).toBe('C0OPS');
    expect(String(root.args.text)).toContain('<@U0ALICE>');
    expect(String(root.args.text)).toContain('quiet');
    expect(String(root.args.text)).toContain('4 instances');
    const request = world.runRequestOf(0);
    expect(request).toEqual({
      runId,
      action: 'quiet',
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1',
      requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
      slack: { channel: 'C0OPS', threadTs: (root.reply as { ts: string }).ts },
      drainTimeoutSeconds: 3600,
      executionTimeoutSeconds: 7200,
      // The bot sent the quiet document to exactly the previewed instances, one command per environment.
      commands: [
        { commandId: expect.any(String), environment: 'myapp-workers-prod', instances: 3 },
        { commandId: expect.any(String), environment: 'myapp-workers-staging', instances: 1 },
      ],
    });
    expect(world.ssm.sent.map((c) => [c.documentName, c.instanceIds])).toEqual(
      expect.arrayContaining([
        [
          'snowwhite-quiet',
          ['i-e-myapp-workers-prod-0', 'i-e-myapp-workers-prod-1', 'i-e-myapp-workers-prod-2'],
        ],
        ['snowwhite-quiet', ['i-e-myapp-workers-staging-0']],
      ]),
    );
    expect(world.ssm.sent).toHaveLength(2);
    expect(request.commands!.map((c) => c.commandId).sort()).toEqual(
      world.ssm.sent.map((c) => c.commandId).sort(),
    );
    expect(world.ssm.sent.every((c) => c.comment.startsWith(`snowwhite quiet run ${runId} batch `))).toBe(
      true,
    );

    const posts = world.slack.callsOf('chat.postMessage');
    expect(posts).toHaveLength(3);
    const threadTs = request.slack!.threadTs;
    expect(posts[1]!.args).toMatchObject({ channel: 'C0OPS', thread_ts: threadTs });
    expect(String(posts[1]!.args.text)).toContain('arn:aws:ecs:us-east-1:123456789012:task/snowwhite/');
    expect(posts[2]!.args.channel).toBe(NOTIFY);
    expect(String(posts[2]!.args.text)).toContain('https://example.slack.com/archives/C0OPS/p');
    expect(posts.every((p) => p.token === BOT_TOKEN)).toBe(true);

    const replaced = world.lastResponse(click.responseId)!;
    expect(replaced.replace_original).toBe(true);
    expect(String(replaced.text)).toContain('launched');
    expect(String(replaced.text)).toContain('https://example.slack.com/archives/C0OPS/p');

    const decisions = world.authorizationLogs();
    expect(decisions).toHaveLength(2); // the command, then the click
    expect(decisions[1]).toEqual({
      level: 'info',
      time: expect.any(String),
      event: 'authorization',
      slackUserId: 'U0ALICE',
      iamUser: 'alice',
      principalArn: 'arn:aws:iam::123456789012:user/alice',
      action: 'quiet',
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1',
      environments: ['myapp-workers-prod', 'myapp-workers-staging'],
      allowed: true,
      reason: 'allowed',
    });
  });

  test('works the same through a REST API (v1) event with a base64 body', async () => {
    const { result, responseId } = await world.slash('quiet workers MY-APP us-east-1', {
      format: 'v1',
      base64: true,
    });
    expect(result.statusCode).toBe(200);
    await world.playHandoffs();
    expect(world.confirmValue(responseId)).toContain('"action":"quiet"');
  });
});

describe('double click and retries launch exactly one runner', () => {
  test('Confirm clicked twice: one task, one thread root, the second click says so', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    await world.click(value, 'confirm');
    const second = await world.click(value, 'confirm');
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
    expect(world.threadRoots('C0OPS')).toHaveLength(1);
    expect(String(world.lastResponse(second.responseId)?.text)).toContain('already launched');
  });

  test('double click handled by two containers at once: ECS client token arbitrates, the loser removes its root', async () => {
    const { responseId } = await askFor('stop workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    await world.click(value, 'confirm');
    const second = await world.click(value, 'confirm');
    const [first, again] = world.pendingHandoffs();
    await world.playHandoffs(async () => undefined); // mark as played; run them by hand below
    const other = world.newContainer();
    await Promise.all([world.handler(first, {}), other(again, {})]);
    expect(world.launchedTasks).toBe(1);
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 2);
    const tokens = new Set(world.runTaskInputs.map((i) => i.clientToken));
    expect(tokens.size).toBe(1);
    const roots = world.threadRoots('C0OPS');
    expect(roots).toHaveLength(2);
    expect(world.slack.callsOf('chat.delete')).toHaveLength(1);
    const notified = world.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === NOTIFY);
    expect(notified).toHaveLength(1);
    const texts = [
      world.lastResponse(second.responseId)?.text,
      ...world.responses(responseId).map((c) => c.args.text),
    ];
    expect(texts.some((t) => String(t).includes('already launched'))).toBe(true);
  });

  test('a retried async invocation (same event delivered again) reuses the thread root and the task', async () => {
    const { responseId } = await askFor('wake workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    const [event] = world.pendingHandoffs();
    await world.playHandoffs();
    await world.handler(event, {}); // Lambda redelivers the same event
    expect(world.launchedTasks).toBe(1);
    expect(world.threadRoots('C0OPS')).toHaveLength(1);
  });

  test('RunTask answer lost after ECS started the task: Confirm again gets the same task and the same thread', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    world.ecsLoseAnswers = 1;
    const first = await world.click(value, 'confirm', { responseId });
    await world.playHandoffs();
    expect(String(world.lastResponse(first.responseId)?.text)).toContain('Could not launch');
    expect(world.lastResponse(first.responseId)?.replace_original).toBe(false); // the buttons stay for a retry
    const retry = await world.click(value, 'confirm', { responseId });
    await world.playHandoffs();
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 2);
    expect(world.launchedTasks).toBe(1);
    const roots = world.threadRoots('C0OPS');
    expect(roots).toHaveLength(1);
    const started = world.slack
      .callsOf('chat.postMessage')
      .filter((c) => String(c.args.text).startsWith('Runner task started'));
    expect(started).toHaveLength(1);
    const rootTs = (roots[0]!.reply as { ts: string }).ts;
    expect(started[0]!.args.thread_ts).toBe(rootTs);
    world.runTaskInputs.forEach((_, i) => expect(world.runRequestOf(i).slack?.threadTs).toBe(rootTs));
    expect(String(world.lastResponse(retry.responseId)?.text)).toContain('launched');
  });
});

describe('stop, cancel, status', () => {
  test('stop asks with a danger button and Slack confirm dialog', async () => {
    const { responseId } = await askFor('stop workers MY-APP us-east-1');
    const prompt = world.lastResponse(responseId)!;
    expect(world.promptButtons(responseId)[0]).toMatchObject({
      style: 'danger',
      confirm: {
        title: { type: 'plain_text' },
        confirm: { type: 'plain_text' },
        deny: { type: 'plain_text' },
      },
    });
    expect(JSON.stringify(prompt.blocks)).toContain('shut down');
  });

  test('Cancel replaces the prompt and launches nothing', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const click = await world.click(world.confirmValue(responseId), 'cancel', { responseId });
    await world.playHandoffs();
    const last = world.lastResponse(click.responseId)!;
    expect(last.replace_original).toBe(true);
    expect(String(last.text)).toContain('Cancelled');
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  test('status is answered without a confirmation prompt, and without a runner', async () => {
    const { responseId } = await askFor('status workers MY-APP us-east-1');
    expect(world.launchedTasks).toBe(0);
    expect(
      world
        .responses(responseId)
        .some(
          (c) => Array.isArray(c.args.blocks) && JSON.stringify(c.args.blocks).includes('snowwhite_confirm'),
        ),
    ).toBe(false);
    expect(String(world.lastResponse(responseId)?.text)).toContain('4 reported');
    expect(world.ssm.sent.map((c) => c.documentName)).toEqual(['snowwhite-status', 'snowwhite-status']);
  });

  test('no matching environment: said so, no buttons, nothing launched', async () => {
    const { responseId } = await askFor('quiet nomatch MY-APP us-east-1');
    expect(String(world.lastResponse(responseId)?.text)).toContain('Nothing to quiet');
    expect(world.lastResponse(responseId)?.blocks).toBeUndefined();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });
});

describe('where the bot cannot post', () => {
  test.each(['not_in_channel', 'channel_not_found'])(
    '%s: the thread goes to the notification channel and the user is told',
    async (error) => {
      const { responseId } = await askFor('quiet workers MY-APP us-east-1', { channelId: 'G0PRIVATE' });
      world.slack.failNext('chat.postMessage', error);
      const click = await world.click(world.confirmValue(responseId), 'confirm', { channelId: 'G0PRIVATE' });
      await world.playHandoffs();
      expect(world.launchedTasks).toBe(1);
      const posts = world.slack.callsOf('chat.postMessage');
      expect(posts[0]!.args.channel).toBe('G0PRIVATE');
      expect(posts[1]!.args.channel).toBe(NOTIFY);
      expect(posts[1]!.args.thread_ts).toBeUndefined();
      expect(world.runRequestOf(0).slack?.channel).toBe(NOTIFY);
      expect(posts.filter((p) => p.args.channel === NOTIFY && !p.args.thread_ts)).toHaveLength(1); // no second notification
      const told = String(world.lastResponse(click.responseId)?.text);
      expect(told).toContain(`<#${NOTIFY}>`);
      expect(told).toContain(error);
    },
  );

  test('any other Slack error does not launch', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    world.slack.failNext('chat.postMessage', 'internal_error');
    const click = await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(0);
    expect(String(world.lastResponse(click.responseId)?.text)).toContain('went wrong');
  });
});

describe('buttons under a summary (Wake, Retry, Status)', () => {
  test('Wake from App Home (no response URL): the prompt comes as a direct message; its Confirm launches, announced in the notification channel', async () => {
    const wake = encodeButtonValue({
      v: 1,
      action: 'wake',
      envPattern: 'workers-prod',
      application: 'MY-APP',
      region: 'us-east-1',
    });
    expect((await world.clickInHome(wake, REQUEST_ACTION_ID)).statusCode).toBe(200);
    await world.playHandoffs();
    const dm = world.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'U0ALICE');
    expect(dm).toHaveLength(1);
    const raw = dm[0]!.args.blocks;
    const blocks = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>;
    const confirm = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'snowwhite_confirm');
    expect(confirm?.value).toEqual(expect.any(String));
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);

    await world.click(String(confirm!.value), 'confirm', { channelId: 'D0ALICE' });
    await world.playHandoffs();
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(world.runRequestOf(0)).toMatchObject({ action: 'wake', slack: { channel: NOTIFY } });
  });

  test('an invalid request button in App Home is dropped without an answer it could not deliver', async () => {
    expect((await world.clickInHome('{"v":1,"action":"rm -rf"}', REQUEST_ACTION_ID)).statusCode).toBe(200);
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    expect(world.logs.some((l) => l.includes('bolt_error'))).toBe(false);
  });

  const retryValue = encodeButtonValue({
    v: 1,
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
  });

  test('Retry acts like the clicker typing the command: authorized, prompted with the instances, launched on those only', async () => {
    world.environments = [
      {
        name: 'myapp-workers-prod',
        instances: 3,
        instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210', 'i-0aaaaaaaaaaaaaaa0'],
      },
    ];
    const click = await world.click(retryValue, 'confirm', { actionId: `${REQUEST_ACTION_ID}:retry` });
    expect(click.result.statusCode).toBe(200);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    await world.playHandoffs();
    expect(world.authorizationLogs()[0]).toMatchObject({
      allowed: true,
      slackUserId: 'U0ALICE',
      action: 'quiet',
    });
    const prompt = world.lastResponse(click.responseId)!;
    expect(prompt).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(prompt.blocks)).toContain(
      'Retry on only these 2 instances:* `i-0123456789abcdef0`, `i-0fedcba9876543210`',
    );
    await world.click(world.confirmValue(click.responseId), 'confirm');
    await world.playHandoffs();
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(world.runRequestOf(0).instanceIds).toEqual(['i-0123456789abcdef0', 'i-0fedcba9876543210']);
    // The command went to those two alone, not to the third instance of the environment.
    expect(world.ssm.instancesSentTo().sort()).toEqual(['i-0123456789abcdef0', 'i-0fedcba9876543210']);
  });

  test('a clicker IAM does not allow is refused like a typed command; nothing is prompted or launched', async () => {
    const click = await world.click(retryValue, 'confirm', {
      actionId: `${REQUEST_ACTION_ID}:retry`,
      userId: 'U0NOBODY',
    });
    await world.playHandoffs();
    expect(world.authorizationLogs()[0]).toMatchObject({ allowed: false, slackUserId: 'U0NOBODY' });
    expect(world.lastResponse(click.responseId)?.blocks).toBeUndefined();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('a forged value (not a request) is refused at once, nothing handed off', async () => {
    const click = await world.click('{"v":1,"action":"quiet","envPattern":"<!channel>"}', 'confirm', {
      actionId: REQUEST_ACTION_ID,
    });
    expect(click.result.statusCode).toBe(200);
    expect(world.pendingHandoffs()).toHaveLength(0);
    expect(String(world.lastResponse(click.responseId)?.text)).toContain('not valid');
  });
});

describe('--timeout from Slack', () => {
  test('the prompt states the drain timeout, and the runner gets it with a longer execution timeout', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1 --timeout 4h');
    expect(JSON.stringify(world.lastResponse(responseId)!.blocks)).toContain('Drain timeout: *4h 0m*');
    await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.runRequestOf(0)).toMatchObject({
      drainTimeoutSeconds: 14_400,
      executionTimeoutSeconds: 15_000,
    });
  });

  test('without it, the prompt states the default', async () => {
    const { responseId } = await askFor('stop workers MY-APP us-east-1');
    expect(JSON.stringify(world.lastResponse(responseId)!.blocks)).toContain('Drain timeout: *1h 0m*');
  });
});

describe('refusals', () => {
  const refused = async (text: string, expectReason: string, expectWords: string[], userId = 'U0ALICE') => {
    const { responseId } = await askFor(text, { userId });
    const reply = String(world.lastResponse(responseId)?.text);
    for (const w of expectWords) expect(reply).toContain(w);
    expect(world.lastResponse(responseId)?.blocks).toBeUndefined();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    const [decision] = world.authorizationLogs();
    expect(decision).toMatchObject({ allowed: false, slackUserId: userId, action: text.split(' ')[0] });
    expect(String(decision!.reason)).toMatch(new RegExp(`^${expectReason}`));
    return decision!;
  };

  test('no IAM user carries the tag', async () => {
    const d = await refused(
      'quiet workers MY-APP us-east-1',
      'no_iam_user',
      ['slack_userid=U0NOBODY'],
      'U0NOBODY',
    );
    expect(d.iamUser).toBeNull();
  });

  test('two IAM users carry the tag: refused, naming both', async () => {
    world.users.push(operator('alice-admin', 'U0ALICE'));
    await refused('quiet workers MY-APP us-east-1', 'several_iam_users', [
      'alice',
      'alice-admin',
      '2 IAM users',
    ]);
  });

  test('ecs:RunTask not allowed', async () => {
    world.users = [{ name: 'alice', tags: { slack_userid: 'U0ALICE' }, allow: ['ssm:SendCommand *'] }];
    const d = await refused('quiet workers MY-APP us-east-1', 'not_allowed', ['ecs:RunTask', TASK_DEF]);
    expect(d.iamUser).toBe('alice');
  });

  test("ssm:SendCommand explicitly denied on this action's document only", async () => {
    world.users = [
      {
        name: 'alice',
        tags: { slack_userid: 'U0ALICE' },
        allow: ['ecs:RunTask *', 'ssm:SendCommand *'],
        deny: [`ssm:SendCommand ${ssmDocArn('snowwhite-stop')}`],
      },
    ];
    await refused('stop workers MY-APP us-east-1', 'not_allowed', [
      'ssm:SendCommand',
      'snowwhite-stop',
      'explicitly denied',
    ]);
    world.logs.length = 0;
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    expect(world.confirmValue(responseId)).toContain('quiet');
  });

  test('IAM failing: refused as an IAM error, nothing launched', async () => {
    world.iamThrottles = 1000;
    await refused('quiet workers MY-APP us-east-1', 'iam_error', ['Could not check']);
  });

  test('the person who clicks is authorized again: tag removed after the prompt → refused, prompt replaced', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    world.users = [{ name: 'alice', tags: {} }];
    const other = world.newContainer(); // a container without the cached tag index
    const click = await world.click(value, 'confirm', { handler: other });
    await world.playHandoffs(other);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.lastResponse(click.responseId)).toMatchObject({ replace_original: true });
    expect(String(world.lastResponse(click.responseId)?.text)).toContain('no IAM user');
    expect(world.authorizationLogs().at(-1)).toMatchObject({ allowed: false, slackUserId: 'U0ALICE' });
  });

  test('a click by someone else is authorized as that person', async () => {
    world.users.push({ name: 'bob', tags: { slack_userid: 'U0BOB' }, allow: [] });
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm', { userId: 'U0BOB' });
    await world.playHandoffs();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.authorizationLogs().at(-1)).toMatchObject({
      slackUserId: 'U0BOB',
      iamUser: 'bob',
      allowed: false,
    });
  });

  test('a forged internal event (wrong signature) does nothing', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    const [event] = world.pendingHandoffs() as { work: { slackUserId: string } }[];
    const forged = { ...event!, work: { ...event!.work, slackUserId: 'U0MALLORY' } };
    const result = await world.handler(forged, {});
    expect(result).toMatchObject({ ok: false });
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('a genuine internal event replayed 16 minutes later does nothing', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    const [event] = world.pendingHandoffs();
    const later = world.newContainer({}, { nowSeconds: () => Date.now() / 1000 + 16 * 60 });
    expect(await later(event, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/stale/) });
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    // The same event in time still works: the refusal was the age, not the event.
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
  });
});

describe('authorization scoped to what the run touches', () => {
  const ENV_NAME = 'ssm:resourceTag/elasticbeanstalk:environment-name';
  /** May launch and use every document, but send commands only to instances of `*-green` environments. */
  const greenOnly = (): FakeIamUser => ({
    name: 'gina',
    tags: { slack_userid: 'U0GINA' },
    statements: [
      { effect: 'Allow', action: 'ecs:RunTask', resource: '*' },
      { effect: 'Allow', action: 'ssm:SendCommand', resource: 'arn:aws:ssm:*:*:document/*' },
      {
        effect: 'Allow',
        action: 'ssm:SendCommand',
        resource: 'arn:aws:ec2:*:*:instance/*',
        condition: { StringLike: { [ENV_NAME]: '*-green' } },
      },
    ],
  });
  beforeEach(() => {
    world.environments = [
      { name: 'myapp-workers-blue', instances: 2 },
      { name: 'myapp-workers-green', instances: 3 },
    ];
  });

  test('a user allowed only on *-green is refused when blue matches too (naming blue), prompted for green alone', async () => {
    world.users.push(greenOnly());
    const { responseId } = await askFor('quiet workers MY-APP us-east-1', { userId: 'U0GINA' });
    const refusal = String(world.lastResponse(responseId)?.text);
    expect(refusal).toContain('`myapp-workers-blue`');
    expect(refusal).toMatch(/may not run `quiet` on `myapp-workers-blue`:/);
    expect(refusal).not.toMatch(/on `myapp-workers-green`/);
    expect(world.lastResponse(responseId)?.blocks).toBeUndefined();
    expect(world.authorizationLogs().at(-1)).toMatchObject({ allowed: false, iamUser: 'gina' });

    // What was asked: every instance of each environment, with that environment's tags and the region.
    const perEnv = world.simulations.filter((s) => !s.Marker && s.ResourceArns?.[0]?.includes(':instance/'));
    expect(perEnv).toHaveLength(2);
    const blue = perEnv.find((s) =>
      s.ContextEntries?.some((c) => c.ContextKeyValues?.[0] === 'myapp-workers-blue'),
    )!;
    expect(blue.ResourceArns).toEqual([
      'arn:aws:ec2:us-east-1:123456789012:instance/i-e-myapp-workers-blue-0',
      'arn:aws:ec2:us-east-1:123456789012:instance/i-e-myapp-workers-blue-1',
    ]);
    expect(blue.ContextEntries).toEqual(
      expect.arrayContaining([
        { ContextKeyName: ENV_NAME, ContextKeyValues: ['myapp-workers-blue'], ContextKeyType: 'string' },
        {
          ContextKeyName: 'ssm:resourceTag/elasticbeanstalk:environment-id',
          ContextKeyValues: ['e-myapp-workers-blue'],
          ContextKeyType: 'string',
        },
      ]),
    );
    for (const s of world.simulations)
      expect(s.ContextEntries).toContainEqual({
        ContextKeyName: 'aws:RequestedRegion',
        ContextKeyValues: ['us-east-1'],
        ContextKeyType: 'string',
      });

    const green = await askFor('quiet green MY-APP us-east-1', { userId: 'U0GINA' });
    expect(world.confirmValue(green.responseId)).toContain('"envPattern":"green"');
    await world.click(world.confirmValue(green.responseId), 'confirm', { userId: 'U0GINA' });
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
    expect(world.runRequestOf(0)).toMatchObject({
      envPattern: 'green',
      requestedBy: { iamUserName: 'gina' },
    });
  });

  test('Confirm is checked on the targets as they are then: a blue environment that appeared since the prompt refuses it', async () => {
    world.users.push(greenOnly());
    world.environments = [{ name: 'myapp-workers-green', instances: 1 }];
    const { responseId } = await askFor('quiet workers MY-APP us-east-1', { userId: 'U0GINA' });
    const value = world.confirmValue(responseId);
    world.environments.push({ name: 'myapp-workers-blue', instances: 1 });
    const click = await world.click(value, 'confirm', { userId: 'U0GINA' });
    await world.playHandoffs();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.lastResponse(click.responseId)).toMatchObject({ replace_original: true });
    expect(String(world.lastResponse(click.responseId)?.text)).toContain('`myapp-workers-blue`');
  });

  test('a BoolIfExists aws:MultiFactorAuthPresent=false deny refuses, saying why', async () => {
    world.users = [
      {
        ...operator('alice', 'U0ALICE'),
        statements: [
          {
            effect: 'Deny',
            action: '*',
            resource: '*',
            condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
          },
        ],
      },
    ];
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const text = String(world.lastResponse(responseId)?.text);
    expect(text).toContain('explicitly denied');
    expect(text).toContain('aws:MultiFactorAuthPresent');
    expect(text).toContain('cannot supply');
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.authorizationLogs().at(-1)?.reason).toMatch(/^missing_context: /);
  });

  test('a policy on a tag the bot does not supply fails closed, naming the key', async () => {
    world.users = [
      {
        name: 'alice',
        tags: { slack_userid: 'U0ALICE' },
        statements: [
          { effect: 'Allow', action: 'ecs:RunTask', resource: '*' },
          {
            effect: 'Allow',
            action: 'ssm:SendCommand',
            resource: '*',
            condition: { StringEquals: { 'ssm:resourceTag/team': 'ops' } },
          },
        ],
      },
    ];
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    expect(String(world.lastResponse(responseId)?.text)).toContain('ssm:resourceTag/team');
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('a StringNotEquals aws:RequestedRegion guardrail does not fire in an allowed region, and does in another', async () => {
    world.users = [
      {
        ...operator('alice', 'U0ALICE'),
        statements: [
          {
            effect: 'Deny',
            action: '*',
            resource: '*',
            condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } },
          },
        ],
      },
    ];
    const ok = await askFor('quiet workers MY-APP us-east-1');
    expect(world.confirmValue(ok.responseId)).toContain('quiet');
    const other = await askFor('quiet workers MY-APP ap-south-1');
    expect(String(world.lastResponse(other.responseId)?.text)).toContain('explicitly denied');
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('an environment name that is mrkdwn is escaped in the refusal', async () => {
    world.users.push(greenOnly());
    world.environments = [{ name: 'workers-<!channel>&', instances: 1 }];
    const { responseId } = await askFor('quiet workers MY-APP us-east-1', { userId: 'U0GINA' });
    const text = String(world.lastResponse(responseId)?.text);
    expect(text).toContain('workers-&lt;!channel&gt;&amp;');
    expect(text).not.toContain('<!channel>');
  });
});

describe('prompt buttons are signed and expire', () => {
  test('a Confirm pressed 16 minutes after the prompt: "run the command again", nothing handed off or launched', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    const invokes = lambdaMock.commandCalls(InvokeCommand).length;
    const later = Math.floor(Date.now() / 1000) + 16 * 60;
    const click = await world.click(value, 'confirm', {
      handler: world.newContainer({}, { nowSeconds: () => later }),
      timestamp: later,
    });
    expect(click.result.statusCode).toBe(200);
    const told = world.lastResponse(click.responseId)!;
    expect(told.replace_original).toBe(true);
    expect(String(told.text)).toContain('Run the command again');
    expect(String(told.text)).toContain('15 minutes');
    expect(lambdaMock.commandCalls(InvokeCommand).length).toBe(invokes);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.logs.join('\n')).toContain('expired button value');
  });

  test.each([
    ['another pattern', (v: string) => v.replace('"envPattern":"workers"', '"envPattern":"-"')],
    ['another application', (v: string) => v.replace('"MY-APP"', '"OTHER-APP"')],
    ['a later issue time', (v: string) => JSON.stringify({ ...JSON.parse(v), iat: JSON.parse(v).iat + 600 })],
    ['no signature', (v: string) => JSON.stringify({ ...JSON.parse(v), mac: undefined })],
  ])('a Confirm value altered to %s is refused, nothing launched', async (_what, alter) => {
    const { responseId } = await askFor('stop workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    const forged = alter(value);
    expect(forged).not.toBe(value);
    const click = await world.click(forged, 'confirm');
    await world.playHandoffs();
    expect(String(world.lastResponse(click.responseId)?.text)).toContain('not valid');
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });
});

describe('errors', () => {
  test('an ECS error: the thread gets a short line with an error id; the person and the log get the details', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    ecsMock
      .on(RunTaskCommand)
      .rejectsOnce(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::123456789012:assumed-role/snowwhite-bot/x is not authorized to perform: ecs:RunTask <@U0BOSS>',
        ),
      );
    const click = await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    const inThread = world.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);
    expect(inThread).toHaveLength(1);
    const publicText = String(inThread[0]!.args.text);
    expect(publicText).not.toContain('123456789012');
    expect(publicText).not.toContain('AccessDenied');
    const errorId = /Error id `(E[0-9a-f]{8})`/.exec(publicText)?.[1];
    expect(errorId).toBeDefined();
    const told = String(world.lastResponse(click.responseId)?.text);
    expect(told).toContain('AccessDeniedException');
    expect(told).toContain(errorId);
    expect(told).toContain('&lt;@U0BOSS&gt;');
    const logged = world.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'launch_failed');
    expect(logged).toMatchObject({ errorId, error: expect.stringContaining('123456789012') });
  });
});

describe('escaping', () => {
  test('a hostile application and environment names reach no Slack message as live mrkdwn', async () => {
    const app = '<!channel>&<mailto:x@evil.example|re-auth>';
    world.environments = [{ name: 'workers-<!here>', instances: 1, status: '<@U0BOSS>', application: app }];
    const { responseId } = await askFor(`quiet workers ${app} us-east-1`);
    const prompt = world.lastResponse(responseId)!;
    await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
    // Button values are data Slack hands back, never rendered: only the visible texts count.
    const sections = (prompt.blocks as { type: string; text?: { text: string } }[])
      .filter((b) => b.type === 'section')
      .map((b) => b.text?.text);
    const everything = [
      ...sections,
      String(prompt.text),
      ...world.slack.callsOf('chat.postMessage').map((c) => String(c.args.text)),
      ...world.slack.calls.filter((c) => c.method.startsWith('response_url')).map((c) => String(c.args.text)),
    ].join('\n');
    expect(everything).toContain('&lt;!channel&gt;&amp;&lt;mailto:x@evil.example|re-auth&gt;');
    expect(everything).toContain('workers-&lt;!here&gt;');
    expect(everything).not.toMatch(/<!channel>|<!here>|<mailto:|<@U0BOSS>/);
  });
});

describe('workspace', () => {
  const send = async (body: string) =>
    (await world.handler(httpApiEvent({ signingSecret: SIGNING_SECRET, body }), {})) as {
      statusCode: number;
      body: string;
    };
  const command = (fields: { teamId?: string; appId?: string; enterpriseInstall?: boolean }) =>
    slashCommandBody({
      text: 'quiet workers MY-APP us-east-1',
      responseUrl: world.newResponseUrl().url,
      ...fields,
    });

  test.each([
    ['another workspace', { teamId: 'T0OTHER' }, 'workspace T0OTHER is not T0TEAM'],
    ['another app', { appId: 'A0OTHER' }, 'app A0OTHER is not A0APP'],
    ['an org-wide installation', { enterpriseInstall: true }, 'enterprise'],
  ])('a command from %s is refused, logged, nothing handed off', async (_what, fields, logged) => {
    world.handler = world.newContainer({ SLACK_TEAM_ID: 'T0TEAM', SLACK_APP_ID: 'A0APP' });
    const result = await send(command(fields));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('only the workspace it is installed in'),
    });
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    expect(world.logs.join('\n')).toContain(logged);
    const ours = await send(command({}));
    expect(JSON.parse(ours.body).text).toContain('Checking your permissions');
  });

  test('a click by a user of another workspace (Slack Connect) is refused; nothing launched', async () => {
    world.handler = world.newContainer({ SLACK_TEAM_ID: 'T0TEAM' });
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const invokes = lambdaMock.commandCalls(InvokeCommand).length;
    const result = await send(
      buttonClickBody({
        actionId: 'snowwhite_confirm',
        value: world.confirmValue(responseId),
        responseUrl: world.newResponseUrl().url,
        userTeamId: 'T0GUEST',
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(lambdaMock.commandCalls(InvokeCommand).length).toBe(invokes);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.logs.join('\n')).toContain('the user belongs to workspace T0GUEST');
  });

  test('the ids in the Slack secret lock the workspace and app with no redeploy', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        teamId: 'T0TEAM',
        appId: 'A0APP',
      }),
    });
    world.handler = world.newContainer({
      SLACK_SIGNING_SECRET: undefined,
      SLACK_BOT_TOKEN: undefined,
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
    });
    const other = await send(command({ appId: 'A0OTHER' }));
    expect(JSON.parse(other.body).text).toContain('only the workspace it is installed in');
    expect(world.logs.join('\n')).toContain('app A0OTHER is not A0APP');
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    const ours = await send(command({}));
    expect(JSON.parse(ours.body).text).toContain('Checking your permissions');
  });

  test('unset, nothing is checked; a malformed id is a settings error', async () => {
    const { result } = await world.slash('quiet workers MY-APP us-east-1');
    expect(result.statusCode).toBe(200);
    const bad = world.newContainer({ SLACK_TEAM_ID: 'team-one' });
    const r = (await world.slash('help', { handler: bad })).result;
    expect(r.statusCode).toBe(500);
    expect(world.logs.join('\n')).toContain('SLACK_TEAM_ID');
  });
});

// The per-person limit lives in the ledger table: test/ledger/limits.test.ts drives it on dynalite.

describe('credentials rotation', () => {
  const SECRET_ENV = {
    SLACK_SIGNING_SECRET: undefined,
    SLACK_BOT_TOKEN: undefined,
    SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
  };
  const ROTATED = 'rotated-signing-secret-abcdef0123';
  const rotate = () =>
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ signingSecret: ROTATED, botToken: BOT_TOKEN }) });
  /** The HTTP status a signed `/snowwhite help` gets, signed with `secret` at `now`. */
  const signedHelp = async (handler: LambdaHandler, secret: string, now: number) =>
    (
      (await handler(
        httpApiEvent({
          signingSecret: secret,
          timestamp: now,
          body: slashCommandBody({ text: 'help', responseUrl: world.newResponseUrl().url }),
        }),
        {},
      )) as { statusCode: number }
    ).statusCode;

  test('a signature made with a just-rotated secret: read once more, then served; a bad one stays 401 without more reads', async () => {
    let now = Math.floor(Date.now() / 1000);
    const handler = world.newContainer(SECRET_ENV, { nowSeconds: () => now });
    const send = (secret: string) => signedHelp(handler, secret, now);
    expect(await send(SIGNING_SECRET)).toBe(200);
    rotate();
    expect(await send(ROTATED)).toBe(200);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(await send('forged-signing-secret-000000000')).toBe(401);
    expect(await send('forged-signing-secret-000000000')).toBe(401);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2); // at most one re-read per 30 s
    now += 31;
    expect(await send('forged-signing-secret-000000000')).toBe(401);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
    expect(world.logs.join('\n')).not.toContain(ROTATED);
  });

  test('credentials are kept 5 minutes, then read again', async () => {
    let now = Math.floor(Date.now() / 1000);
    const handler = world.newContainer(SECRET_ENV, { nowSeconds: () => now });
    const send = (secret: string) => signedHelp(handler, secret, now);
    expect(await send(SIGNING_SECRET)).toBe(200);
    now += 299;
    expect(await send(SIGNING_SECRET)).toBe(200);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    rotate();
    now += 2;
    expect(await send(ROTATED)).toBe(200);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });
});

describe('regions', () => {
  test('a region outside FLEET_REGIONS is refused at once, nothing handed off or launched', async () => {
    world.handler = world.newContainer({ FLEET_REGIONS: 'us-east-1, eu-west-1' });
    const { result, reply } = await world.slash('quiet workers MY-APP ap-south-1');
    expect(result.statusCode).toBe(200);
    expect(reply).toMatchObject({ response_type: 'ephemeral' });
    expect(String(reply?.text)).toBe(
      ':x: Snow White is not set up for ap-south-1: its SSM documents exist in us-east-1, eu-west-1. Nothing was launched.',
    );
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    const served = await world.slash('quiet workers MY-APP eu-west-1');
    expect(String(served.reply?.text)).toContain('Checking your permissions');
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });
});

describe('hand-off failures', () => {
  test('Confirm whose hand-off fails: the user is told, the prompt stays, pressing again launches once', async () => {
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    const invokes = lambdaMock.commandCalls(InvokeCommand).length;
    lambdaMock.on(InvokeCommand).rejectsOnce(throttlingError('TooManyRequestsException'));
    const failed = await world.click(value, 'confirm', { responseId });
    expect(failed.result.statusCode).toBe(200);
    const told = world.lastResponse(responseId);
    expect(told).toMatchObject({ replace_original: false });
    expect(String(told?.text)).toContain('Could not start the run');
    expect(lambdaMock.commandCalls(InvokeCommand).length).toBe(invokes + 1);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    await world.click(value, 'confirm', { responseId });
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
  });

  test('Retry and Cancel-run whose hand-off fails: the clicker alone is told, the failure is logged', async () => {
    const retry = encodeButtonValue({
      v: 1,
      action: 'quiet',
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1',
    });
    const cancel = encodeButtonValue({
      v: 1,
      runId: 'run-1',
      action: 'quiet',
      envPattern: 'workers',
      application: 'MY-APP',
      region: 'us-east-1',
      taskArn: `arn:aws:ecs:us-east-1:123456789012:task/snowwhite/${'a'.repeat(32)}`,
    });
    for (const [value, actionId, text] of [
      [
        retry,
        `${REQUEST_ACTION_ID}:retry`,
        ':x: Could not start the check; nothing was launched. Press the button again.',
      ],
      [cancel, 'snowwhite_cancel_run', ':x: Could not cancel; nothing was stopped. Press Cancel again.'],
    ] as const) {
      lambdaMock.on(InvokeCommand).rejectsOnce(throttlingError('TooManyRequestsException'));
      const { result, responseId } = await world.click(value, 'confirm', { actionId });
      expect(result.statusCode).toBe(200);
      expect(world.lastResponse(responseId)).toMatchObject({
        text,
        replace_original: false,
        response_type: 'ephemeral',
      });
    }
    expect(world.logs.filter((l) => l.includes('handoff_failed'))).toHaveLength(2);
    expect(world.launchedTasks).toBe(0);
  });
});

describe('credentials and logs', () => {
  test('Secrets Manager is read once per container; secrets never appear in logs or replies', async () => {
    world.handler = world.newContainer({
      SLACK_SIGNING_SECRET: undefined,
      SLACK_BOT_TOKEN: undefined,
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
    });
    world.slack.failNext('chat.postMessage', 'not_in_channel');
    const { responseId } = await askFor('quiet workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    await world.slash('bogus');
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(1);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(world.slack.callsOf('chat.postMessage').every((c) => c.token === BOT_TOKEN)).toBe(true);
    expect(world.logs.length).toBeGreaterThan(5);
    const everything = [...world.logs, ...world.slack.calls.map((c) => JSON.stringify(c.args))].join('\n');
    expect(everything).not.toContain(SIGNING_SECRET);
    expect(everything).not.toContain(BOT_TOKEN);
  });

  test('an unreadable secret: 500, logged without the value, nothing handed off', async () => {
    world.handler = world.newContainer({
      SLACK_SIGNING_SECRET: undefined,
      SLACK_BOT_TOKEN: undefined,
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
    });
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ signingSecret: SIGNING_SECRET }) });
    const { result } = await world.slash('quiet workers MY-APP us-east-1');
    expect(result.statusCode).toBe(500);
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    expect(world.logs.join('\n')).toContain('botToken');
    expect(world.logs.join('\n')).not.toContain(SIGNING_SECRET);
  });
});
