import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { describeError, type Logger } from '../log';
import {
  actionSchema,
  applicationNameSchema,
  iamUserNameSchema,
  regionSchema,
  runIdSchema,
  slackChannelIdSchema,
  slackTsSchema,
  slackUserIdSchema,
} from '../request';
import { environmentNameSchema, LEDGER } from './schema';

/**
 * One state-changing run per environment. A `quiet`, `stop` or `wake` takes one lock item per
 * (region, application, environment) in the ledger table before any command is sent; the run's end,
 * its cancel, or the reconciliation of a run whose task is gone releases them, and each expires on its
 * own after the run's execution timeout (by then SSM has ended the command anyway). `status` takes none.
 *
 * DynamoDB transactions would take every environment at once, but the table is also served by dynalite
 * in tests, which has none (NOTES.md): each environment is taken by its own conditional put, in sorted
 * order, and a run that meets a held lock gives back what it took in the same call before answering.
 * Two runs racing on overlapping environments may both be refused; neither ever holds a subset.
 *
 * Expiry is checked in the condition (`expiresAt`), not left to DynamoDB's TTL sweeper, which deletes
 * expired items only eventually (often days later).
 */
export const lockKey = (w: { region: string; application: string; environment: string }) =>
  `lock#${w.region}#${w.application}#${w.environment}`;

export const lockItemSchema = z.object({
  pk: z.string(),
  kind: z.literal('lock'),
  region: regionSchema,
  application: applicationNameSchema,
  environment: environmentNameSchema,
  runId: runIdSchema,
  action: actionSchema,
  iamUserName: iamUserNameSchema,
  slackUserId: slackUserIdSchema.optional(),
  /** The run's thread, once posted (a lock is taken before anything is posted). */
  channel: slackChannelIdSchema.optional(),
  threadTs: slackTsSchema.optional(),
  permalink: z.url().optional(),
  since: z.iso.datetime(),
  /** Epoch seconds: the lock no longer holds from then on (also the table's TTL attribute). */
  expiresAt: z.number().int().positive(),
});
export type LockItem = z.infer<typeof lockItemSchema>;

/** Who takes the locks: the run, as the refusal of a second run names it. */
export interface LockOwner {
  runId: string;
  action: LockItem['action'];
  region: string;
  application: string;
  iamUserName: string;
  slackUserId?: string | undefined;
}

export type AcquireResult =
  | { ok: true }
  /** `holder` is undefined when the holder could not be read back (it released in between, or a read failed). */
  | { ok: false; environment: string; holder: LockItem | undefined };

export interface Locks {
  /**
   * Takes every environment of the run for `ttlSeconds`, or none. Taking again what the same run
   * already holds succeeds (a retried Confirm), and keeps the earlier `since`.
   */
  acquire(
    owner: LockOwner,
    environments: readonly string[],
    options: { nowMs: number; ttlSeconds: number },
  ): Promise<AcquireResult>;
  /** Gives back the run's locks on these environments; a lock another run holds by now is left alone. */
  release(
    owner: Pick<LockOwner, 'runId' | 'region' | 'application'>,
    environments: readonly string[],
  ): Promise<void>;
  /** The live locks other runs hold on these environments (the prompt's check; takes nothing). */
  heldByOthers(
    where: { region: string; application: string; runId?: string },
    environments: readonly string[],
    nowMs: number,
  ): Promise<LockItem[]>;
  /** Adds the run's thread to its locks, so a refusal can link to it. */
  noteThread(
    owner: Pick<LockOwner, 'runId' | 'region' | 'application'>,
    environments: readonly string[],
    thread: { channel: string; threadTs: string; permalink?: string | undefined },
  ): Promise<void>;
}

const isConditionFailure = (err: unknown) =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

const unique = (names: readonly string[]) => [...new Set(names)].sort();

export function createLocks(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  logger: Logger;
}): Locks {
  const { client, tableName: TableName, logger } = deps;
  const key = (w: { region: string; application: string }, environment: string) => ({
    [LEDGER.partitionKey]: lockKey({ ...w, environment }),
  });

  const read = async (
    w: { region: string; application: string },
    environment: string,
  ): Promise<LockItem | undefined> => {
    const res = await client.send(
      new GetCommand({ TableName, Key: key(w, environment), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const parsed = lockItemSchema.safeParse(res.Item);
    if (!parsed.success) logger.warn('ledger_items_rejected', { count: 1, kind: 'lock', environment });
    return parsed.success ? parsed.data : undefined;
  };

  const releaseOne = async (owner: { runId: string; region: string; application: string }, env: string) => {
    try {
      await client.send(
        new DeleteCommand({
          TableName,
          Key: key(owner, env),
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': owner.runId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  };

  const locks: Locks = {
    async acquire(owner, environments, { nowMs, ttlSeconds }) {
      const nowSeconds = Math.floor(nowMs / 1000);
      const taken: string[] = [];
      for (const environment of unique(environments)) {
        const item = {
          pk: lockKey({ ...owner, environment }),
          kind: 'lock' as const,
          region: owner.region,
          application: owner.application,
          environment,
          runId: owner.runId,
          action: owner.action,
          iamUserName: owner.iamUserName,
          ...(owner.slackUserId ? { slackUserId: owner.slackUserId } : {}),
          since: new Date(nowMs).toISOString(),
          expiresAt: nowSeconds + ttlSeconds,
        };
        try {
          const res = await client.send(
            new PutCommand({
              TableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(#pk) OR expiresAt <= :now OR runId = :runId',
              ExpressionAttributeNames: { '#pk': LEDGER.partitionKey },
              ExpressionAttributeValues: { ':now': nowSeconds, ':runId': owner.runId },
              ReturnValues: 'ALL_OLD',
            }),
          );
          // Already this run's (a retry): not ours to give back if another environment is refused.
          const old = res.Attributes as { runId?: unknown; expiresAt?: unknown } | undefined;
          const wasOurs = old?.runId === owner.runId && Number(old.expiresAt) > nowSeconds;
          if (!wasOurs) taken.push(environment);
        } catch (err) {
          await rollBack(owner, taken);
          if (!isConditionFailure(err)) throw err;
          const holder = await read(owner, environment).catch((readErr: unknown) => {
            logger.warn('lock_holder_unread', { environment, error: describeError(readErr) });
            return undefined;
          });
          return { ok: false, environment, holder };
        }
      }
      return { ok: true };
    },

    async release(owner, environments) {
      for (const env of unique(environments)) await releaseOne(owner, env);
    },

    async heldByOthers(where, environments, nowMs) {
      const nowSeconds = Math.floor(nowMs / 1000);
      const found = await Promise.all(unique(environments).map((env) => read(where, env)));
      return found.filter(
        (l): l is LockItem => l !== undefined && l.expiresAt > nowSeconds && l.runId !== where.runId,
      );
    },

    async noteThread(owner, environments, thread) {
      for (const env of unique(environments)) {
        try {
          await client.send(
            new UpdateCommand({
              TableName,
              Key: key(owner, env),
              UpdateExpression: `SET channel = :c, threadTs = :t${thread.permalink ? ', permalink = :p' : ''}`,
              ConditionExpression: 'runId = :runId',
              ExpressionAttributeValues: {
                ':c': thread.channel,
                ':t': thread.threadTs,
                ':runId': owner.runId,
                ...(thread.permalink ? { ':p': thread.permalink } : {}),
              },
            }),
          );
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
    },
  };

  /** Gives back what this call took; a failure here is logged: the lock then expires on its own. */
  async function rollBack(owner: LockOwner, taken: readonly string[]): Promise<void> {
    for (const env of taken)
      await releaseOne(owner, env).catch((err: unknown) =>
        logger.error('lock_rollback_failed', {
          runId: owner.runId,
          environment: env,
          error: describeError(err),
        }),
      );
  }

  return locks;
}

/** Pure: the lock's time to live, in seconds: the run's SSM execution timeout (then SSM ends it anyway). */
export const lockTtlSeconds = (executionTimeoutSeconds: number) => executionTimeoutSeconds;

/** Pure: who holds a lock, in plain words (the command line's refusal; Slack's adds links and escaping). */
export function lockHolderPlain(holder: LockItem | undefined, environment: string): string {
  if (!holder)
    return `${environment} is locked by another run (it may just have ended: try again in a moment)`;
  const who = holder.slackUserId ? `${holder.iamUserName} (Slack ${holder.slackUserId})` : holder.iamUserName;
  const thread = holder.permalink ? `, thread ${holder.permalink}` : '';
  return `${environment} is locked by ${who}'s ${holder.action} (run ${holder.runId}) since ${holder.since}${thread}`;
}
