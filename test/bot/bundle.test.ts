import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { botBuild } from '../../esbuild.config';
import { standaloneBotEnv } from '../support/bot-bundle-env';
import { httpApiEvent, slashCommandBody } from '../support/slack-signing';

// The bot's bundle as `npm run build` and the stack make it: what it leaves out, and that it still answers.
const SECRET = 'bundle-test-signing-secret';
let dir: string;
let bundle: string;
let inputs: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bot-bundle-'));
  const result = await build({ ...botBuild, outdir: dir, sourcemap: false, metafile: true });
  bundle = join(dir, 'bot', 'lambda.js');
  // The modules that left code in the bundle (esbuild also lists those it read and shook out entirely).
  const output = Object.values((result.metafile as Metafile).outputs).find((o) => o.entryPoint);
  inputs = Object.entries(output!.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([file]) => file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('leaves out the HTTP and Socket Mode receivers’ packages and the zod locales it never uses', () => {
  for (const pkg of ['undici', 'iconv-lite', '@slack/socket-mode', '@slack/oauth', 'raw-body']) {
    expect(inputs.filter((f) => f.includes(`node_modules/${pkg}/`))).toEqual([]);
  }
  // One `import { z } from 'zod'` anywhere in the bot brings every locale back (about 360 kB).
  expect(inputs.filter((f) => /zod\/v4\/locales\/(?!en\.js)/.test(f))).toEqual([]);
  expect(statSync(bundle).size).toBeLessThanOrEqual(1.2e6);
});

test('the bundle answers a signed slash command', () => {
  const event = httpApiEvent({
    signingSecret: SECRET,
    body: slashCommandBody({ text: 'help', responseUrl: 'https://hooks.slack.com/x' }),
  });
  const script = `require(process.argv[1]).handler(JSON.parse(process.argv[2]), {})
    .then((r) => process.stdout.write(JSON.stringify(r)))`;
  const out = execFileSync(process.execPath, ['-e', script, bundle, JSON.stringify(event)], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...standaloneBotEnv(SECRET) },
  });
  const response = JSON.parse(out) as { statusCode: number; body: string };
  expect(response.statusCode).toBe(200);
  expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
});

test('the stand-in for the left-out packages fails loudly when read', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const stub = require('../../bot/slack/not-in-lambda.cjs') as Record<string, unknown>;
  expect(stub.__esModule).toBeUndefined();
  expect(() => stub.SocketModeClient).toThrow(
    /'SocketModeClient' is not in the bot's bundle.*AwsLambdaReceiver/,
  );
});
