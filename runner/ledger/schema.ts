import * as z from 'zod';
import { OUTCOME_KINDS } from '../drain/outcome';
import {
  actionSchema,
  commandIdSchema,
  applicationNameSchema,
  commandFieldsShape,
  iamUserNameSchema,
  regionSchema,
  runIdSchema,
  slackChannelIdSchema,
  slackTsSchema,
  slackUserIdSchema,
} from '../request';

/**
 * The ledger: one DynamoDB table holding every run and the state each Elastic Beanstalk environment
 * was left in. The key design lives here because the construct (infra/fleet-memory.ts) creates the
 * table from it and the bot and the runner read and write it.
 *
 * - Table key `pk` (string): `run#<runId>` for a run, `fleet#<region>#<application>#<environment>` for
 *   a fleet (the environment name has no `#`, so the last part is unambiguous).
 * - GSI `notAwake` (pk `gsiNotAwake`, sk `since`): sparse, only fleets left quiet or stopped carry
 *   `gsiNotAwake`; Home and the reminder check read it whole (a handful of items).
 * - GSI `byUser` (pk `gsiUser`, sk `startedAt`): a person's runs, newest first.
 * - GSI `recent` (pk `gsiRecent` = "run", sk `startedAt`): the workspace's runs, newest first. One
 *   partition for every run is fine at tens of runs a day (a GSI partition takes 1,000 writes a second).
 * Items read back are parsed with the schemas below: the table is outside input like any other.
 */
export const LEDGER = {
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  indexes: {
    notAwake: { name: 'notAwake', partitionKey: 'gsiNotAwake', sortKey: 'since' },
    byUser: { name: 'byUser', partitionKey: 'gsiUser', sortKey: 'startedAt' },
    recent: { name: 'recent', partitionKey: 'gsiRecent', sortKey: 'startedAt' },
  },
} as const;

/** Run items expire 90 days after their last write (TTL); fleet items only once awake. */
export const RUN_RETENTION_SECONDS = 90 * 24 * 3600;

export const NOT_AWAKE = 'fleet';
export const RECENT = 'run';

export const runKey = (runId: string) => `run#${runId}`;
export const fleetKey = (f: { region: string; application: string; environment: string }) =>
  `fleet#${f.region}#${f.application}#${f.environment}`;
/** Runs of the command line carry no Slack id: they are listed under the IAM user. */
export const userKey = (who: { slackUserId?: string | undefined; iamUserName: string }) =>
  who.slackUserId ?? `iam:${who.iamUserName}`;

export const RUN_STATES = ['launched', 'running', 'finished', 'interrupted', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];
/**
 * `possibly_quiet`: a quiet or stop that was cancelled, interrupted or died: some workers may be quiet,
 * nobody knows which. Shown and reminded like quiet (with Wake): waking an awake worker costs a restart,
 * forgetting a quiet one costs a growing queue.
 */
export const FLEET_STATES = ['quiet', 'stopped', 'awake', 'possibly_quiet'] as const;
export type FleetState = (typeof FLEET_STATES)[number];

const isoTime = z.iso.datetime();
/** Elastic Beanstalk environment names: 4–40 letters, digits and hyphens. */
export const environmentNameSchema = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);

export const runItemSchema = z.object({
  pk: z.string(),
  kind: z.literal('run'),
  runId: runIdSchema,
  ...commandFieldsShape,
  iamUserName: iamUserNameSchema,
  slackUserId: slackUserIdSchema.optional(),
  channel: slackChannelIdSchema.optional(),
  threadTs: slackTsSchema.optional(),
  permalink: z.url().optional(),
  taskArn: z.string().max(2048).optional(),
  state: z.enum(RUN_STATES),
  startedAt: isoTime,
  updatedAt: isoTime,
  endedAt: isoTime.optional(),
  environments: z.array(environmentNameSchema).max(500).optional(),
  /** The environments whose locks the run holds (locks.ts), given back when it ends. */
  locked: z.array(environmentNameSchema).max(500).optional(),
  /** The SSM commands the bot sent for the run (the runner follows these). */
  commandIds: z.array(commandIdSchema).max(200).optional(),
  instances: z.number().int().min(0).optional(),
  counts: z.partialRecord(z.enum(OUTCOME_KINDS), z.number().int().min(0)).optional(),
  exitCode: z.number().int().optional(),
  error: z.string().max(500).optional(),
  cancelledBy: slackUserIdSchema.optional(),
  expiresAt: z.number().int().positive(),
});
export type RunItem = z.infer<typeof runItemSchema>;

export const fleetItemSchema = z.object({
  pk: z.string(),
  kind: z.literal('fleet'),
  region: regionSchema,
  application: applicationNameSchema,
  environment: environmentNameSchema,
  state: z.enum(FLEET_STATES),
  /** When the run that left it in this state ended. */
  since: isoTime,
  runId: runIdSchema,
  /** When that run started: a fleet's state is only replaced by a run that started later (or the same). */
  runStartedAt: isoTime.optional(),
  action: actionSchema,
  iamUserName: iamUserNameSchema,
  slackUserId: slackUserIdSchema.optional(),
  channel: slackChannelIdSchema.optional(),
  threadTs: slackTsSchema.optional(),
  permalink: z.url().optional(),
  /** Reminder bookkeeping: reset by every state change (the item is rewritten whole). */
  lastReminderAt: isoTime.optional(),
  reminders: z.number().int().min(0).optional(),
  gsiNotAwake: z.literal(NOT_AWAKE).optional(),
  /** When the reconciliation found its environment terminated (it then left the not-awake list). */
  goneAt: isoTime.optional(),
  expiresAt: z.number().int().positive().optional(),
});
export type FleetItem = z.infer<typeof fleetItemSchema>;

/** Parses items read back; one bad item is dropped (and counted), never allowed to break a view. */
export function parseItems<S extends z.ZodType>(
  schema: S,
  items: readonly unknown[] | undefined,
): { items: z.output<S>[]; rejected: number } {
  const out: z.output<S>[] = [];
  let rejected = 0;
  for (const item of items ?? []) {
    const parsed = schema.safeParse(item);
    if (parsed.success) out.push(parsed.data);
    else rejected++;
  }
  return { items: out, rejected };
}

/** LEDGER_TABLE_NAME, read by the bot and the runner; unset: no ledger, everything else works as before. */
export const ledgerSettingsShape = {
  LEDGER_TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (not an ARN)')
    .optional(),
};
