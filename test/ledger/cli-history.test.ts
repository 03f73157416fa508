import { LedgerReporter } from '../../runner/ledger/reporter';
import type { Ledger } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import { useLedgerWorld } from '../support/ledger-world';
import { World } from '../bot/world';

/**
 * `snowwhite history` through the bot's signed command-line route: the real Lambda handler, the
 * ledger in dynalite as the template defines it, runs recorded by the runner's own LedgerReporter.
 */
const ctx = useLedgerWorld();
let world: World;
let ledger: Ledger;
beforeEach(() => ({ world, ledger } = ctx));

async function runFinished(application: string, atMs: number, runId: string, exitCode = 0) {
  await new LedgerReporter(ledger, silentLogger, () => atMs).finished({
    request: {
      runId,
      action: 'quiet',
      envPattern: 'workers',
      application,
      region: 'us-east-1',
      requestedBy: { iamUserName: 'alice' },
      drainTimeoutSeconds: 3600,
      executionTimeoutSeconds: 7200,
    },
    exitCode,
    elapsedMs: 60_000,
    outcomes: [
      {
        instanceId: 'i-0123456789abcdef0',
        environment: `${application}-workers`,
        kind: 'drained',
        reason: 'done',
      },
    ],
    commandIds: [],
  });
}

async function post(body: unknown, userArn = 'arn:aws:iam::123456789012:user/bob') {
  const res = (await world.handler(await world.cliEvent(JSON.stringify(body), userArn), {})) as {
    statusCode: number;
    body: string;
  };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

test('the last runs, newest first, of one application or all', async () => {
  await runFinished('MY-APP', Date.parse('2026-03-02T09:00:00Z'), 'run-a');
  await runFinished('OTHER', Date.parse('2026-03-02T10:00:00Z'), 'run-b', 2);
  const all = await post({ history: true });
  expect(all.status).toBe(200);
  expect((all.body.runs as Array<{ runId: string }>).map((r) => r.runId)).toEqual(['run-b', 'run-a']);
  expect((all.body.runs as unknown[])[0]).toMatchObject({
    action: 'quiet',
    application: 'OTHER',
    requestedBy: 'alice',
    state: 'finished',
    exitCode: 2,
  });
  const mine = await post({ history: true, application: 'MY-APP' });
  expect((mine.body.runs as Array<{ runId: string }>).map((r) => r.runId)).toEqual(['run-a']);
});

test('bad bodies and unknown callers are refused; nothing is read', async () => {
  expect(await post({ history: true, application: 'a b' })).toMatchObject({ status: 400 });
  expect(await post({ history: true, extra: 1 })).toMatchObject({ status: 400 });
  expect(await post({ history: true }, 'arn:aws:iam::999999999999:user/mallory')).toMatchObject({
    status: 403,
    body: { error: 'refused', reason: 'unsupported_principal' },
  });
});
