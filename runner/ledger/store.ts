import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { awsRetryConfig } from '../aws/clients';
import { describeError, type Logger } from '../log';
import type { RunRequest } from '../request';
import { expiresAtFor, runIdentity } from './items';
import {
  fleetItemSchema,
  LEDGER,
  NOT_AWAKE,
  parseItems,
  RECENT,
  runItemSchema,
  runKey,
  type FleetItem,
  type RunItem,
} from './schema';

/**
 * The ledger's DynamoDB adapter, shared by the bot and the runner. Every read is a Query on the
 * table's key or one of its indexes (schema.ts), never a Scan. Writes throw; callers that must go
 * on regardless wrap them in `writeOrLog`.
 */
export interface Ledger {
  /** The bot's write at launch; `exists` when the run is already there (a replayed launch). */
  recordLaunch(item: RunItem): Promise<'written' | 'exists'>;
  markRunning(
    request: RunRequest,
    plan: { environments: string[]; instances: number },
    nowMs: number,
  ): Promise<void>;
  /** The run's end; returns the item as it now is (its permalink, written by the bot). */
  recordEnd(request: RunRequest, end: RunEnd, nowMs: number): Promise<RunItem | undefined>;
  /** The run as it now is, or undefined when it was no longer launched or running. */
  markCancelled(runId: string, by: string, nowMs: number): Promise<RunItem | undefined>;
  /**
   * Marks a run whose task is gone `interrupted` (the reconciliation), only while it is still
   * launched or running; the run as it now is, or undefined when it had ended meanwhile.
   */
  markInterrupted(runId: string, reason: string, nowMs: number): Promise<RunItem | undefined>;
  /** One run, read back (parsed), or undefined. */
  getRun(runId: string): Promise<RunItem | undefined>;
  /**
   * Takes a fleet whose environment is gone (terminated) off the not-awake list, while it is still in
   * the state (and run) it was read in; it then expires like a run. False when it had changed.
   */
  dropGoneFleet(fleet: FleetItem, nowMs: number): Promise<boolean>;
  /** Writes a fleet's state unless a later state is already there; false when it was. */
  putFleetState(item: FleetItem): Promise<boolean>;
  notAwakeFleets(): Promise<FleetItem[]>;
  recentRuns(limit: number): Promise<RunItem[]>;
  runsOf(userKey: string, limit: number): Promise<RunItem[]>;
  runsOfApplication(application: string, limit: number): Promise<RunItem[]>;
  /** Runs launched or running that started within `windowSeconds`. */
  runsInProgress(nowMs: number, windowSeconds: number): Promise<RunItem[]>;
  /**
   * Claims the right to remind about `fleet` now: true at most once per `everySeconds`, and only while
   * the fleet is still in the state (and run) it was read in. Claimed before posting, so two checks
   * running at once never both post.
   */
  claimReminder(fleet: FleetItem, nowMs: number, everySeconds: number): Promise<boolean>;
}

export interface RunEnd {
  state: 'finished' | 'interrupted';
  counts?: Partial<Record<string, number>>;
  exitCode?: number;
  error?: string;
}

/** The DynamoDB client for the ledger: the one retry policy, with fewer attempts and bounded waits. */
export function ledgerDynamoDbClient(): DynamoDBClient {
  // A lost ledger write must not hold a command or a drain up for long.
  return new DynamoDBClient({
    ...awsRetryConfig(4),
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
  });
}

/** The document client over it (plain JS values in and out). */
export function createLedgerClient(client: DynamoDBClient = ledgerDynamoDbClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const isConditionFailure = (err: unknown) =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

/** Page limits: Home and reminders read a few items; these only bound a runaway. */
const MAX_FLEETS = 500;
const HISTORY_PAGE = 200;
const HISTORY_PAGES = 5;
/** How many of the workspace's newest runs a history filtered by application looks through, at most. */
export const HISTORY_SEARCHED_RUNS = HISTORY_PAGE * HISTORY_PAGES;

export function createLedger(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  logger: Logger;
}): Ledger {
  const { client, tableName: TableName, logger } = deps;
  const iso = (ms: number) => new Date(ms).toISOString();

  const query = async <T>(
    schema: typeof runItemSchema | typeof fleetItemSchema,
    input: Omit<QueryCommandInput, 'TableName'>,
    options: { want: number; pages: number },
  ): Promise<T[]> => {
    const out: T[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    for (let page = 0; page < options.pages && out.length < options.want; page++) {
      const res = await client.send(new QueryCommand({ TableName, ...input, ExclusiveStartKey }));
      const parsed = parseItems(schema, res.Items);
      if (parsed.rejected)
        logger.warn('ledger_items_rejected', { count: parsed.rejected, index: input.IndexName });
      out.push(...(parsed.items as T[]));
      ExclusiveStartKey = res.LastEvaluatedKey;
      if (!ExclusiveStartKey) break;
    }
    return out.slice(0, options.want);
  };
  const newestRuns = (index: 'byUser' | 'recent', key: string) => ({
    IndexName: LEDGER.indexes[index].name,
    KeyConditionExpression: '#k = :k',
    ExpressionAttributeNames: { '#k': LEDGER.indexes[index].partitionKey },
    ExpressionAttributeValues: { ':k': key },
    ScanIndexForward: false,
  });

  /** SET for each field; `if_not_exists` for those a later writer must not move (first launch time). */
  const update = (fields: Record<string, unknown>, keepFirst: Record<string, unknown> = {}) => {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    let i = 0;
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
      i++;
    }
    for (const [name, value] of Object.entries(keepFirst)) {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = if_not_exists(#f${i}, :f${i})`);
      i++;
    }
    return { UpdateExpression: `SET ${sets.join(', ')}`, names, values };
  };

  /** Ends a run still launched or running; undefined when it was not (ended already, or unknown). */
  const endRun = async (
    runId: string,
    UpdateExpression: string,
    values: Record<string, unknown>,
  ): Promise<RunItem | undefined> => {
    try {
      const res = await client.send(
        new UpdateCommand({
          TableName,
          Key: { [LEDGER.partitionKey]: runKey(runId) },
          UpdateExpression,
          ConditionExpression: '#state IN (:launched, :running)',
          ExpressionAttributeNames: {
            '#state': 'state',
            ...(UpdateExpression.includes('#error') ? { '#error': 'error' } : {}),
          },
          ExpressionAttributeValues: { ...values, ':launched': 'launched', ':running': 'running' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const parsed = runItemSchema.safeParse(res.Attributes);
      if (!parsed.success) logger.warn('ledger_items_rejected', { count: 1, runId });
      return parsed.success ? parsed.data : undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  };

  return {
    async recordLaunch(item) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': LEDGER.partitionKey },
          }),
        );
        return 'written';
      } catch (err) {
        if (isConditionFailure(err)) return 'exists';
        throw err;
      }
    },

    async markRunning(request, plan, nowMs) {
      const { pk, ...identity } = runIdentity(request);
      const u = update(
        {
          ...identity,
          state: 'running',
          updatedAt: iso(nowMs),
          environments: plan.environments,
          instances: plan.instances,
          expiresAt: expiresAtFor(nowMs),
        },
        { startedAt: iso(nowMs) },
      );
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: { [LEDGER.partitionKey]: pk },
            UpdateExpression: u.UpdateExpression,
            // A run never goes back to running once it ended (a late or repeated write).
            ConditionExpression: 'attribute_not_exists(#state) OR #state IN (:launched, :running)',
            ExpressionAttributeNames: { ...u.names, '#state': 'state' },
            ExpressionAttributeValues: { ...u.values, ':launched': 'launched', ':running': 'running' },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    },

    async recordEnd(request, end, nowMs) {
      const { pk, ...identity } = runIdentity(request);
      const u = update(
        {
          ...identity,
          state: end.state,
          updatedAt: iso(nowMs),
          endedAt: iso(nowMs),
          counts: end.counts,
          exitCode: end.exitCode,
          error: end.error?.slice(0, 500),
          expiresAt: expiresAtFor(nowMs),
        },
        { startedAt: iso(nowMs) },
      );
      try {
        const res = await client.send(
          new UpdateCommand({
            TableName,
            Key: { [LEDGER.partitionKey]: pk },
            UpdateExpression: u.UpdateExpression,
            // Cancelled (by the bot) stays cancelled when the stopped runner reports its end, however
            // it ended; and an end already recorded (the reconciliation's `interrupted`) is not moved
            // back by a late one, except to `finished`, which has the outcomes.
            ConditionExpression:
              end.state === 'finished'
                ? 'attribute_not_exists(#state) OR #state <> :cancelled'
                : 'attribute_not_exists(#state) OR #state IN (:launched, :running)',
            ExpressionAttributeValues: {
              ...u.values,
              ...(end.state === 'finished'
                ? { ':cancelled': 'cancelled' }
                : { ':launched': 'launched', ':running': 'running' }),
            },
            ExpressionAttributeNames: { ...u.names, '#state': 'state' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const parsed = runItemSchema.safeParse(res.Attributes);
        return parsed.success ? parsed.data : undefined;
      } catch (err) {
        if (isConditionFailure(err)) return undefined;
        throw err;
      }
    },

    async markCancelled(runId, by, nowMs) {
      return endRun(runId, 'SET #state = :end, cancelledBy = :by, updatedAt = :now, endedAt = :now', {
        ':end': 'cancelled',
        ':by': by,
        ':now': iso(nowMs),
      });
    },

    async markInterrupted(runId, reason, nowMs) {
      return endRun(runId, 'SET #state = :end, #error = :why, updatedAt = :now, endedAt = :now', {
        ':end': 'interrupted',
        ':why': reason.slice(0, 500),
        ':now': iso(nowMs),
      });
    },

    async getRun(runId) {
      const res = await client.send(
        new GetCommand({ TableName, Key: { [LEDGER.partitionKey]: runKey(runId) }, ConsistentRead: true }),
      );
      if (!res.Item) return undefined;
      const parsed = runItemSchema.safeParse(res.Item);
      if (!parsed.success) logger.warn('ledger_items_rejected', { count: 1, runId });
      return parsed.success ? parsed.data : undefined;
    },

    async dropGoneFleet(fleet, nowMs) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: { [LEDGER.partitionKey]: fleet.pk },
            UpdateExpression: 'SET expiresAt = :exp, goneAt = :now REMOVE gsiNotAwake',
            ConditionExpression: 'runId = :runId AND #state = :state',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':exp': expiresAtFor(nowMs),
              ':now': iso(nowMs),
              ':runId': fleet.runId,
              ':state': fleet.state,
            },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async putFleetState(item) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: item,
            // Ordered by when the runs started, not when they ended: a quiet that started before a
            // wake but ended after it must not mark the woken fleet quiet again.
            ...(item.runStartedAt
              ? {
                  ConditionExpression: 'attribute_not_exists(#pk) OR attribute_not_exists(#rs) OR #rs <= :rs',
                  ExpressionAttributeNames: { '#pk': LEDGER.partitionKey, '#rs': 'runStartedAt' },
                  ExpressionAttributeValues: { ':rs': item.runStartedAt },
                }
              : {
                  ConditionExpression:
                    'attribute_not_exists(#pk) OR (attribute_not_exists(#rs) AND #since <= :since)',
                  ExpressionAttributeNames: {
                    '#pk': LEDGER.partitionKey,
                    '#since': 'since',
                    '#rs': 'runStartedAt',
                  },
                  ExpressionAttributeValues: { ':since': item.since },
                }),
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    notAwakeFleets: () =>
      query<FleetItem>(
        fleetItemSchema,
        {
          IndexName: LEDGER.indexes.notAwake.name,
          KeyConditionExpression: '#k = :k',
          ExpressionAttributeNames: { '#k': LEDGER.indexes.notAwake.partitionKey },
          ExpressionAttributeValues: { ':k': NOT_AWAKE },
        },
        { want: MAX_FLEETS, pages: 10 },
      ),

    recentRuns: (limit) =>
      query<RunItem>(
        runItemSchema,
        { ...newestRuns('recent', RECENT), Limit: limit },
        { want: limit, pages: 1 },
      ),

    runsOf: (key, limit) =>
      query<RunItem>(
        runItemSchema,
        { ...newestRuns('byUser', key), Limit: limit },
        { want: limit, pages: 1 },
      ),

    runsOfApplication: (application, limit) => {
      // The newest runs, filtered: a few pages at most, so a rarely used application costs a bounded read.
      const base = newestRuns('recent', RECENT);
      return query<RunItem>(
        runItemSchema,
        {
          ...base,
          FilterExpression: '#app = :app',
          ExpressionAttributeNames: { ...base.ExpressionAttributeNames, '#app': 'application' },
          ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':app': application },
          Limit: HISTORY_PAGE,
        },
        { want: limit, pages: HISTORY_PAGES },
      );
    },

    runsInProgress: (nowMs, windowSeconds) =>
      query<RunItem>(
        runItemSchema,
        {
          IndexName: LEDGER.indexes.recent.name,
          KeyConditionExpression: '#k = :k AND #t >= :from',
          FilterExpression: '#state IN (:launched, :running)',
          ExpressionAttributeNames: {
            '#k': LEDGER.indexes.recent.partitionKey,
            '#t': LEDGER.indexes.recent.sortKey,
            '#state': 'state',
          },
          ExpressionAttributeValues: {
            ':k': RECENT,
            ':from': iso(nowMs - windowSeconds * 1000),
            ':launched': 'launched',
            ':running': 'running',
          },
          ScanIndexForward: false,
        },
        { want: 50, pages: 5 },
      ),

    async claimReminder(fleet, nowMs, everySeconds) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: { [LEDGER.partitionKey]: fleet.pk },
            UpdateExpression: 'SET lastReminderAt = :now, reminders = if_not_exists(reminders, :zero) + :one',
            ConditionExpression:
              'runId = :runId AND #state = :state AND (attribute_not_exists(lastReminderAt) OR lastReminderAt <= :cutoff)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':now': iso(nowMs),
              ':zero': 0,
              ':one': 1,
              ':runId': fleet.runId,
              ':state': fleet.state,
              ':cutoff': iso(nowMs - everySeconds * 1000),
            },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },
  };
}

/**
 * Runs a ledger write that must not stop anything (a launch, a drain): the SDK has retried it;
 * if it still fails, it is logged as lost, with the run id, and the caller goes on.
 */
export async function writeOrLog<T>(
  logger: Logger,
  runId: string,
  what: string,
  write: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await write();
  } catch (err) {
    logger.error('ledger_write_lost', { runId, write: what, error: describeError(err) });
    return undefined;
  }
}
