import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import {
  commandFieldsShape,
  instanceIdsSchema,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  runIdSchema,
} from '../../runner/request';
import { decodeButtonValue } from '../../runner/slack/buttons';
import { previewBindingSchema } from '../deferred/preview-binding';

/** The confirmation prompt's buttons. */
export const CONFIRM_ACTION_ID = 'snowwhite_confirm';
export const CANCEL_ACTION_ID = 'snowwhite_cancel';

/**
 * What a confirmation prompt's button carries in its `value`: what was asked (Slack gives it back
 * on click, at most 2,000 characters). It is validated again on the way back in, never trusted as-is.
 */
export const buttonValueSchema = z.object({
  v: z.literal(1),
  runId: runIdSchema,
  ...commandFieldsShape,
  /** A Retry: only these instances. */
  instanceIds: instanceIdsSchema.optional(),
  /** `--timeout`: how long the drain may wait for busy workers. */
  drainTimeoutSeconds: z.number().int().min(1).max(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
  /** What the prompt showed (environments, instance digests): Confirm acts only on exactly that. */
  previewed: previewBindingSchema,
});
export type ButtonValue = z.infer<typeof buttonValueSchema>;

/**
 * A prompt is good for 15 minutes: a Confirm pressed days later would act on whatever matches then,
 * and after ECS's 24-hour client-token window a click served by another container would launch a
 * second runner.
 */
export const BUTTON_MAX_AGE_SECONDS = 15 * 60;
const CLOCK_SKEW_SECONDS = 60;

const sealedSchema = buttonValueSchema.extend({
  /** Seconds since the epoch when the prompt was issued. */
  iat: z.number().int().positive(),
  /** HMAC-SHA256 of `iat` and the value, with the Slack signing secret. */
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

const macOf = (value: ButtonValue, iat: number, secret: string) =>
  createHmac('sha256', secret)
    .update(`snowwhite-button:${iat}:${JSON.stringify(buttonValueSchema.parse(value))}`)
    .digest('hex');

/** The button's `value`: what was asked, when, signed, so that a click can be neither forged nor kept. */
export function sealButtonValue(value: ButtonValue, secret: string, nowSeconds: number): string {
  const normal = buttonValueSchema.parse(value);
  const iat = Math.floor(nowSeconds);
  return JSON.stringify({ ...normal, iat, mac: macOf(normal, iat, secret) });
}

export type OpenedButton =
  { ok: true; value: ButtonValue } | { ok: false; reason: 'invalid' | 'forged' | 'expired'; runId?: string };

export function openButtonValue(raw: unknown, secret: string, nowSeconds: number): OpenedButton {
  const sealed = decodeButtonValue(sealedSchema, raw);
  if (!sealed) return { ok: false, reason: 'invalid' };
  const { iat, mac, ...value } = sealed;
  const expected = Buffer.from(macOf(value, iat, secret), 'hex');
  const given = Buffer.from(mac, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'forged' };
  const age = nowSeconds - iat;
  if (age > BUTTON_MAX_AGE_SECONDS || age < -CLOCK_SKEW_SECONDS)
    return { ok: false, reason: 'expired', runId: value.runId };
  return { ok: true, value };
}
