import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createLocks, lockHolderPlain, lockKey, type LockOwner } from '../../runner/ledger/locks';
import { createLedgerClient } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import { lockedText } from '../../bot/memory/lock-text';
import { startLedgerTable, type LedgerTable } from '../support/ledger-table';

/** The lock items on dynalite, with the table as the synthesized template defines it. */
let db: LedgerTable;
beforeAll(async () => {
  db = await startLedgerTable();
});
afterAll(async () => {
  await db.close();
});

const doc = () => createLedgerClient(db.client);
const where = { region: 'us-east-1' as const, application: 'MY-APP' };
const owner = (runId: string, action: LockOwner['action'] = 'quiet'): LockOwner => ({
  runId,
  action,
  ...where,
  iamUserName: 'alice',
  slackUserId: 'UALICE',
});
const T0 = Date.parse('2026-12-03T10:00:00Z');

async function locksOn() {
  const tableName = await db.fresh();
  const locks = createLocks({ client: doc(), tableName, logger: silentLogger });
  const get = async (environment: string) =>
    (
      await doc().send(
        new GetCommand({ TableName: tableName, Key: { pk: lockKey({ ...where, environment }) } }),
      )
    ).Item;
  return { locks, get, tableName };
}

describe('locks', () => {
  test('a second run on an overlapping environment is refused with its holder; the first run keeps all', async () => {
    const { locks, get } = await locksOn();
    expect(await locks.acquire(owner('run-1'), ['env-b', 'env-a'], { nowMs: T0, ttlSeconds: 7200 })).toEqual({
      ok: true,
    });
    const second = await locks.acquire(
      { ...owner('run-2', 'wake'), iamUserName: 'bob', slackUserId: 'UBOB' },
      ['env-c', 'env-b'],
      { nowMs: T0 + 1000, ttlSeconds: 7200 },
    );
    expect(second).toMatchObject({
      ok: false,
      environment: 'env-b',
      holder: { runId: 'run-1', action: 'quiet', slackUserId: 'UALICE', since: new Date(T0).toISOString() },
    });
    // env-b is tried before env-c (sorted order): run-2 took nothing.
    expect(await get('env-c')).toBeUndefined();
    expect((await get('env-a'))?.runId).toBe('run-1');
    expect((await get('env-b'))?.runId).toBe('run-1');
  });

  test('a partial acquisition is rolled back: nothing of the refused run stays', async () => {
    const { locks, get } = await locksOn();
    await locks.acquire(owner('run-1'), ['env-z'], { nowMs: T0, ttlSeconds: 600 });
    const res = await locks.acquire(owner('run-2'), ['env-a', 'env-b', 'env-z'], {
      nowMs: T0,
      ttlSeconds: 600,
    });
    expect(res).toMatchObject({ ok: false, environment: 'env-z' });
    expect(await get('env-a')).toBeUndefined();
    expect(await get('env-b')).toBeUndefined();
  });

  test('the same run takes its locks again (a retried Confirm) and a refusal then gives back none of them', async () => {
    const { locks, get } = await locksOn();
    await locks.acquire(owner('run-1'), ['env-a'], { nowMs: T0, ttlSeconds: 600 });
    await locks.acquire(owner('run-2'), ['env-c'], { nowMs: T0, ttlSeconds: 600 });
    expect(await locks.acquire(owner('run-1'), ['env-a'], { nowMs: T0 + 5, ttlSeconds: 600 })).toEqual({
      ok: true,
    });
    const res = await locks.acquire(owner('run-1'), ['env-a', 'env-c'], { nowMs: T0 + 9, ttlSeconds: 600 });
    expect(res).toMatchObject({ ok: false, environment: 'env-c' });
    expect((await get('env-a'))?.runId).toBe('run-1');
  });

  test('a lock expires after its time to live, though DynamoDB has not deleted it yet', async () => {
    const { locks } = await locksOn();
    await locks.acquire(owner('run-1'), ['env-a'], { nowMs: T0, ttlSeconds: 60 });
    expect((await locks.acquire(owner('run-2'), ['env-a'], { nowMs: T0 + 59_000, ttlSeconds: 60 })).ok).toBe(
      false,
    );
    expect(await locks.heldByOthers({ ...where, runId: 'run-2' }, ['env-a'], T0 + 59_000)).toHaveLength(1);
    expect(await locks.heldByOthers({ ...where, runId: 'run-2' }, ['env-a'], T0 + 60_000)).toEqual([]);
    expect((await locks.acquire(owner('run-2'), ['env-a'], { nowMs: T0 + 60_000, ttlSeconds: 60 })).ok).toBe(
      true,
    );
  });

  test('release gives back only the run’s own locks', async () => {
    const { locks, get } = await locksOn();
    await locks.acquire(owner('run-1'), ['env-a'], { nowMs: T0, ttlSeconds: 600 });
    await locks.acquire(owner('run-2'), ['env-b'], { nowMs: T0, ttlSeconds: 600 });
    await locks.release({ runId: 'run-1', ...where }, ['env-a', 'env-b']);
    expect(await get('env-a')).toBeUndefined();
    expect((await get('env-b'))?.runId).toBe('run-2');
    expect(await locks.heldByOthers(where, ['env-a', 'env-b'], T0)).toHaveLength(1);
    expect(await locks.heldByOthers({ ...where, runId: 'run-2' }, ['env-a', 'env-b'], T0)).toEqual([]);
  });

  test('noteThread adds the thread; the refusal names who, what, since when and links it', async () => {
    const { locks } = await locksOn();
    await locks.acquire(owner('run-1'), ['env-a'], { nowMs: T0, ttlSeconds: 600 });
    await locks.noteThread({ runId: 'run-1', ...where }, ['env-a'], {
      channel: 'C0123',
      threadTs: '1.2',
      permalink: 'https://example.slack.com/archives/C0123/p12',
    });
    const res = await locks.acquire(owner('run-2', 'wake'), ['env-a'], { nowMs: T0, ttlSeconds: 600 });
    if (res.ok) throw new Error('expected a refusal');
    const text = lockedText(res.holder, res.environment, 'wake', 'confirm');
    expect(text).toContain('<@UALICE> is running `quiet` on *env-a*');
    expect(text).toContain(`<!date^${T0 / 1000}^`);
    expect(text).toContain('<https://example.slack.com/archives/C0123/p12|see its thread>');
    expect(text).toContain('Nothing was launched');
    expect(lockHolderPlain(res.holder, res.environment)).toContain(
      "alice (Slack UALICE)'s quiet (run run-1)",
    );
  });

  test('a hostile lock item read back is not believed and not shown', async () => {
    const { locks, tableName } = await locksOn();
    await doc().send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: lockKey({ ...where, environment: 'env-a' }),
          kind: 'lock',
          runId: 'x',
          slackUserId: '<!channel>',
        },
      }),
    );
    const res = await locks.acquire(owner('run-2'), ['env-a'], { nowMs: T0, ttlSeconds: 600 });
    expect(res).toEqual({ ok: false, environment: 'env-a', holder: undefined });
    expect(lockedText(undefined, 'env-a', 'wake', 'prompt')).not.toContain('<!channel>');
  });
});
