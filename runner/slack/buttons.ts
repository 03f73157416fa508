import * as z from 'zod';
import { commandFieldsShape, instanceIdsSchema, runIdSchema } from '../request';

// Buttons that messages outside the confirmation prompt carry (run summaries and progress posted by
// the runner; App Home and reminders posted by the bot). The bot handles their clicks; the ids and
// value shapes live here because the runner, which cannot import the bot, posts them too. Slack
// returns `value` on click (at most 2,000 characters); it is parsed again, never trusted as is.

/** A request button's action id (Wake, Retry, Status); the bot also accepts it with a suffix (`:wake`). */
export const REQUEST_ACTION_ID = 'snowwhite_request';
/** Cancel a run in progress (stops its runner task after authorizing the clicker for the run's action). */
export const CANCEL_RUN_ACTION_ID = 'snowwhite_cancel_run';

/**
 * A request button's value. The button acts exactly like the clicker typing the command: it is
 * authorized for the person who clicked and leads to the usual confirmation prompt, so its value
 * needs no signature.
 */
export const requestButtonValueSchema = z.object({
  v: z.literal(1),
  ...commandFieldsShape,
  /** Retry: only these instances of the matched environments. */
  instanceIds: instanceIdsSchema.optional(),
});
export type RequestButtonValue = z.infer<typeof requestButtonValueSchema>;

export const cancelRunButtonValueSchema = z.object({
  v: z.literal(1),
  runId: runIdSchema,
  ...commandFieldsShape,
  /** The runner's ECS task; the bot checks it is a Snow White runner of this run before stopping it. */
  taskArn: z
    .string()
    .regex(/^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task\/[\w-]+\/[0-9a-f]{32}$/, 'not an ECS task ARN'),
});
export type CancelRunButtonValue = z.infer<typeof cancelRunButtonValueSchema>;

/** Slack keeps at most this many characters of a button's value. */
export const MAX_BUTTON_VALUE_CHARS = 2000;

export const encodeButtonValue = (value: object): string => JSON.stringify(value);

/** The value parsed by `schema`, or undefined for anything else (too long, not JSON, wrong shape). */
export function decodeButtonValue<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_BUTTON_VALUE_CHARS) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
