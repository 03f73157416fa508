import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { proofKey } from '../../bot/cli/proof-replay';
import { createLedgerClient } from '../../runner/ledger/store';
import { identityProofSchema, IDENTITY_PROOF_HEADER } from '../../runner/identity-proof';
import type { LedgerTable } from '../support/ledger-table';
import { useLedgerWorld } from '../support/ledger-world';
import { ecsMock, World } from '../bot/world';

/**
 * A command-line identity proof is good for one request in every container: the bot records each
 * accepted proof in the ledger table (dynalite, the template's table), conditionally, with a TTL.
 */
const ctx = useLedgerWorld();
let db: LedgerTable;
let world: World;
let table: string;
beforeEach(() => ({ db, world, table } = ctx));

const body = JSON.stringify({
  action: 'status',
  envPattern: 'staging',
  application: 'MY-APP',
  region: 'us-east-1',
});

test('a proof accepted by one container is refused by another (a replay), and its record expires with it', async () => {
  const event = await world.cliEvent(body, 'arn:aws:iam::123456789012:user/alice');
  const first = (await world.newContainer({ LEDGER_TABLE_NAME: table })(event, {})) as { statusCode: number };
  expect(first.statusCode).toBe(200);
  const replay = (await world.newContainer({ LEDGER_TABLE_NAME: table })(event, {})) as {
    statusCode: number;
    body: string;
  };
  expect(replay.statusCode).toBe(401);
  expect(JSON.parse(replay.body)).toMatchObject({ detail: 'identity proof was already used' });
  expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);

  const proof = identityProofSchema.parse(
    JSON.parse(
      Buffer.from(
        String((event.headers as Record<string, string>)[IDENTITY_PROOF_HEADER]),
        'base64',
      ).toString('utf8'),
    ),
  );
  const signature = /Signature=([0-9a-f]{64})$/.exec(proof.headers.authorization!)![1]!;
  const item = (
    await createLedgerClient(db.client).send(
      new GetCommand({ TableName: table, Key: { pk: proofKey(signature) } }),
    )
  ).Item;
  expect(item).toMatchObject({ kind: 'proof' });
  const expiresIn = Number(item!.expiresAt) - Date.now() / 1000;
  expect(expiresIn).toBeGreaterThan(4 * 60);
  expect(expiresIn).toBeLessThanOrEqual(6 * 60 + 1);
});

test('a fresh proof from the same caller for the same request is accepted', async () => {
  const handler = world.newContainer({ LEDGER_TABLE_NAME: table });
  const arn = 'arn:aws:iam::123456789012:user/alice';
  expect(((await handler(await world.cliEvent(body, arn), {})) as { statusCode: number }).statusCode).toBe(
    200,
  );
  const later = await world.cliEvent(body, arn, new Date(Date.now() + 1000));
  expect(((await handler(later, {})) as { statusCode: number }).statusCode).toBe(200);
});
