import * as z from 'zod';
import {
  actionSchema,
  applicationNameSchema,
  envPatternSchema,
  instanceIdSchema,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  MAX_INSTANCE_IDS,
  regionSchema,
  runIdSchema,
} from '../../runner/request';

/**
 * The confirmation prompt's buttons. Their `value` carries what was asked (Slack gives it back on
 * click, at most 2,000 characters); it is validated again on the way back in, never trusted as-is.
 */
export const CONFIRM_ACTION_ID = 'snowwhite_confirm';
export const CANCEL_ACTION_ID = 'snowwhite_cancel';

export const buttonValueSchema = z.object({
  v: z.literal(1),
  runId: runIdSchema,
  action: actionSchema,
  envPattern: envPatternSchema,
  application: applicationNameSchema,
  region: regionSchema,
  /** A Retry: only these instances. */
  instanceIds: z.array(instanceIdSchema).min(1).max(MAX_INSTANCE_IDS).optional(),
  /** `--timeout`: how long the drain may wait for busy workers. */
  drainTimeoutSeconds: z.number().int().min(1).max(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
});
export type ButtonValue = z.infer<typeof buttonValueSchema>;

export const encodeButtonValue = (value: ButtonValue): string => JSON.stringify(value);

export function decodeButtonValue(raw: unknown): ButtonValue | undefined {
  if (typeof raw !== 'string' || raw.length > 2000) return undefined;
  try {
    const parsed = buttonValueSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
