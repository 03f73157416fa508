/**
 * What locks and the shared limit add to a request, measured on dynalite (the template's table, local
 * loopback: AWS adds its own round trip, a few milliseconds in-region, per call). The per-person limit
 * beside the in-container token bucket it replaced (one Map lookup); the locks for 1, 5 and 20
 * environments (taken at Confirm, given back at the end).
 */
import { createRateLimiter } from '../../runner/ledger/limits';
import { createLocks } from '../../runner/ledger/locks';
import { createLedgerClient } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import { startLedgerTable } from '../support/ledger-table';

export const name = 'ledger state (locks, limits)';

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms (${xs.length} calls)`;

async function timed(n: number, f: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** The replaced approach: a token bucket per key in the container's memory. */
function inMemoryBucket(perMinute: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string) => {
    const t = Date.now();
    const b = buckets.get(key) ?? { tokens: perMinute, at: t };
    b.tokens = Math.min(perMinute, b.tokens + ((t - b.at) * perMinute) / 60_000);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}

export async function run(): Promise<void> {
  const db = await startLedgerTable();
  try {
    const client = createLedgerClient(db.client);
    const base = { client, tableName: db.tableName, logger: silentLogger };
    // Warm the connection.
    const warm = createRateLimiter({ ...base, budget: 'warm', perMinute: 1e6, nowMs: Date.now });
    await timed(50, (i) => warm.take(`w${i}`));

    const bucket = inMemoryBucket(10);
    console.log(`limit, in-container bucket (before): ${fmt(await timed(500, (i) => bucket(`U${i % 20}`)))}`);
    const shared = createRateLimiter({ ...base, budget: 'commands', perMinute: 10, nowMs: Date.now });
    console.log(
      `limit, shared DynamoDB counter (now):  ${fmt(await timed(500, (i) => shared.take(`U${i % 20}`)))}`,
    );
    console.log('  (20 people, 25 requests each: most refused, which costs a second conditional write)');

    const locks = createLocks(base);
    for (const envs of [1, 5, 20]) {
      const names = Array.from({ length: envs }, (_, i) => `env-${i}`);
      const owner = (i: number) => ({
        runId: `run-${envs}-${i}`,
        action: 'quiet' as const,
        region: 'us-east-1',
        application: 'APP',
        iamUserName: 'alice',
      });
      const take = await timed(50, async (i) => {
        await locks.acquire(owner(i), names, { nowMs: Date.now(), ttlSeconds: 60 });
        await locks.release(owner(i), names);
      });
      const check = await timed(50, () =>
        locks.heldByOthers({ region: 'us-east-1', application: 'APP' }, names, Date.now()),
      );
      console.log(
        `locks, ${String(envs).padStart(2)} environments: take + give back ${fmt(take)}; prompt check ${fmt(check)}`,
      );
    }
  } finally {
    await db.close();
  }
}
