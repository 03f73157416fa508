import * as z from 'zod';
import { ACTIONS } from '../ssm/actions';

// The run request: what the bot (or the `snowwhite` command line) asks the runner to do.
// It crosses a process boundary (ECS container overrides), so it is validated on both sides.

export const actionSchema = z.enum(ACTIONS);

/** Regions where Elastic Beanstalk, SSM and Fargate all run (commercial, GovCloud, China). */
export const AWS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
] as const;

export const regionSchema = z.enum(AWS_REGIONS, {
  error: (issue) => `"${String(issue.input)}" is not an AWS region (for example us-east-1, eu-west-1)`,
});

/** An Elastic Beanstalk environment name (4–40 letters, digits, hyphens) or id (`e-…`), or a part of one. */
const ENV_WORD = '[A-Za-z0-9-]{1,40}';
/** The exact form's prefix: `=NAME[,NAME…]` names environments (by name or id), never a pattern. */
export const EXACT_TARGETS_PREFIX = '=';
/** Environments one exact form names at most (a button value must stay under 2,000 characters). */
export const MAX_EXACT_TARGETS = 20;

/**
 * Which environments a run acts on: a pattern (part of the name, case-insensitive), or the exact form
 * `=NAME[,NAME…]`: exactly those environments, by name (case-insensitive) or id.
 */
export const envPatternSchema = z
  .string()
  .regex(
    new RegExp(`^(?:${ENV_WORD}|=${ENV_WORD}(?:,${ENV_WORD}){0,${MAX_EXACT_TARGETS - 1}})$`),
    `targets: part of an environment name (1–40 letters, digits, hyphens), or =NAME[,NAME…] (at most ${MAX_EXACT_TARGETS})`,
  );

/** Pure: the exact form naming these environments, or undefined when there are too many for one. */
export function exactTargets(names: readonly string[]): string | undefined {
  const unique = [...new Set(names)].sort();
  if (unique.length === 0 || unique.length > MAX_EXACT_TARGETS) return undefined;
  return `${EXACT_TARGETS_PREFIX}${unique.join(',')}`;
}

/** Elastic Beanstalk application names: 1–100 characters, no slash. Slack splits words on spaces. */
export const applicationNameSchema = z
  .string()
  .min(1, 'the application name is missing')
  .max(100, 'an Elastic Beanstalk application name has at most 100 characters')
  .regex(/^[^/\s]+$/, 'an Elastic Beanstalk application name cannot contain "/" or spaces');

export const slackUserIdSchema = z
  .string()
  .regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id starts with U or W followed by capitals and digits');

/** IAM user names: 1–64 of letters, digits and + = , . @ _ - */
export const iamUserNameSchema = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'not a valid IAM user name');

export const SLACK_CHANNEL_ID_PATTERN = /^[CGD][A-Z0-9]{2,}$/;
export const slackChannelIdSchema = z.string().regex(SLACK_CHANNEL_ID_PATTERN, 'not a Slack channel id');
export const slackTsSchema = z.string().regex(/^\d+\.\d+$/, 'not a Slack message timestamp');

/** SSM's own ceiling for a Run Command execution timeout. */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172_800;
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 3_600;
export const DEFAULT_EXECUTION_TIMEOUT_SECONDS = 7_200;
/**
 * How much longer SSM must let the script run than the drain may last: `stop` shuts down and watches
 * a heartbeat after the drain (a minute or more), and the last JSON line must still be written.
 */
export const MIN_EXECUTION_MARGIN_SECONDS = 300;
/** What the execution timeout defaults to beyond the drain: the minimum margin, with room to spare. */
export const EXECUTION_MARGIN_SECONDS = 600;
export const MAX_DRAIN_TIMEOUT_SECONDS = MAX_EXECUTION_TIMEOUT_SECONDS - EXECUTION_MARGIN_SECONDS;

/** Pure: the execution timeout a drain timeout needs (raised with it, never below the default). */
export const executionTimeoutFor = (drainTimeoutSeconds: number): number =>
  Math.min(
    MAX_EXECUTION_TIMEOUT_SECONDS,
    Math.max(DEFAULT_EXECUTION_TIMEOUT_SECONDS, drainTimeoutSeconds + EXECUTION_MARGIN_SECONDS),
  );

/**
 * Pure: `90`, `90s`, `15m`, `4h` (any case) → seconds; undefined for anything else. Bounds are the
 * caller's to check, so it can say which.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,7})([smh]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[m[2]!.toLowerCase() as '' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export const instanceIdSchema = z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'not an EC2 instance id');
/** Instances one run may be narrowed to (Retry): a button value must stay under 2,000 characters. */
export const MAX_INSTANCE_IDS = 80;

/** Ties the Slack thread, the ECS task, the SSM commands and the logs together. */
export const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a run id is 1–64 letters, digits, "-" or "_"');

/** Instances one run is narrowed to (Retry on those that failed). */
export const instanceIdsSchema = z.array(instanceIdSchema).min(1).max(MAX_INSTANCE_IDS);

/** SSM command ids (UUIDs on AWS): letters, digits and hyphens only, so they are safe in links and text. */
export const commandIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not an SSM command id');
/**
 * An environment's name as Elastic Beanstalk gave it (4–40 letters, digits and hyphens there): bounded,
 * never interpreted, escaped wherever it is shown.
 */
export const environmentNameSchema = z.string().min(1).max(100);

/**
 * A command the bot has already sent for the run: one environment's batch of at most 50 instances.
 * The runner takes the instance ids from SSM (the command's invocations), not from here: the run
 * request travels in ECS container overrides, which hold 8 KB.
 */
export const sentCommandSchema = z.object({
  commandId: commandIdSchema,
  environment: environmentNameSchema,
  instances: z.number().int().min(1).max(50),
});
export type SentCommand = z.infer<typeof sentCommandSchema>;

/** A confirmed instance the bot sent nothing to: SSM could not reach it (reported, never waited on). */
export const unreachableInstanceSchema = z.object({
  /** As Elastic Beanstalk names it (not necessarily an EC2 id: on-premises, test fleets). */
  instanceId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not an instance id'),
  environment: environmentNameSchema,
  reason: z.string().max(120),
});

/**
 * What a command names — the action and where it runs — as the run request, the confirmation
 * prompt's buttons and the runner's request buttons all carry it: spread into their `z.object`s.
 */
export const commandFieldsShape = {
  action: actionSchema,
  envPattern: envPatternSchema,
  application: applicationNameSchema,
  region: regionSchema,
};

/** Without an execution timeout, a long drain gets one long enough for it. */
const withExecutionTimeoutDefault = (raw: unknown): unknown => {
  if (typeof raw !== 'object' || raw === null) return raw;
  const r = raw as Record<string, unknown>;
  if (r.executionTimeoutSeconds !== undefined || typeof r.drainTimeoutSeconds !== 'number') return raw;
  return {
    ...r,
    executionTimeoutSeconds: executionTimeoutFor(r.drainTimeoutSeconds),
  };
};

const runRequestObject = z
  .object({
    runId: runIdSchema,
    ...commandFieldsShape,
    requestedBy: z.object({
      iamUserName: iamUserNameSchema,
      slackUserId: slackUserIdSchema.optional(),
    }),
    /** Where the run was announced; the runner replies in that thread. Absent for command-line runs. */
    slack: z
      .object({
        channel: slackChannelIdSchema,
        threadTs: slackTsSchema,
      })
      .optional(),
    /** Only these instances of the matched environments (Retry on those that failed). */
    instanceIds: instanceIdsSchema.optional(),
    /**
     * The SSM commands the bot sent to exactly the confirmed instances: the runner follows these and
     * never resolves the pattern or sends anything itself. Absent only in requests the runner refuses.
     */
    commands: z.array(sentCommandSchema).min(1).max(200).optional(),
    /** Confirmed instances SSM could not reach, so nothing was sent to them. */
    unreachable: z.array(unreachableInstanceSchema).max(100).optional(),
    drainTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXECUTION_TIMEOUT_SECONDS)
      .default(DEFAULT_DRAIN_TIMEOUT_SECONDS),
    executionTimeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(MAX_EXECUTION_TIMEOUT_SECONDS)
      .default(DEFAULT_EXECUTION_TIMEOUT_SECONDS),
  })
  .refine((r) => r.executionTimeoutSeconds >= r.drainTimeoutSeconds + MIN_EXECUTION_MARGIN_SECONDS, {
    message: `executionTimeoutSeconds must exceed drainTimeoutSeconds by at least ${MIN_EXECUTION_MARGIN_SECONDS} s, or SSM kills the drain (or stop's shutdown) first`,
    path: ['executionTimeoutSeconds'],
  });

export const runRequestSchema = z.preprocess(withExecutionTimeoutDefault, runRequestObject);

/** What a caller writes (defaults optional). */
export type RunRequestInput = z.input<typeof runRequestObject>;
/** What the runner works with (defaults filled in). */
export type RunRequest = z.output<typeof runRequestObject>;

export class RunRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid run request: ${problems.join('; ')}`);
    this.name = 'RunRequestError';
  }
}

/** Parses the JSON text of a run request (as it arrives in the runner's environment). */
export function parseRunRequest(json: string | undefined): RunRequest {
  if (json === undefined || json.trim() === '') throw new RunRequestError(['the run request is empty']);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new RunRequestError(['the run request is not valid JSON']);
  }
  const parsed = runRequestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RunRequestError(
      parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}
