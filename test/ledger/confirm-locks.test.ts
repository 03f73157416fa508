/**
 * Locks (issue 17) around the bot's own send (issue 18), through the real handler on dynalite: the
 * lock is taken before any command; a Confirm whose targets changed takes none; a send that starts
 * nothing gives the locks back; once commands are out, a failed launch keeps them.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { lockKey } from '../../runner/ledger/locks';
import { runKey } from '../../runner/ledger/schema';
import { createLedgerClient } from '../../runner/ledger/store';
import type { LedgerTable } from '../support/ledger-table';
import { useLedgerWorld } from '../support/ledger-world';
import { World } from '../bot/world';

const ctx = useLedgerWorld();
let db: LedgerTable;
let world: World;
let table: string;
beforeEach(() => ({ db, world, table } = ctx));

const lockOf = async (environment: string) =>
  (
    await createLedgerClient(db.client).send(
      new GetCommand({
        TableName: table,
        Key: { pk: lockKey({ region: 'us-east-1', application: 'MY-APP', environment }) },
      }),
    )
  ).Item;

async function prompt(text: string): Promise<string> {
  const { responseId } = await world.slash(text);
  await world.playHandoffs();
  return world.confirmValue(responseId);
}

test('the lock is held by the run when its command goes out; targets changed since the prompt: no lock, no command', async () => {
  const value = await prompt('quiet workers-prod MY-APP us-east-1');
  world.environments.push({ name: 'myapp-workers-prod-eu', instances: 2 });
  await world.click(value, 'confirm');
  await world.playHandoffs();
  expect(world.ssm.sent).toHaveLength(0);
  expect(await lockOf('myapp-workers-prod')).toBeUndefined();
  expect(await lockOf('myapp-workers-prod-eu')).toBeUndefined();

  const again = await prompt('quiet workers-prod MY-APP us-east-1');
  await world.click(again, 'confirm');
  await world.playHandoffs();
  const { runId } = JSON.parse(again) as { runId: string };
  expect(await lockOf('myapp-workers-prod')).toMatchObject({ runId, action: 'quiet' });
  expect(await lockOf('myapp-workers-prod-eu')).toMatchObject({ runId, action: 'quiet' });
  expect(world.ssm.sent.every((c) => c.comment.includes(runId))).toBe(true);
  // The run's ledger item names the commands sent for it.
  const item = (
    await createLedgerClient(db.client).send(new GetCommand({ TableName: table, Key: { pk: runKey(runId) } }))
  ).Item;
  expect([...(item?.commandIds as string[])].sort()).toEqual(world.ssm.sent.map((c) => c.commandId).sort());
});

test('a send that starts nothing gives the locks back; Confirm again takes them and sends', async () => {
  const value = await prompt('quiet workers-prod MY-APP us-east-1');
  world.ssm.failSends = 1;
  await world.click(value, 'confirm');
  await world.playHandoffs();
  expect(world.ssm.sent).toHaveLength(0);
  expect(await lockOf('myapp-workers-prod')).toBeUndefined();

  await world.click(value, 'confirm');
  await world.playHandoffs();
  expect(world.ssm.instancesSentTo()).toHaveLength(3);
  expect(world.launchedTasks).toBe(1);
});

test('commands out but the runner not launched: the locks stay (the scripts run), and Confirm again launches without sending twice', async () => {
  const value = await prompt('quiet workers-prod MY-APP us-east-1');
  world.ecsRefusals = 1;
  await world.click(value, 'confirm');
  await world.playHandoffs();
  expect(world.ssm.instancesSentTo()).toHaveLength(3);
  const { runId } = JSON.parse(value) as { runId: string };
  expect(await lockOf('myapp-workers-prod')).toMatchObject({ runId });

  await world.click(value, 'confirm');
  await world.playHandoffs();
  expect(world.launchedTasks).toBe(1);
  expect(world.ssm.instancesSentTo()).toHaveLength(3);
  expect(world.runRequestOf(world.runTaskInputs.length - 1).commands).toHaveLength(1);
});
