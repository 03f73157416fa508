import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { slackUserIdSchema } from '../runner/request';
import { buttonValueSchema, runIdSchema } from './actions';

/**
 * The event the bot sends to itself (Lambda `InvocationType: 'Event'`) to do slow work after the
 * HTTP acknowledgement. It is not an API Gateway event, so nothing arriving over HTTP can be one;
 * it is also signed with the Slack signing secret, so whoever may invoke the function directly
 * cannot make one up either (it would otherwise let them act as any Slack user).
 */
const commandWork = z.object({
  kind: z.literal('command'),
  runId: runIdSchema,
  slackUserId: slackUserIdSchema,
  channelId: z.string().min(1).max(64),
  responseUrl: z.url(),
  command: buttonValueSchema.omit({ v: true, runId: true }),
});

const buttonWork = z.object({
  kind: z.literal('button'),
  choice: z.enum(['confirm', 'cancel']),
  /** Who clicked: authorized again. */
  slackUserId: slackUserIdSchema,
  channelId: z.string().min(1).max(64),
  responseUrl: z.url(),
  value: buttonValueSchema,
});

export const workSchema = z.discriminatedUnion('kind', [commandWork, buttonWork]);
export type Work = z.infer<typeof workSchema>;
export type CommandWork = z.infer<typeof commandWork>;
export type ButtonWork = z.infer<typeof buttonWork>;

export const internalEventSchema = z.object({
  snowwhiteInternal: z.literal(1),
  work: workSchema,
  /** HMAC-SHA256 of the JSON of `work` with the Slack signing secret. */
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type InternalEvent = z.infer<typeof internalEventSchema>;

const macOf = (work: Work, secret: string) =>
  createHmac('sha256', secret)
    .update(`snowwhite-internal:${JSON.stringify(work)}`)
    .digest('hex');

/** Normalises `work` through its schema first, so signer and verifier hash the same key order. */
export function signWork(work: Work, secret: string): InternalEvent {
  const normal = workSchema.parse(work);
  return { snowwhiteInternal: 1, work: normal, mac: macOf(normal, secret) };
}

export const looksInternal = (event: unknown): boolean =>
  typeof event === 'object' && event !== null && 'snowwhiteInternal' in event;

/** The verified work, or why the event is refused. */
export function openInternalEvent(
  event: unknown,
  secret: string,
): { ok: true; work: Work } | { ok: false; reason: string } {
  const parsed = internalEventSchema.safeParse(event);
  if (!parsed.success) return { ok: false, reason: 'malformed internal event' };
  const expected = Buffer.from(macOf(parsed.data.work, secret), 'hex');
  const given = Buffer.from(parsed.data.mac, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'internal event signature does not match' };
  return { ok: true, work: parsed.data.work };
}
