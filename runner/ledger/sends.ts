import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { runIdSchema, sentCommandSchema, unreachableInstanceSchema, type SentCommand } from '../request';
import { LEDGER, RUN_RETENTION_SECONDS } from './schema';

/**
 * SSM has no client token: sending a run's commands twice runs the script twice on every instance
 * (for wake, a second restart can kill the fresh worker the first started). So a run's send is
 * claimed first, conditionally, in one item per run (`send#<runId>`): a double click, a second
 * delivery of the same asynchronous event, or a retry in a fresh container finds the claim and either
 * follows the commands already sent or stays out. A claim whose attempt died mid-send (older than
 * `staleAfterMs`) is taken over, and its batches are looked up by their Comment before anything is
 * sent again (runner/aws/ssm-executor/dispatch.ts, `lookUpFirst`).
 */
export interface SendClaims {
  claim(runId: string, attempt: string, nowMs: number): Promise<SendClaim>;
  /** The commands are out: recorded for every later attempt (and the run's record). */
  recordSent(runId: string, attempt: string, sent: SentRecord): Promise<void>;
  /** The runner was launched for them. */
  recordLaunched(runId: string, taskArn: string): Promise<void>;
  /** Nothing was sent (a refusal, an error before any command): pressing Confirm again may send. */
  release(runId: string, attempt: string): Promise<void>;
}

export type SendClaim =
  /** This attempt sends; `takeover`: an earlier attempt died mid-send, so look before sending. */
  | { kind: 'claimed'; takeover: boolean }
  /** Already sent by an earlier attempt: follow these, send nothing. */
  | { kind: 'sent'; sent: SentRecord; taskArn?: string }
  /** Another attempt is sending right now. */
  | { kind: 'busy'; sinceMs: number };

export interface SentRecord {
  commands: SentCommand[];
  unreachable: z.infer<typeof unreachableInstanceSchema>[];
}

export const sendKey = (runId: string) => `send#${runId}`;

const sendItemSchema = z.object({
  pk: z.string(),
  kind: z.literal('send'),
  runId: runIdSchema,
  state: z.enum(['sending', 'sent']),
  attempt: z.string().min(1).max(64),
  claimedAt: z.number().int(),
  commands: z.array(sentCommandSchema).optional(),
  unreachable: z.array(unreachableInstanceSchema).optional(),
  taskArn: z.string().max(2048).optional(),
  expiresAt: z.number().int(),
});

/** Longer than the bot's function timeout: an attempt still running is never taken over. */
export const SEND_CLAIM_STALE_MS = 150_000;

const isConditionFailure = (err: unknown) =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

export function createSendClaims(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  staleAfterMs?: number;
}): SendClaims {
  const { client, tableName: TableName } = deps;
  const staleAfterMs = deps.staleAfterMs ?? SEND_CLAIM_STALE_MS;
  const Key = (runId: string) => ({ [LEDGER.partitionKey]: sendKey(runId) });
  return {
    async claim(runId, attempt, nowMs) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              pk: sendKey(runId),
              kind: 'send',
              runId,
              state: 'sending',
              attempt,
              claimedAt: nowMs,
              expiresAt: Math.floor(nowMs / 1000) + RUN_RETENTION_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': LEDGER.partitionKey },
          }),
        );
        return { kind: 'claimed', takeover: false };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const res = await client.send(new GetCommand({ TableName, Key: Key(runId), ConsistentRead: true }));
      const item = sendItemSchema.safeParse(res.Item);
      if (!item.success) throw new Error(`the ledger's send record of run ${runId} is unreadable`);
      const found = item.data;
      if (found.state === 'sent')
        return {
          kind: 'sent',
          sent: { commands: found.commands ?? [], unreachable: found.unreachable ?? [] },
          ...(found.taskArn ? { taskArn: found.taskArn } : {}),
        };
      if (nowMs - found.claimedAt < staleAfterMs) return { kind: 'busy', sinceMs: found.claimedAt };
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: Key(runId),
            UpdateExpression: 'SET attempt = :attempt, claimedAt = :now',
            ConditionExpression: 'attempt = :old AND #state = :sending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':attempt': attempt,
              ':now': nowMs,
              ':old': found.attempt,
              ':sending': 'sending',
            },
          }),
        );
        return { kind: 'claimed', takeover: true };
      } catch (err) {
        if (isConditionFailure(err)) return { kind: 'busy', sinceMs: nowMs };
        throw err;
      }
    },

    async recordSent(runId, attempt, sent) {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: Key(runId),
          UpdateExpression: 'SET #state = :sent, commands = :commands, unreachable = :unreachable',
          ConditionExpression: 'attempt = :attempt',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':sent': 'sent',
            ':commands': sent.commands,
            ':unreachable': sent.unreachable,
            ':attempt': attempt,
          },
        }),
      );
    },

    async recordLaunched(runId, taskArn) {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: Key(runId),
          UpdateExpression: 'SET taskArn = :task',
          ConditionExpression: '#state = :sent',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':task': taskArn, ':sent': 'sent' },
        }),
      );
    },

    async release(runId, attempt) {
      try {
        await client.send(
          new DeleteCommand({
            TableName,
            Key: Key(runId),
            ConditionExpression: 'attempt = :attempt AND #state = :sending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':attempt': attempt, ':sending': 'sending' },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    },
  };
}

/**
 * The same claims in this container's memory, for a stack without the ledger table: a double click
 * or a repeated delivery to the same container is caught here; one served by another container is
 * caught by the look-up of the run's commands by Comment, which every first claim asks for. Only two
 * containers sending the same run at the very same moment slip by: the ledger is what closes that.
 */
export function memorySendClaims(staleAfterMs = SEND_CLAIM_STALE_MS, capacity = 1000): SendClaims {
  const items = new Map<
    string,
    { attempt: string; claimedAt: number; sent?: SentRecord; taskArn?: string }
  >();
  return {
    async claim(runId, attempt, nowMs) {
      const found = items.get(runId);
      if (!found) {
        items.set(runId, { attempt, claimedAt: nowMs });
        // Bounded: the oldest claims go first (a prompt is good for 15 minutes anyway).
        while (items.size > capacity) items.delete(items.keys().next().value!);
        // Another container may have sent this run already: always look its commands up first.
        return { kind: 'claimed', takeover: true };
      }
      if (found.sent)
        return { kind: 'sent', sent: found.sent, ...(found.taskArn ? { taskArn: found.taskArn } : {}) };
      if (nowMs - found.claimedAt < staleAfterMs) return { kind: 'busy', sinceMs: found.claimedAt };
      items.set(runId, { attempt, claimedAt: nowMs });
      return { kind: 'claimed', takeover: true };
    },
    async recordSent(runId, attempt, sent) {
      const found = items.get(runId);
      if (found?.attempt === attempt) found.sent = sent;
    },
    async recordLaunched(runId, taskArn) {
      const found = items.get(runId);
      if (found?.sent) found.taskArn = taskArn;
    },
    async release(runId, attempt) {
      if (items.get(runId)?.attempt === attempt && !items.get(runId)?.sent) items.delete(runId);
    },
  };
}
