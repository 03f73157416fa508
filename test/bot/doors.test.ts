import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { signWork } from '../../bot/deferred/handoff';
import { CANCEL_RUN_ACTION_ID, encodeButtonValue, REQUEST_ACTION_ID } from '../../runner/slack/buttons';
import { httpApiEvent, slashCommandBody } from '../support/slack-signing';
import { BOT_TOKEN, ecsMock, iamMock, lambdaMock, secretsMock, SIGNING_SECRET, World } from './world';

// Every door — typed command, prompt Confirm, request buttons (summary, App Home, reminder), Cancel,
// history, App Home, the command line — refuses another region, an unmapped person and a placeholder
// secret, the same way.

let world: World;
beforeEach(async () => {
  world = await World.start({ FLEET_REGIONS: 'us-east-1' });
});
afterEach(() => world.stop());

const ALICE_ARN = 'arn:aws:iam::123456789012:user/alice';
const request = (region: string, action = 'wake') =>
  encodeButtonValue({ v: 1, action, envPattern: 'staging', application: 'MY-APP', region });

/** A confirmed run in us-east-1, launched by alice: what its Cancel button carries. */
async function launchedRun() {
  const { responseId } = await world.slash('quiet staging MY-APP us-east-1');
  await world.playHandoffs();
  await world.click(world.confirmValue(responseId), 'confirm');
  await world.playHandoffs();
  return {
    request: world.runRequestOf(world.runTaskInputs.length - 1),
    taskArn: [...world.tasks.values()].at(-1)!.taskArn,
  };
}

const homeOpened = (user: string) =>
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

const lastText = (responseId: string) => String(world.lastResponse(responseId)?.text);

describe('another region', () => {
  test('typed command: refused at once, nothing handed off', async () => {
    const { reply } = await world.slash('quiet staging MY-APP eu-west-1');
    expect(String(reply?.text)).toContain('not set up for eu-west-1');
    expect(world.pendingHandoffs()).toHaveLength(0);
  });

  test('a prompt made while the region was served, confirmed after it no longer is: refused, nothing launched', async () => {
    const before = world.newContainer({ FLEET_REGIONS: 'us-east-1,eu-west-1' });
    const { responseId } = await world.slash('quiet staging MY-APP eu-west-1', { handler: before });
    await world.playHandoffs(before);
    const value = world.confirmValue(responseId);
    const invokes = lambdaMock.commandCalls(InvokeCommand).length;
    const click = await world.click(value, 'confirm');
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(invokes); // not even handed off
    await world.playHandoffs();
    expect(lastText(click.responseId)).toContain('not set up for eu-west-1');
    expect(world.launchedTasks).toBe(0);
    expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand).length).toBeGreaterThan(0); // the prompt's
    // Refused at the door, before the limit is drawn on.
    const rejected = world.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'request_rejected');
    expect(rejected).toMatchObject({
      reason: 'region not served',
      region: 'eu-west-1',
      door: 'prompt confirm',
    });
  });

  test('work handed off before the stack stopped serving the region is refused in the slow half too', async () => {
    const response = world.newResponseUrl();
    const work = signWork(
      {
        kind: 'request',
        runId: 'run-before-the-change',
        slackUserId: 'U0ALICE',
        channelId: 'C0OPS',
        responseUrl: response.url,
        command: { action: 'wake', envPattern: 'staging', application: 'MY-APP', region: 'eu-west-1' },
      },
      SIGNING_SECRET,
      Date.now() / 1000,
    );
    await world.handler(work, {});
    expect(lastText(response.id)).toContain('not set up for eu-west-1');
    expect(world.authorizationLogs().at(-1)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^region_not_served/),
    });
    expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
  });

  test('request buttons (summary, reminder in a channel; App Home in a DM): refused, no prompt', async () => {
    const inChannel = await world.click(request('eu-west-1'), 'confirm', {
      actionId: `${REQUEST_ACTION_ID}:wake`,
    });
    await world.playHandoffs();
    expect(lastText(inChannel.responseId)).toContain('not set up for eu-west-1');
    await world.clickInHome(request('eu-west-1'), `${REQUEST_ACTION_ID}:wake`);
    await world.playHandoffs();
    const dm = world.slack.callsOf('chat.postMessage').at(-1);
    expect(dm?.args).toMatchObject({
      channel: 'U0ALICE',
      text: expect.stringContaining('not set up for eu-west-1'),
    });
    expect(world.slack.callsOf('chat.postMessage').some((c) => Array.isArray(c.args.blocks))).toBe(false);
  });

  test('Cancel: refused, the task is not stopped', async () => {
    const run = await launchedRun();
    const click = await world.click(
      encodeButtonValue({
        v: 1,
        runId: run.request.runId,
        action: run.request.action,
        envPattern: run.request.envPattern,
        application: run.request.application,
        region: 'eu-west-1',
        taskArn: run.taskArn,
      }),
      'confirm',
      { actionId: CANCEL_RUN_ACTION_ID },
    );
    await world.playHandoffs();
    expect(lastText(click.responseId)).toContain('not set up for eu-west-1');
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('command line: refused with the reason, nothing launched', async () => {
    const res = (await world.handler(
      await world.cliEvent(
        JSON.stringify({
          action: 'quiet',
          envPattern: 'staging',
          application: 'MY-APP',
          region: 'eu-west-1',
        }),
        ALICE_ARN,
      ),
      {},
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({
      reason: 'region_not_served',
      detail: expect.stringContaining('eu-west-1'),
    });
    expect(world.launchedTasks).toBe(0);
  });
});

describe('an unmapped person (no IAM user carries their Slack id)', () => {
  test('typed, prompt Confirm, request button, Cancel, history: each refused, saying how to get mapped', async () => {
    const typed = await world.slash('quiet staging MY-APP us-east-1', { userId: 'U0NOBODY' });
    await world.playHandoffs();
    expect(lastText(typed.responseId)).toContain('no IAM user has the tag slack_userid=U0NOBODY');

    const { responseId } = await world.slash('quiet staging MY-APP us-east-1');
    await world.playHandoffs();
    const confirm = await world.click(world.confirmValue(responseId), 'confirm', { userId: 'U0NOBODY' });
    await world.playHandoffs();
    expect(lastText(confirm.responseId)).toContain('no IAM user has the tag slack_userid=U0NOBODY');

    const wake = await world.click(request('us-east-1'), 'confirm', {
      actionId: REQUEST_ACTION_ID,
      userId: 'U0NOBODY',
    });
    await world.playHandoffs();
    expect(lastText(wake.responseId)).toContain('no IAM user has the tag slack_userid=U0NOBODY');

    const run = await launchedRun();
    const cancel = await world.click(
      encodeButtonValue({
        v: 1,
        runId: run.request.runId,
        action: run.request.action,
        envPattern: run.request.envPattern,
        application: run.request.application,
        region: run.request.region,
        taskArn: run.taskArn,
      }),
      'confirm',
      { actionId: CANCEL_RUN_ACTION_ID, userId: 'U0NOBODY' },
    );
    await world.playHandoffs();
    expect(lastText(cancel.responseId)).toContain('no IAM user has the tag slack_userid=U0NOBODY');
    expect(ecsMock).not.toHaveReceivedCommand(StopTaskCommand);

    const history = await world.slash('history', { userId: 'U0NOBODY' });
    await world.playHandoffs();
    expect(lastText(history.responseId)).toContain('You may not read the history');
    expect(world.launchedTasks).toBe(1); // alice's run only
  });

  test('App Home shows how to get mapped and nothing of the fleet', async () => {
    await world.handler(homeOpened('U0NOBODY'), {});
    await world.playHandoffs();
    const view = world.slack.callsOf('views.publish').at(-1)!.args;
    expect(view.user_id).toBe('U0NOBODY');
    const text = JSON.stringify(view.view);
    expect(text).toContain(
      'aws iam tag-user --user-name YOUR-IAM-USER --tags Key=slack_userid,Value=U0NOBODY',
    );
    expect(text).not.toContain('Fleets left quiet or stopped');
    expect(text).not.toContain('Recent runs');
    // A mapped person gets the fleet view (the check can tell them apart).
    await world.handler(homeOpened('U0ALICE'), {});
    await world.playHandoffs();
    expect(JSON.stringify(world.slack.callsOf('views.publish').at(-1)!.args.view)).not.toContain(
      'YOUR-IAM-USER',
    );
  });
});

describe('a placeholder still in the Slack secret', () => {
  /** A container reading the secret from Secrets Manager, whose signing secret is still the placeholder. */
  function placeholderBot(secret = { signingSecret: 'SET_AFTER_DEPLOY', botToken: BOT_TOKEN }) {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
    return world.newContainer({
      SLACK_SIGNING_SECRET: undefined,
      SLACK_BOT_TOKEN: undefined,
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
    });
  }

  test('typed command (signed with the public placeholder): a clear answer, nothing handed off, one log line', async () => {
    const handler = placeholderBot();
    const before = lambdaMock.commandCalls(InvokeCommand).length;
    // Anyone can sign with the placeholder: it is in the repository.
    const res = (await handler(
      httpApiEvent({
        signingSecret: 'SET_AFTER_DEPLOY',
        body: slashCommandBody({
          text: 'stop workers MY-APP us-east-1',
          responseUrl: world.newResponseUrl().url,
        }),
      }),
      {},
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).text).toContain('Snow White is not set up yet');
    expect(JSON.parse(res.body).text).toContain('signingSecret');
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(before);
    const lines = world.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'slack_secret_placeholder')).toMatchObject({
      level: 'error',
      fields: ['signingSecret'],
    });
  });

  test('buttons (channel and App Home), App Home, internal events, the scheduled check and the command line: nothing served', async () => {
    const handler = placeholderBot({ signingSecret: SIGNING_SECRET, botToken: 'SET_AFTER_DEPLOY' });
    const before = lambdaMock.commandCalls(InvokeCommand).length;
    const click = await world.click(request('us-east-1'), 'confirm', {
      actionId: REQUEST_ACTION_ID,
      handler,
    });
    expect(click.result.statusCode).toBe(503);
    expect((await world.clickInHome(request('us-east-1'), REQUEST_ACTION_ID, { handler })).statusCode).toBe(
      503,
    );
    expect(((await handler(homeOpened('U0ALICE'), {})) as { statusCode: number }).statusCode).toBe(503);
    const work = signWork({ kind: 'home', slackUserId: 'U0ALICE' }, SIGNING_SECRET, Date.now() / 1000);
    expect(await handler(work, {})).toEqual({ ok: false, reason: 'the Slack secret holds the placeholder' });
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
    expect(await handler(scheduled, {})).toEqual({
      ok: false,
      reason: 'the Slack secret holds the placeholder',
    });
    const cli = (await handler(
      await world.cliEvent(
        JSON.stringify({
          action: 'quiet',
          envPattern: 'staging',
          application: 'MY-APP',
          region: 'us-east-1',
        }),
        ALICE_ARN,
      ),
      {},
    )) as { statusCode: number; body: string };
    expect(cli.statusCode).toBe(503);
    expect(JSON.parse(cli.body)).toMatchObject({
      error: 'not_configured',
      detail: expect.stringContaining('botToken'),
    });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(before);
    expect(world.slack.callsOf('views.publish')).toHaveLength(0);
    expect(world.launchedTasks).toBe(0);
    expect(world.sts.calls).toHaveLength(0);
  });

  test('once the real values are in, the same container serves again (the secret is read again)', async () => {
    const handler = placeholderBot();
    expect(
      (await world.click(request('us-east-1'), 'confirm', { actionId: REQUEST_ACTION_ID, handler })).result
        .statusCode,
    ).toBe(503);
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN }) });
    expect(
      (await world.click(request('us-east-1'), 'confirm', { actionId: REQUEST_ACTION_ID, handler })).result
        .statusCode,
    ).toBe(200);
  });
});
