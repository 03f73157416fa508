import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { AWS_REGIONS } from '../../runner/request';
import { ACTIONS } from '../../ssm/actions';
import { httpApiEvent, restApiEvent, slashCommandBody } from '../support/slack-signing';
import { ecsMock, lambdaMock, operator, SIGNING_SECRET, World } from './world';

let world: World;
beforeEach(async () => {
  world = await World.start();
});
afterEach(async () => {
  await world.stop();
});

const body = () =>
  slashCommandBody({ text: 'quiet workers MY-APP us-east-1', responseUrl: world.slack.responseUrl('x') });
const now = () => Math.floor(Date.now() / 1000);

describe.each([
  ['HTTP API (v2)', httpApiEvent],
  ['REST (v1)', restApiEvent],
])('%s requests that are not from Slack get 401 and launch nothing', (_name, make) => {
  const cases: [string, () => unknown][] = [
    ['bad signature', () => make({ signingSecret: 'not-the-signing-secret', body: body() })],
    [
      'body changed after signing',
      () => ({
        ...(make({ signingSecret: SIGNING_SECRET, body: body() }) as object),
        body: body().replace('quiet', 'stop'),
      }),
    ],
    [
      'timestamp 6 minutes old',
      () => make({ signingSecret: SIGNING_SECRET, body: body(), timestamp: now() - 360 }),
    ],
    [
      'timestamp 6 minutes ahead',
      () => make({ signingSecret: SIGNING_SECRET, body: body(), timestamp: now() + 360 }),
    ],
    [
      'no signature header',
      () =>
        make({ signingSecret: SIGNING_SECRET, body: body(), headers: { 'x-slack-signature': undefined } }),
    ],
    [
      'no timestamp header',
      () =>
        make({
          signingSecret: SIGNING_SECRET,
          body: body(),
          headers: { 'x-slack-request-timestamp': undefined },
        }),
    ],
    [
      'no headers at all',
      () => ({
        ...(make({ signingSecret: SIGNING_SECRET, body: body() }) as object),
        headers: null,
        multiValueHeaders: null,
      }),
    ],
    [
      'garbage signature',
      () => make({ signingSecret: SIGNING_SECRET, body: body(), headers: { 'x-slack-signature': 'v0=zz' } }),
    ],
  ];
  test.each(cases)('%s', async (_case, event) => {
    const result = (await world.handler(event(), {})) as { statusCode: number };
    expect(result.statusCode).toBe(401);
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    expect(world.slack.calls).toHaveLength(0);
  });
});

describe('event shapes', () => {
  test('Content-Type with a charset parameter is accepted (Bolt alone would throw)', async () => {
    const event = httpApiEvent({
      signingSecret: SIGNING_SECRET,
      body: body(),
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    });
    const result = (await world.handler(event, {})) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  test('a base64 HTTP API body with non-ASCII text is verified and parsed as UTF-8', async () => {
    const text = 'quiet wörkers MY-APP us-east-1';
    const signed = slashCommandBody({ text, responseUrl: world.slack.responseUrl('x') }).replace(
      /%C3%B6/g,
      'ö',
    );
    const result = (await world.handler(
      httpApiEvent({ signingSecret: SIGNING_SECRET, body: signed, base64: true }),
      {},
    )) as {
      statusCode: number;
      body: string;
    };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).text).toContain('wörkers');
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
  });

  test('REST v1 headers in any case', async () => {
    const result = await world.slash('help', { format: 'v1' });
    expect(result.result.statusCode).toBe(200);
    expect(String(result.reply?.text)).toContain('/snowwhite quiet');
  });

  test('a signed body with an unknown Content-Type: refused without a crash', async () => {
    const event = httpApiEvent({
      signingSecret: SIGNING_SECRET,
      body: 'not json at all',
      contentType: 'text/plain',
    });
    const result = (await world.handler(event, {})) as { statusCode: number };
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
  });

  test('neither an HTTP nor an internal event: 400', async () => {
    expect(await world.handler({ hello: 'world' }, {})).toMatchObject({ statusCode: 400 });
    expect(await world.handler(null, {})).toMatchObject({ statusCode: 400 });
  });

  test('malformed internal events are refused', async () => {
    expect(
      await world.handler({ snowwhiteInternal: 1, work: { kind: 'command' }, mac: '00' }, {}),
    ).toMatchObject({ ok: false });
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('ssl_check gets 200', async () => {
    const event = httpApiEvent({ signingSecret: SIGNING_SECRET, body: 'ssl_check=1&token=x' });
    expect(await world.handler(event, {})).toMatchObject({ statusCode: 200 });
  });
});

describe('slash command text', () => {
  test.each([
    ['', 'Usage'],
    ['help', 'Usage'],
    ['HELP', 'Usage'],
    ['restart workers MY-APP us-east-1', '"restart" is not an action'],
    ['quiet workers MY-APP', 'missing <region>'],
    ['quiet workers MY-APP us-east-1 extra', 'exactly 3 words'],
    ['quiet workers MY-APP mars-north-1', '"mars-north-1" is not an AWS region'],
    ['quiet work*ers MY-APP us-east-1', 'letters, digits, hyphens'],
    ['quiet workers MY/APP us-east-1', 'cannot contain "/"'],
    [`quiet workers ${'A'.repeat(101)} us-east-1`, 'at most 100 characters'],
    ['quiet <!channel> MY-APP us-east-1', '&lt;!channel&gt;'],
  ])('%j → ephemeral reply containing %j, no hand-off', async (text, expected) => {
    const { result, reply } = await world.slash(text);
    expect(result.statusCode).toBe(200);
    expect(reply).toMatchObject({ response_type: 'ephemeral' });
    expect(String(reply!.text)).toContain(expected);
    expect(String(reply!.text)).toContain('/snowwhite status');
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
  });

  test('1,000 random command texts: never a crash, always an ephemeral answer, nothing launched for invalid ones', async () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const words = [
      'quiet',
      'stop',
      'wake',
      'status',
      'help',
      'QUIET',
      'Stop',
      'restart',
      '',
      ' ',
      'workers',
      'MY-APP',
      'us-east-1',
      'eu-west-1',
      'mars-1',
      '"',
      "'",
      '`',
      '\\',
      '*',
      '<@U123>',
      '<!here>',
      '&amp;',
      '%00',
      '\u0000',
      '\u200b',
      '日本語',
      '🧹',
      'e\u0301',
      'a/b',
      '--help',
      '-1',
      'x'.repeat(41),
      'y'.repeat(101),
      'z'.repeat(5000),
      '\n',
      '\t',
      'us-east-1 ',
      'cn-north-1',
      'us-gov-west-1',
      'US-EAST-1',
      'null',
      'undefined',
      '{}',
      '[]',
      '$(rm -rf /)',
    ];
    const texts: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const n = Math.floor(rand() * 7);
      const parts = Array.from({ length: n }, () => {
        if (rand() < 0.15) return String.fromCodePoint(Math.floor(rand() * 0x2ffff));
        return pick(words);
      });
      texts.push(parts.join(pick([' ', '  ', '\t', '\u00a0', ''])));
    }
    texts.push('', ' '.repeat(10_000), 'a'.repeat(100_000));
    world.users = [operator('alice', 'U0ALICE')];
    // An oracle written from the documented grammar (the README, the usage), independent of
    // bot/slack/command.ts.
    const isValid = (text: string) => {
      const w = text.split(/\s+/u).filter(Boolean);
      return (
        w.length === 4 &&
        (ACTIONS as readonly string[]).includes(w[0]!.toLowerCase()) &&
        /^[A-Za-z0-9-]{1,40}$/.test(w[1]!) &&
        w[2]!.length <= 100 &&
        !w[2]!.includes('/') &&
        (AWS_REGIONS as readonly string[]).includes(w[3]!.toLowerCase())
      );
    };
    texts.push('quiet workers MY-APP us-east-1', 'STATUS  w\u00a0MY-APP\tEU-WEST-1');
    let launchedForValid = 0;
    let valid = 0;
    for (const text of texts) {
      const before = lambdaMock.commandCalls(InvokeCommand).length;
      const { result, reply } = await world.slash(text);
      expect(result.statusCode).toBe(200);
      expect(reply).toMatchObject({ response_type: 'ephemeral', text: expect.any(String) });
      const handedOff = lambdaMock.commandCalls(InvokeCommand).length - before;
      const expectValid = isValid(text);
      if (expectValid) valid++;
      expect([text, handedOff]).toEqual([text, expectValid ? 1 : 0]);
      if (!expectValid) expect(String(reply!.text)).toContain('*Usage*');
      launchedForValid += handedOff;
    }
    expect(texts.length).toBeGreaterThan(1000);
    expect(valid).toBeGreaterThanOrEqual(2);
    expect(launchedForValid).toBe(valid);
    // Nothing launches at acknowledgement time, valid or not.
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });
});

describe("Slack's 3-second rule", () => {
  test('acknowledgement with 1,000 IAM users at 50 ms per IAM call stays fast: IAM is only touched after the ack', async () => {
    world.users = Array.from({ length: 1000 }, (_, i) =>
      operator(`user${i}`, `U${String(i).padStart(6, '0')}`),
    );
    world.iamDelayMs = 50;
    const started = performance.now();
    const { result, reply, responseId } = await world.slash('quiet workers MY-APP us-east-1', {
      userId: 'U000999',
    });
    const ackMs = performance.now() - started;
    expect(result.statusCode).toBe(200);
    expect(String(reply!.text)).toContain('Checking');
    expect(ackMs).toBeLessThan(1000);
    expect(world.iamMaxInFlight).toBe(0);
    await world.playHandoffs();
    expect(world.confirmValue(responseId)).toContain('quiet');
    expect(world.iamMaxInFlight).toBeLessThanOrEqual(10);
    expect(world.authorizationLogs()).toMatchObject([{ iamUser: 'user999', allowed: true }]);
  });
});
