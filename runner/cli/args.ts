import { parseArgs } from 'node:util';
import { DEFAULT_STACK_NAME } from '../stack-outputs';
import * as z from 'zod';
import {
  actionSchema,
  applicationNameSchema,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  envPatternSchema,
  executionTimeoutFor,
  MAX_DRAIN_TIMEOUT_SECONDS,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  parseDuration,
  regionSchema,
} from '../request';
import { formatDuration } from '../slack/text';

export const USAGE = `usage: snowwhite <quiet|stop|wake|status> <env-pattern> <eb-application> [<region>] [options]
       snowwhite help | --version

Quiets, stops, wakes or inspects the Sidekiq workers of every Elastic Beanstalk environment of
<eb-application> whose name contains <env-pattern>, by launching the Snow White runner on Fargate.
It first lists the environments and instances it would act on and asks before launching.
<region>: the fleet's AWS region; without it AWS_REGION, AWS_DEFAULT_REGION, then your AWS profile's.

options:
  --yes                    launch without asking (needed when stdin is not a terminal)
  --dry-run                show what would be done, launch nothing
  --follow                 after launching on Fargate, show the runner's progress and summary until it ends
  --json                   one JSON event per line on stdout, then the summary object (for scripts)
  --local                  run the runner in this process against the Sidekiq processes of this host's
                           PID namespace (no AWS or Slack needed; other containers' are left alone)
  --timeout <duration>     how long to wait for jobs in flight: 90, 90s, 15m or 4h (default 1h,
                           at most ${formatDuration(MAX_DRAIN_TIMEOUT_SECONDS * 1000)}); the execution timeout is raised with it
  --execution-timeout <s>  seconds before SSM stops the command (default: --timeout + 10m, at least
                           7200, at most ${MAX_EXECUTION_TIMEOUT_SECONDS})
  --stack <name>           CloudFormation stack whose outputs name the runner (default SnowWhite);
                           RUNNER_CLUSTER, RUNNER_TASK_DEFINITION_ARN, RUNNER_SUBNET_IDS and
                           RUNNER_SECURITY_GROUP_IDS in the environment take precedence
  --match <ere>            with --local: only Sidekiq processes whose title matches
  --service <unit>         with --local: the systemd unit that runs Sidekiq
  --restart-command <cmd>  with --local wake: how to restart Sidekiq when there is no systemd unit
  -h, --help               this help
  --version                the version of snowwhite

exit codes: 0 done · 2 some workers still busy at the deadline · 1 failure (a quiet or stop that
found no Sidekiq at all, a declined launch) · 64 usage error (no --yes without a terminal included)`;

/** Appended to every usage error: one line, not the whole help again. */
export const SEE_HELP = "see 'snowwhite --help'";

const seconds = (max: number, what = 'seconds') =>
  z.coerce
    .number({ error: `must be a number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .min(1, 'must be at least 1 second')
    .max(max, `must be at most ${max} seconds`);

/** `90`, `90s`, `15m`, `4h`, as Slack's `--timeout` takes it; bounded so the execution timeout can follow. */
const durationSchema = z.string().transform((text, ctx) => {
  const value = parseDuration(text);
  if (value === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text.slice(0, 40)}" is not a duration: use seconds, minutes or hours, for example 90, 90s, 15m or 4h`,
    });
    return z.NEVER;
  }
  if (value < 1 || value > MAX_DRAIN_TIMEOUT_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      message: `must be between 1s and ${formatDuration(MAX_DRAIN_TIMEOUT_SECONDS * 1000)} (${MAX_DRAIN_TIMEOUT_SECONDS} seconds)`,
    });
    return z.NEVER;
  }
  return value;
});

/** Slack accepts any case for the action and the region; so does the command line. */
const lowerCase = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

const cliSchema = z
  .object({
    action: z.preprocess(lowerCase, actionSchema),
    envPattern: envPatternSchema,
    application: applicationNameSchema,
    /** Absent: found later from the environment or the AWS profile (see regions.ts). */
    region: z.preprocess(lowerCase, regionSchema).optional(),
    local: z.boolean(),
    follow: z.boolean(),
    yes: z.boolean(),
    dryRun: z.boolean(),
    json: z.boolean(),
    drainTimeoutSeconds: durationSchema.optional(),
    executionTimeoutSeconds: seconds(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
    stack: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'is not a CloudFormation stack name'),
    match: z.string().min(1).optional(),
    service: z
      .string()
      .regex(/^[\w@.:-]+$/, 'is not a systemd unit name')
      .optional(),
    restartCommand: z.string().min(1).optional(),
  })
  .refine((o) => !(o.local && o.follow), {
    message: '--follow goes with a Fargate run, not --local',
    path: ['follow'],
  })
  .refine((o) => !(o.local && o.dryRun), {
    message: '--dry-run goes with a Fargate run; `snowwhite status … --local` changes nothing',
    path: ['dryRun'],
  })
  .refine(
    (o) => o.local || (o.match === undefined && o.service === undefined && o.restartCommand === undefined),
    {
      message: '--match, --service and --restart-command go with --local (on AWS the SSM documents decide)',
      path: ['local'],
    },
  )
  .refine(
    (o) =>
      o.executionTimeoutSeconds === undefined ||
      o.executionTimeoutSeconds > (o.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS),
    {
      message: 'must be longer than --timeout, or SSM stops the script before the drain ends',
      path: ['executionTimeoutSeconds'],
    },
  )
  // The drain timeout raises the execution timeout with it (as Slack's --timeout does): 8000 s works.
  .transform((o) => ({
    ...o,
    ...(o.drainTimeoutSeconds !== undefined && o.executionTimeoutSeconds === undefined
      ? { executionTimeoutSeconds: executionTimeoutFor(o.drainTimeoutSeconds) }
      : {}),
  }));

export type CliOptions = z.output<typeof cliSchema>;

export type ParsedCli =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: CliOptions }
  | { kind: 'error'; message: string };

const FIELD_NAMES: Record<string, string> = {
  action: '<action>',
  envPattern: '<env-pattern>',
  application: '<eb-application>',
  region: '<region>',
  drainTimeoutSeconds: '--timeout',
  executionTimeoutSeconds: '--execution-timeout',
  stack: '--stack',
  service: '--service',
  follow: '--follow',
  dryRun: '--dry-run',
  local: '--local',
};

/** Pure: parses the command line; never throws: errors come back as one line for the user. */
export function parseCli(argv: string[]): ParsedCli {
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (e) {
    // node's parseArgs names the unknown or malformed option.
    return { kind: 'error', message: (e as Error).message.replace(/\. To specify a positional.*$/s, '') };
  }
  const { values, positionals } = parsed;
  if (values.help || (positionals.length === 1 && positionals[0]!.toLowerCase() === 'help'))
    return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length < 3 || positionals.length > 4) {
    return {
      kind: 'error',
      message:
        positionals.length < 3
          ? `expected <action> <env-pattern> <eb-application> [<region>], got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`
          : `too many arguments: ${positionals.slice(4).join(' ')}`,
    };
  }
  const [action, envPattern, application, region] = positionals;
  const result = cliSchema.safeParse({
    action,
    envPattern,
    application,
    region,
    local: values.local ?? false,
    follow: values.follow ?? false,
    yes: values.yes ?? false,
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    drainTimeoutSeconds: values.timeout,
    executionTimeoutSeconds: values['execution-timeout'],
    stack: values.stack ?? DEFAULT_STACK_NAME,
    match: values.match,
    service: values.service,
    restartCommand: values['restart-command'],
  });
  if (!result.success) {
    // The first problem only: one line the person can act on, then the next run shows the next.
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const message =
      key === 'action'
        ? `unknown action "${String(action).slice(0, 40)}" (quiet, stop, wake or status)`
        : key === 'region' // as typed, not as lower-cased for the check
          ? `<region>: "${String(region).slice(0, 40)}" is not an AWS region (for example us-east-1, eu-west-1)`
          : issue.message.startsWith('--') // a rule across options names them itself
            ? issue.message
            : `${FIELD_NAMES[key] ?? key}: ${issue.message}`;
    return { kind: 'error', message };
  }
  return { kind: 'run', options: result.data };
}

function parseRaw(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      local: { type: 'boolean' },
      follow: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      'execution-timeout': { type: 'string' },
      stack: { type: 'string' },
      match: { type: 'string' },
      service: { type: 'string' },
      'restart-command': { type: 'string' },
    },
  });
}
