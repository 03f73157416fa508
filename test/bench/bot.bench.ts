/**
 * Bot figures: acknowledgement time in process; bundle size and cold start in fresh Node processes,
 * today's bundle beside the one built before it was trimmed (commit b03a158); and authorization time
 * against a simulated IAM (50 ms per call) for 10, 100 and 1,000 users: the bounded-concurrency tag
 * index, cold and cached, beside a naive sequential build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IAMClient,
  ListUsersCommand,
  ListUserTagsCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import { botBuild } from '../../esbuild.config';
import { createAuthorizer } from '../../bot/auth/authorizer';
import { createIamDirectory } from '../../bot/auth/iam-directory';
import { createLambdaHandler } from '../../bot/lambda';
import { createLogger } from '../../runner/log';
import { createPolicySimulator } from '../../bot/auth/policy-simulator';
import { httpApiEvent, slashCommandBody } from '../support/slack-signing';
import { standaloneBotEnv } from '../support/bot-bundle-env';

export const name = 'bot';

const ROOT = join(__dirname, '../..');
const SECRET = 'bench-signing-secret-0123456789';
const ENV = standaloneBotEnv(SECRET);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function ackTimes(): Promise<void> {
  const lambda = mockClient(LambdaClient);
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  const handler = createLambdaHandler({ env: ENV, logger: createLogger({ write: () => undefined }) });
  const texts = [
    'quiet workers MY-APP us-east-1',
    'stop w APP eu-west-1',
    'help',
    'bogus words',
    'quiet w APP mars-1',
  ];
  const times: number[] = [];
  const handedOff: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const body = slashCommandBody({
      text: texts[i % texts.length]!,
      responseUrl: 'https://hooks.slack.com/x',
    });
    const event = httpApiEvent({ signingSecret: SECRET, body });
    const t = performance.now();
    const res = (await handler(event, {})) as { statusCode: number };
    times.push(performance.now() - t);
    if (i > 0 && i % texts.length < 2) handedOff.push(times.at(-1)!);
    if (res.statusCode !== 200) throw new Error(`ack answered ${res.statusCode}`);
  }
  lambda.restore();
  console.log(
    `ack in process (1,000 signed slash commands, valid ones handed off to a mocked Invoke): first ${ms(times[0]!)}, ` +
      `p50 ${ms(percentile(times.slice(1), 50))}, p99 ${ms(percentile(times.slice(1), 99))}, max ${ms(Math.max(...times.slice(1)))}; ` +
      `valid commands only (hand-off included): p50 ${ms(percentile(handedOff, 50))}, p99 ${ms(percentile(handedOff, 99))}`,
  );
}

/** The last commit before the bundle was trimmed, built as it was then: the "before" column. */
const BASELINE = 'b03a158';
const BASELINE_BUILD = ['bot/lambda.ts', '--bundle', '--platform=node', '--target=node20'];
const BASELINE_FLAGS = ['--main-fields=module,main', '--minify', '--log-level=error'];

/** Builds the baseline's bot bundle in a copy of that commit; a note instead when git history is not here. */
function baselineBundle(tmp: string): string | { note: string } {
  const dir = join(tmp, 'baseline');
  try {
    mkdirSync(dir);
    execFileSync('git', ['archive', '--format=tar', '-o', join(tmp, 'baseline.tar'), BASELINE], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch {
    return { note: `commit ${BASELINE} is not in this checkout's git history: no "before" column` };
  }
  execFileSync('tar', ['-xf', join(tmp, 'baseline.tar'), '-C', dir]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const out = join(dir, 'dist/bot/lambda.js');
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    [...BASELINE_BUILD, ...BASELINE_FLAGS, `--outfile=${out}`],
    {
      cwd: dir,
      stdio: 'inherit',
    },
  );
  return out;
}

/**
 * `BENCH_BOT_COMPARE=<commit>`: that commit's bot bundle as well, built by its own build definition
 * (`npm run build` there), to show what a change since then cost. Undefined when not asked for.
 */
function comparedBundle(tmp: string): [string, string] | undefined {
  const commit = process.env.BENCH_BOT_COMPARE;
  if (!commit) return undefined;
  const dir = join(tmp, 'compared');
  mkdirSync(dir);
  execFileSync('git', ['archive', '--format=tar', '-o', join(tmp, 'compared.tar'), commit], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  execFileSync('tar', ['-xf', join(tmp, 'compared.tar'), '-C', dir]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['esbuild.config.ts'], { cwd: dir, stdio: 'pipe' });
  return [`${commit} (its own build)`, join(dir, 'dist/bot/lambda.js')];
}

// Fresh process: require the bundle, answer one signed `help` (the whole Bolt path, no network), and
// print the wall-clock time of the answer so the parent can subtract the time it spawned the process.
const COLD_START = `
  const t0 = performance.now();
  const { handler } = require(process.argv[1]);
  const t1 = performance.now();
  const { createHmac } = require('node:crypto');
  const body = 'command=%2Fsnowwhite&text=help&user_id=U0ALICE&channel_id=C0OPS&response_url=https%3A%2F%2Fhooks.slack.com%2Fx';
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v0=' + createHmac('sha256', process.env.SLACK_SIGNING_SECRET).update('v0:' + ts + ':' + body).digest('hex');
  handler({ version: '2.0', rawPath: '/slack/events', requestContext: { http: { method: 'POST' } }, isBase64Encoded: false, body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig } }, {})
    .then((r) => { const t2 = performance.now(); if (r.statusCode !== 200) process.exit(2);
      console.log(JSON.stringify({ require: t1 - t0, firstAck: t2 - t1, ackedAt: performance.timeOrigin + t2 })); });`;

interface ColdStart {
  spawnToAck: number;
  require: number;
  firstAck: number;
}

function coldStart(bundle: string): ColdStart {
  const spawnedAt = performance.timeOrigin + performance.now();
  const out = spawnSync(process.execPath, ['-e', COLD_START, bundle], {
    env: { ...process.env, ...ENV, NODE_NO_WARNINGS: '1' },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`cold start of ${bundle} failed: ${out.stderr}`);
  const line = out.stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{"require"'));
  const figures = JSON.parse(line!) as { require: number; firstAck: number; ackedAt: number };
  return { spawnToAck: figures.ackedAt - spawnedAt, require: figures.require, firstAck: figures.firstAck };
}

async function coldStarts(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'bot-bench-'));
  try {
    // Today's bundle from the one build definition that `npm run build` and the stack use.
    await build({ ...botBuild, outdir: join(tmp, 'now') });
    const bundles: [string, string][] = [['now (esbuild.config.ts)', join(tmp, 'now/bot/lambda.js')]];
    const baseline = baselineBundle(tmp);
    if (typeof baseline === 'string') bundles.unshift([`before (${BASELINE}, its build line)`, baseline]);
    else console.log(`note: ${baseline.note}`);
    const compared = comparedBundle(tmp);
    if (compared) bundles.splice(bundles.length - 1, 0, compared);

    const runs = 15;
    const figures = bundles.map((): ColdStart[] => []);
    for (const [, bundle] of bundles) coldStart(bundle); // warm-up: the file cache, not the process
    // Alternated, so both bundles meet the same load on a shared machine.
    for (let i = 0; i < runs; i++) bundles.forEach(([, bundle], k) => figures[k]!.push(coldStart(bundle)));

    console.log(
      `bot bundle and cold start: fresh node per run, spawn → first acknowledgement of a signed /snowwhite help, ` +
        `${runs} runs each, alternated (goal: ≤ 1.2 MB, median ≤ 200 ms)`,
    );
    const row = (cells: string[]) =>
      console.log(cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(i === 1 ? 11 : 10))).join(' '));
    row(['', 'bytes', 'p50', 'p90', 'max', 'require', 'first ack']);
    bundles.forEach(([label, bundle], k) => {
      const f = figures[k]!;
      const total = f.map((x) => x.spawnToAck);
      const median = (pick: (x: ColdStart) => number) => ms(percentile(f.map(pick), 50));
      row([
        label,
        statSync(bundle).size.toLocaleString('en-US'),
        ms(percentile(total, 50)),
        ms(percentile(total, 90)),
        ms(Math.max(...total)),
        median((x) => x.require),
        median((x) => x.firstAck),
      ]);
    });
    console.log('(require and first ack: medians inside the process; p50/p90/max: from spawn)');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function slowIam(users: number, delayMs: number) {
  const iam = mockClient(IAMClient);
  const arn = (i: number) => `arn:aws:iam::123456789012:user/user${i}`;
  iam.on(ListUsersCommand).callsFake(async (input: { Marker?: string }) => {
    await sleep(delayMs);
    const start = Number(input.Marker ?? 0);
    const next = start + 1000;
    return {
      Users: Array.from({ length: Math.max(0, Math.min(1000, users - start)) }, (_, k) => ({
        UserName: `user${start + k}`,
        Arn: arn(start + k),
      })),
      IsTruncated: next < users,
      ...(next < users ? { Marker: String(next) } : {}),
    };
  });
  iam.on(ListUserTagsCommand).callsFake(async (input: { UserName: string }) => {
    await sleep(delayMs);
    return {
      Tags: [{ Key: 'slack_userid', Value: `U${input.UserName.slice(4).padStart(6, '0')}` }],
      IsTruncated: false,
    };
  });
  iam
    .on(SimulatePrincipalPolicyCommand)
    .callsFake(async (input: { ActionNames: string[]; ResourceArns: string[] }) => {
      await sleep(delayMs);
      return {
        EvaluationResults: [
          {
            EvalActionName: input.ActionNames[0],
            EvalResourceName: input.ResourceArns[0],
            EvalDecision: 'allowed',
          },
        ],
      };
    });
  return iam;
}

async function authorizationTimes(): Promise<void> {
  const delay = 50;
  for (const users of [10, 100, 1000]) {
    const mock = slowIam(users, delay);
    const iam = new IAMClient({ region: 'us-east-1' });
    const time = async (concurrency: number) => {
      const authorizer = createAuthorizer({
        directory: createIamDirectory({ iam, cacheSeconds: 60, concurrency }),
        simulate: createPolicySimulator(iam),
        targets: {
          taskDefinitionArn: ENV.RUNNER_TASK_DEFINITION_ARN!,
          ssmDocuments: { quiet: 'q-doc', stop: 's-doc', wake: 'w-doc', status: 'st-doc' },
        },
        logger: createLogger({ write: () => undefined }),
      });
      const who = {
        slackUserId: `U${String(users - 1).padStart(6, '0')}`,
        action: 'quiet' as const,
        envPattern: 'w',
        application: 'A',
        region: 'us-east-1',
      };
      const envs = [{ name: 'w-1', id: 'e-1', instanceIds: ['i-1', 'i-2'] }];
      const authorize = async () => {
        const identity = await authorizer.identify(who);
        if (!identity.ok) return identity.decision;
        return authorizer.permits(who, identity.iamUser, envs);
      };
      let t = performance.now();
      const cold = await authorize();
      const coldMs = performance.now() - t;
      t = performance.now();
      const cached = await authorize();
      const cachedMs = performance.now() - t;
      if (!cold.allowed || !cached.allowed) throw new Error('bench user should be allowed');
      return { coldMs, cachedMs };
    };
    const bounded = await time(10);
    const naive = await time(1);
    mock.restore();
    console.log(
      `authorization, ${String(users).padStart(4)} IAM users, ${delay} ms per IAM call: ` +
        `index with 10 in flight: cold ${ms(bounded.coldMs)}, cached ${ms(bounded.cachedMs)} | ` +
        `naive sequential index: cold ${ms(naive.coldMs)} (${(naive.coldMs / bounded.coldMs).toFixed(1)}x slower)`,
    );
  }
}

export async function run(): Promise<void> {
  await ackTimes();
  await coldStarts();
  await authorizationTimes();
}
