/** The send claims (runner/ledger/sends.ts) on dynalite, with the table the stack creates. */
import { createLedgerClient } from '../../runner/ledger/store';
import {
  createSendClaims,
  memorySendClaims,
  SEND_CLAIM_STALE_MS,
  type SendClaims,
} from '../../runner/ledger/sends';
import { startLedgerTable, type LedgerTable } from '../support/ledger-table';

let db: LedgerTable;
beforeAll(async () => {
  db = await startLedgerTable();
});
afterAll(() => db.close());

const sent = {
  commands: [
    { commandId: '0b7e1a52-5f0c-4d2e-9d55-2f1c0e6a8b11', environment: 'myapp-workers', instances: 3 },
  ],
  unreachable: [
    { instanceId: 'i-0aaaaaaaaaaaaaaa9', environment: 'myapp-workers', reason: 'SSM agent is Inactive' },
  ],
};
const T = 1_800_000_000_000;

async function claims(): Promise<SendClaims> {
  return createSendClaims({ client: createLedgerClient(db.client), tableName: await db.fresh() });
}

describe('send claims in the ledger', () => {
  test('one attempt claims; a second while it sends stays out; once sent, every later attempt follows the same commands', async () => {
    const c = await claims();
    expect(await c.claim('run-1', 'a1', T)).toEqual({ kind: 'claimed', takeover: false });
    expect(await c.claim('run-1', 'a2', T + 1_000)).toEqual({ kind: 'busy', sinceMs: T });
    await c.recordSent('run-1', 'a1', sent);
    expect(await c.claim('run-1', 'a3', T + 2_000)).toEqual({ kind: 'sent', sent });
    await c.recordLaunched('run-1', 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/abc');
    expect(await c.claim('run-1', 'a4', T + 3_000)).toEqual({
      kind: 'sent',
      sent,
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/abc',
    });
    // Another run is another claim.
    expect(await c.claim('run-2', 'b1', T)).toEqual({ kind: 'claimed', takeover: false });
  });

  test('an attempt that died mid-send is taken over once stale, told to look its commands up first; the dead one can no longer record', async () => {
    const c = await claims();
    await c.claim('run-1', 'a1', T);
    expect(await c.claim('run-1', 'a2', T + SEND_CLAIM_STALE_MS - 1)).toMatchObject({ kind: 'busy' });
    expect(await c.claim('run-1', 'a2', T + SEND_CLAIM_STALE_MS)).toEqual({
      kind: 'claimed',
      takeover: true,
    });
    await expect(c.recordSent('run-1', 'a1', sent)).rejects.toThrow(/conditional/i);
    await c.recordSent('run-1', 'a2', sent);
    expect(await c.claim('run-1', 'a3', T + SEND_CLAIM_STALE_MS + 1)).toMatchObject({ kind: 'sent' });
  });

  test('released when nothing was sent: Confirm again claims anew; a release by another attempt does nothing', async () => {
    const c = await claims();
    await c.claim('run-1', 'a1', T);
    await c.release('run-1', 'someone-else');
    expect(await c.claim('run-1', 'a2', T + 1)).toMatchObject({ kind: 'busy' });
    await c.release('run-1', 'a1');
    expect(await c.claim('run-1', 'a3', T + 2)).toEqual({ kind: 'claimed', takeover: false });
    // Once sent, a release changes nothing.
    await c.recordSent('run-1', 'a3', sent);
    await c.release('run-1', 'a3');
    expect(await c.claim('run-1', 'a4', T + 3)).toMatchObject({ kind: 'sent' });
  });
});

describe('send claims in memory (no ledger table)', () => {
  test('every first claim looks the commands up (another container may have sent them); repeats here follow', async () => {
    const c = memorySendClaims();
    expect(await c.claim('run-1', 'a1', T)).toEqual({ kind: 'claimed', takeover: true });
    expect(await c.claim('run-1', 'a2', T + 1)).toMatchObject({ kind: 'busy' });
    await c.recordSent('run-1', 'a1', sent);
    expect(await c.claim('run-1', 'a3', T + 2)).toEqual({ kind: 'sent', sent });
  });

  test('bounded: the oldest claims are forgotten first', async () => {
    const c = memorySendClaims(SEND_CLAIM_STALE_MS, 2);
    await c.claim('run-1', 'a', T);
    await c.claim('run-2', 'a', T);
    await c.claim('run-3', 'a', T);
    expect(await c.claim('run-1', 'b', T + 1)).toEqual({ kind: 'claimed', takeover: true });
    expect(await c.claim('run-3', 'b', T + 1)).toMatchObject({ kind: 'busy' });
  });
});
