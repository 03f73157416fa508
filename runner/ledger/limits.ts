import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeError, type Logger } from '../log';
import { LEDGER } from './schema';

/**
 * A per-person budget of requests per minute, kept in the ledger table so that every Lambda
 * container and every door (typed commands, buttons, App Home, history, the command line) draws on
 * the same one. One item per (budget, person, minute): a conditional counter (`ADD`), refused once it
 * reaches the limit, gone by TTL a minute after its window. A minute is a calendar minute: a burst
 * across a minute's edge can reach twice the budget within a few seconds, never more.
 *
 * When the table does not answer, the request goes ahead (logged): the limit is a brake on floods of
 * IAM simulations and Fargate tasks, not a safety rule (locks are, and they refuse instead).
 */
export interface RateLimiter {
  /**
   * Takes one request from `key`'s budget. Refused: how long until the next window, and whether this
   * is the first refusal of the window (the one worth telling the person about; later ones are quiet).
   */
  take(key: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; firstRefusal: boolean }>;
}

export const limitKey = (budget: string, key: string, windowStartSeconds: number) =>
  `limit#${budget}#${key}#${windowStartSeconds}`;

const WINDOW_SECONDS = 60;

const isConditionFailure = (err: unknown) =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

export function createRateLimiter(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  logger: Logger;
  /** Which budget (`commands`, `home`): each has its own counters. */
  budget: string;
  perMinute: number;
  nowMs: () => number;
}): RateLimiter {
  const { client, tableName: TableName, logger, budget, perMinute } = deps;
  return {
    async take(key) {
      const now = deps.nowMs() / 1000;
      const start = Math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS;
      const Key = { [LEDGER.partitionKey]: limitKey(budget, key, start) };
      const retryAfterSeconds = Math.max(1, Math.ceil(start + WINDOW_SECONDS - now));
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key,
            UpdateExpression: 'SET kind = :kind, expiresAt = :exp ADD n :one',
            ConditionExpression: 'attribute_not_exists(n) OR n < :max',
            ExpressionAttributeValues: {
              ':kind': 'limit',
              ':exp': start + 2 * WINDOW_SECONDS,
              ':one': 1,
              ':max': perMinute,
            },
          }),
        );
        return { ok: true };
      } catch (err) {
        if (!isConditionFailure(err)) {
          logger.warn('rate_limit_unavailable', { budget, error: describeError(err) });
          return { ok: true };
        }
      }
      // Over the budget: only the first refusal of the window is marked for telling.
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key,
            UpdateExpression: 'SET told = :true',
            ConditionExpression: 'attribute_not_exists(told)',
            ExpressionAttributeValues: { ':true': true },
          }),
        );
        return { ok: false, retryAfterSeconds, firstRefusal: true };
      } catch (err) {
        if (!isConditionFailure(err))
          logger.warn('rate_limit_unavailable', { budget, error: describeError(err) });
        return { ok: false, retryAfterSeconds, firstRefusal: false };
      }
    },
  };
}
