import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { applicationNameSchema, runIdSchema, slackUserIdSchema } from '../../runner/request';
import { cancelRunButtonValueSchema } from '../../runner/slack/buttons';
import { buttonValueSchema } from '../slack/buttons';

/** Lambda delivers async events within seconds; retries (off for this function) within minutes. */
export const INTERNAL_EVENT_MAX_AGE_SECONDS = 15 * 60;
const CLOCK_SKEW_SECONDS = 60;
const commandWork = z.object({
  kind: z.literal('command'),
  runId: runIdSchema,
  slackUserId: slackUserIdSchema,
  channelId: z.string().min(1).max(64),
  responseUrl: z.url(),
  command: buttonValueSchema.omit({ v: true, runId: true, previewed: true }),
});

/**
 * A click on a Wake, Retry or Status button: handled as if the clicker had typed the command. From
 * App Home there is no response URL: the answers (the prompt among them) go to the clicker's direct
 * messages with the app, and `channelId` is the clicker's user id.
 */
const requestWork = commandWork.extend({ kind: z.literal('request'), responseUrl: z.url().optional() });

const buttonWork = z.object({
  kind: z.literal('button'),
  choice: z.enum(['confirm', 'cancel']),
  /** Who clicked: authorized again. */
  slackUserId: slackUserIdSchema,
  channelId: z.string().min(1).max(64),
  responseUrl: z.url(),
  value: buttonValueSchema,
});

/**
 * A click on a run's Cancel (progress message or App Home). `reply` is absent for App Home, whose
 * clicks carry no response_url: the answer then goes by direct message.
 */
const cancelWork = z.object({
  kind: z.literal('cancel'),
  slackUserId: slackUserIdSchema,
  reply: z.object({ channelId: z.string().min(1).max(64), responseUrl: z.url() }).optional(),
  value: cancelRunButtonValueSchema,
});

/** Someone opened the Home tab: read the ledger, publish their view. */
const homeWork = z.object({ kind: z.literal('home'), slackUserId: slackUserIdSchema });

/** `/snowwhite history [application]`: answered only to the asker. */
const historyWork = z.object({
  kind: z.literal('history'),
  slackUserId: slackUserIdSchema,
  channelId: z.string().min(1).max(64),
  responseUrl: z.url(),
  application: applicationNameSchema.optional(),
});

export const workSchema = z.discriminatedUnion('kind', [
  commandWork,
  requestWork,
  buttonWork,
  cancelWork,
  homeWork,
  historyWork,
]);
export type Work = z.infer<typeof workSchema>;
export type HomeWork = z.infer<typeof homeWork>;
export type HistoryWork = z.infer<typeof historyWork>;
export type CommandWork = z.infer<typeof commandWork> | z.infer<typeof requestWork>;
export type ButtonWork = z.infer<typeof buttonWork>;
export type CancelWork = z.infer<typeof cancelWork>;

/**
 * The event the bot sends to itself (Lambda `InvocationType: 'Event'`) to do slow work after the
 * HTTP acknowledgement. It is not an API Gateway event, so nothing arriving over HTTP can be one;
 * it is also signed with the Slack signing secret, so whoever may invoke the function directly
 * cannot make one up either (it would otherwise let them act as any Slack user). The signature
 * covers when it was issued, so a captured event cannot be replayed later (after ECS's 24-hour
 * client-token window it would start a second runner).
 */
export const internalEventSchema = z.object({
  snowwhiteInternal: z.literal(1),
  work: workSchema,
  /** Seconds since the epoch when the bot signed it. */
  issuedAt: z.number().int().positive(),
  /** HMAC-SHA256 of `issuedAt` and the JSON of `work`, with the Slack signing secret. */
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type InternalEvent = z.infer<typeof internalEventSchema>;

const macOf = (work: Work, issuedAt: number, secret: string) =>
  createHmac('sha256', secret)
    .update(`snowwhite-internal:${issuedAt}:${JSON.stringify(work)}`)
    .digest('hex');

/** Normalises `work` through its schema first, so signer and verifier hash the same key order. */
export function signWork(work: Work, secret: string, nowSeconds: number): InternalEvent {
  const normal = workSchema.parse(work);
  const issuedAt = Math.floor(nowSeconds);
  return { snowwhiteInternal: 1, work: normal, issuedAt, mac: macOf(normal, issuedAt, secret) };
}

export const looksInternal = (event: unknown): boolean =>
  typeof event === 'object' && event !== null && 'snowwhiteInternal' in event;

/** The verified work, or why the event is refused. */
export function openInternalEvent(
  event: unknown,
  secret: string,
  nowSeconds: number,
): { ok: true; work: Work } | { ok: false; reason: string } {
  const parsed = internalEventSchema.safeParse(event);
  if (!parsed.success) return { ok: false, reason: 'malformed internal event' };
  const { work, issuedAt, mac } = parsed.data;
  const expected = Buffer.from(macOf(work, issuedAt, secret), 'hex');
  const given = Buffer.from(mac, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'internal event signature does not match' };
  const age = nowSeconds - issuedAt;
  if (age > INTERNAL_EVENT_MAX_AGE_SECONDS)
    return { ok: false, reason: `internal event is stale (${Math.round(age)} s old)` };
  if (age < -CLOCK_SKEW_SECONDS) return { ok: false, reason: 'internal event is dated in the future' };
  return { ok: true, work };
}
