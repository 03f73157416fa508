import { createLedger, createLedgerClient, type Ledger } from '../../runner/ledger/store';
import { silentLogger } from '../../runner/log';
import { World } from '../bot/world';
import { startLedgerTable, type LedgerTable } from './ledger-table';

/** What a ledger test works with; its fields are new for each test. */
export interface LedgerWorld {
  /** dynalite, one for the whole file. */
  db: LedgerTable;
  /** A fresh table, created from the synthesized template. */
  table: string;
  /** The bot's world, its ledger in that table. */
  world: World;
  /** The same table through the ledger's own store, as the runner writes it. */
  ledger: Ledger;
}

/**
 * The jest hooks most ledger tests share: dynalite for the file, then a fresh table and a fresh bot
 * world on it for each test, stopped after it. Read the fields inside a test or a later hook.
 */
export function useLedgerWorld(): LedgerWorld {
  const ctx = {} as LedgerWorld;
  beforeAll(async () => {
    ctx.db = await startLedgerTable();
  });
  afterAll(() => ctx.db.close());
  beforeEach(async () => {
    ctx.table = await ctx.db.fresh();
    ctx.world = await World.start({ LEDGER_TABLE_NAME: ctx.table }, { dynamodb: ctx.db.client });
    ctx.ledger = createLedger({
      client: createLedgerClient(ctx.db.client),
      tableName: ctx.table,
      logger: silentLogger,
    });
  });
  afterEach(() => ctx.world.stop());
  return ctx;
}
