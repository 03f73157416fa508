import { parseArgs } from 'node:util';
import * as z from 'zod';
import { ACTIONS, type Action } from '../../ssm/actions';
import { EXIT_CODES } from '../drain/outcome';
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
  slackUserIdSchema,
} from '../request';
import { formatDuration } from '../slack/text';

const ACTIONS_LINE = 'quiet|stop|wake|status';

/** The exit-code table for the help (the same table as EXIT_CODES and the README). */
export const EXIT_CODES_TEXT = [
  `${EXIT_CODES.done} done`,
  `${EXIT_CODES.failed} failed (an instance, AWS, a declined launch)`,
  `${EXIT_CODES.deadline} jobs still running at the drain timeout`,
  `${EXIT_CODES.refused} refused, nothing done (by the script or the bot)`,
  `${EXIT_CODES.scriptMissing} sidekiqctl.sh not found`,
  `${EXIT_CODES.usage} usage error`,
  `${EXIT_CODES.interrupted} interrupted`,
].join(' · ');

export const USAGE = `usage: snowwhite <${ACTIONS_LINE}> <env-pattern> <eb-application> [<region>] [options]
       snowwhite <${ACTIONS_LINE}> --local [options]
       snowwhite history [<eb-application>] · setup · doctor · manifest
       snowwhite help [<action>] · version

Quiets, stops, wakes or inspects the Sidekiq workers of every Elastic Beanstalk environment of
<eb-application> whose name contains <env-pattern>: it lists the environments and instances it would
act on, asks, then asks the deployed Snow White bot to launch the run (which it authorizes as it
would you in Slack). With --local it acts on this host's Sidekiq processes instead.
<region>: the fleet's AWS region (or --region); without it AWS_REGION, AWS_DEFAULT_REGION, then your
AWS profile's.

options:
  --yes, -y                launch without asking (needed when stdin is not a terminal)
  --dry-run                show what would be done, launch nothing
  --follow                 after launching, show the runner's progress and summary until it ends
  --json                   one JSON object per line on stdout (events, then the summary; errors too)
  --timeout <duration>     how long to wait for jobs in flight: 90, 90s, 15m or 4h (default 1h,
                           at most ${formatDuration(MAX_DRAIN_TIMEOUT_SECONDS * 1000)}); the execution timeout is raised with it
  --execution-timeout <d>  a duration before SSM stops the command (default: --timeout + 10m, at
                           least 2h, at most ${formatDuration(MAX_EXECUTION_TIMEOUT_SECONDS * 1000)})
  --profile <name>         the AWS profile (else AWS_PROFILE; SSO profiles work: \`aws sso login\` first)
  --region <region>        the fleet's region (the same as the 4th argument)
  --stack <name>           the Snow White stack (default SnowWhite, or what \`snowwhite setup\` saved)
  --stack-region <region>  the stack's region when it is not your profile's (\`snowwhite setup\` saves it)
  --local                  act on the Sidekiq processes of this host's PID namespace, through
                           ssm/sidekiqctl.sh (no AWS or Slack; <env-pattern>, <eb-application> and
                           <region> are optional and only name the run)
  --match <ere>            with --local: only Sidekiq processes whose title matches
  --service <unit>         with --local: the systemd unit that runs Sidekiq
  --supervisor <sup>       with --local stop/wake: who restarts Sidekiq: systemd:UNIT,
                           supervisord:PROGRAM, runit:DIR or none
  --restart-command <cmd>  with --local wake: how to restart Sidekiq when nothing supervises it
  --force                  with --local wake: restart quiet workers even while they still run jobs
                           (Sidekiq pushes those jobs back to Redis)
  -h, --help               this help; \`snowwhite help <action>\` for one action
  -v, --version            the version of snowwhite

exit codes: ${EXIT_CODES_TEXT}`;

/** `snowwhite help <action>`: what one action does and the options it takes. */
export const ACTION_HELP: Record<Command, string> = {
  quiet: `usage: snowwhite quiet <env-pattern> <eb-application> [<region>] [--timeout 4h] [--yes] [--follow] [--json]
       snowwhite quiet --local [--match ERE] [--timeout 4h]
Every Sidekiq process stops taking new jobs and finishes those it runs; nothing is shut down, and
queued jobs stay in Redis. Waits until every process is idle, or until --timeout (default 1h): workers
still busy then are left running and reported (exit ${EXIT_CODES.deadline}). Undo with \`snowwhite wake\`.`,
  stop: `usage: snowwhite stop <env-pattern> <eb-application> [<region>] [--timeout 4h] [--yes] [--follow] [--json]
       snowwhite stop --local [--match ERE] [--timeout 4h] [--supervisor SUP | --service UNIT]
Quiets, waits until idle, then shuts Sidekiq down through its supervisor (systemd, supervisord, runit,
sidekiqswarm); never kills a busy worker. Refused (exit ${EXIT_CODES.refused}) when the supervisor cannot be driven
or also runs other programs: the reason names what would help. Workers stay down until \`snowwhite wake\`.`,
  wake: `usage: snowwhite wake <env-pattern> <eb-application> [<region>] [--yes] [--follow] [--json]
       snowwhite wake --local [--match ERE] [--supervisor SUP | --service UNIT] [--restart-command CMD] [--force]
Restarts quiet and stopped Sidekiq processes that are idle; awake ones are left alone. A quiet process
still running jobs is refused (exit ${EXIT_CODES.refused}) unless --force. Without a supervisor, --restart-command says
how to start Sidekiq again.`,
  status: `usage: snowwhite status <env-pattern> <eb-application> [<region>] [--json]
       snowwhite status --local [--match ERE]
Reports which Sidekiq processes are quiet, awake and busy, per instance. Changes nothing.`,
  history: `usage: snowwhite history [<eb-application>] [--json] [--profile P] [--stack S] [--stack-region R]
The last 10 runs (of one application, or all), as Slack's \`/snowwhite history\` shows them: asked of
the deployed bot, which authorizes you as for a run.`,
  setup: `usage: snowwhite setup [--stack NAME] [--stack-region REGION] [--profile P]
Finds the Snow White stack (in --stack-region, else your profile's region) and saves its name and
region in ~/.config/snowwhite/config.json, so later commands find it whatever your profile's region.`,
  doctor: `usage: snowwhite doctor [--application APP --region REGION] [--member SLACK_ID] [--json]
Checks a deployed stack the way a run would fail, one line per check (✔ or ✘ and what to do): the
stack and its outputs; the SSM documents in every fleet region; with --application, that every
instance of its environments is online in SSM; the Slack secret set and the bot token's scopes; the
reminder rule enabled; with --member, that exactly one IAM user carries that Slack id.`,
  manifest: `usage: snowwhite manifest [--without-events]
Prints the Slack app manifest for the deployed stack (its request URL filled in), to paste into
https://api.slack.com/apps → Create New App → From a manifest. Changes no file.
--without-events leaves out the Events API subscription: Slack verifies that URL with a request signed
with the app's signing secret, which the bot can check only once the secret holds it. Create the app
with this, put the secret in, then paste the full manifest into the app's App Manifest page.`,
};

/** Appended to every usage error: one line, not the whole help again. */
export const SEE_HELP = "see 'snowwhite --help'";

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

/** `90`, `15m`, `4h` for the execution timeout too (it took seconds only while --timeout took 4h). */
const executionDurationSchema = z.string().transform((text, ctx) => {
  const value = parseDuration(text);
  if (value === undefined || value < 1 || value > MAX_EXECUTION_TIMEOUT_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      message:
        value === undefined
          ? `"${text.slice(0, 40)}" is not a duration: use seconds, minutes or hours, for example 7200, 150m or 4h`
          : `must be between 1s and ${formatDuration(MAX_EXECUTION_TIMEOUT_SECONDS * 1000)} (${MAX_EXECUTION_TIMEOUT_SECONDS} seconds)`,
    });
    return z.NEVER;
  }
  return value;
});

const stackNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'is not a CloudFormation stack name');
/** An AWS profile name as ~/.aws/config writes it: no spaces or brackets. */
const profileSchema = z.string().regex(/^[\w.@+=,:/-]{1,128}$/, 'is not an AWS profile name');

/** What every command that talks to AWS takes. */
const awsShape = {
  json: z.boolean(),
  profile: profileSchema.optional(),
  /** Absent: `snowwhite setup`'s saved stack, else SnowWhite. */
  stack: stackNameSchema.optional(),
  stackRegion: z.preprocess(lowerCase, regionSchema).optional(),
};
export type AwsOptions = { json: boolean; profile?: string; stack?: string; stackRegion?: string };

const cliSchema = z
  .object({
    ...awsShape,
    action: z.preprocess(lowerCase, actionSchema),
    envPattern: envPatternSchema,
    application: applicationNameSchema,
    /** Absent: found later from the environment or the AWS profile (see regions.ts). */
    region: z.preprocess(lowerCase, regionSchema).optional(),
    local: z.boolean(),
    follow: z.boolean(),
    yes: z.boolean(),
    dryRun: z.boolean(),
    drainTimeoutSeconds: durationSchema.optional(),
    executionTimeoutSeconds: executionDurationSchema.optional(),
    match: z.string().min(1).optional(),
    service: z
      .string()
      .regex(/^[\w@.:-]+$/, 'is not a systemd unit name')
      .optional(),
    supervisor: z
      .string()
      .regex(
        /^(none|(systemd|supervisord|runit):[\w@.:/-]+)$/,
        'must be systemd:UNIT, supervisord:PROGRAM, runit:DIR or none',
      )
      .optional(),
    restartCommand: z.string().min(1).optional(),
    force: z.boolean(),
  })
  .refine((o) => !(o.local && o.follow), {
    message: '--follow goes with a run on AWS, not --local',
    path: ['follow'],
  })
  .refine((o) => !(o.local && o.dryRun), {
    message: '--dry-run goes with a run on AWS; `snowwhite status --local` changes nothing',
    path: ['dryRun'],
  })
  .refine(
    (o) =>
      o.local ||
      (o.match === undefined &&
        o.service === undefined &&
        o.supervisor === undefined &&
        o.restartCommand === undefined &&
        !o.force),
    {
      message:
        '--match, --service, --supervisor, --restart-command and --force go with --local (on AWS the SSM documents decide)',
      path: ['local'],
    },
  )
  .refine((o) => !(o.service !== undefined && o.supervisor !== undefined), {
    message: '--service UNIT is --supervisor systemd:UNIT: give one of them',
    path: ['service'],
  })
  .refine((o) => !o.force || o.action === 'wake', {
    message: '--force goes with wake only',
    path: ['force'],
  })
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

/** The commands besides the four actions. */
export const OTHER_COMMANDS = ['history', 'setup', 'doctor', 'manifest'] as const;
export type Command = Action | (typeof OTHER_COMMANDS)[number];
const COMMANDS: readonly Command[] = [...ACTIONS, ...OTHER_COMMANDS];
const isCommand = (x: string): x is Command => (COMMANDS as readonly string[]).includes(x);

export type HistoryOptions = AwsOptions & { application?: string };
export type DoctorOptions = AwsOptions & { application?: string; region?: string; member?: string };

export type ParsedCli =
  | { kind: 'help'; topic?: Command }
  | { kind: 'version' }
  | { kind: 'run'; options: CliOptions }
  | { kind: 'history'; options: HistoryOptions }
  | { kind: 'setup'; options: AwsOptions }
  | { kind: 'doctor'; options: DoctorOptions }
  | { kind: 'manifest'; options: AwsOptions & { withoutEvents: boolean } }
  | { kind: 'error'; message: string; json: boolean };

const FIELD_NAMES: Record<string, string> = {
  action: '<action>',
  envPattern: '<env-pattern>',
  application: '<eb-application>',
  region: '<region>',
  drainTimeoutSeconds: '--timeout',
  executionTimeoutSeconds: '--execution-timeout',
  stack: '--stack',
  stackRegion: '--stack-region',
  profile: '--profile',
  service: '--service',
  supervisor: '--supervisor',
  follow: '--follow',
  dryRun: '--dry-run',
  local: '--local',
  member: '--member',
};

/** --local runs name the run with these when the person gave no pattern or application. */
export const LOCAL_DEFAULTS = { envPattern: 'sidekiq', application: 'this-host' } as const;

/**
 * Pure: how people see a --local run named: it acts on this host and sends nothing anywhere, so no
 * region (the request's only names the run); the pattern and the application only when typed.
 * `where` follows the action in the headline; `environment` is the table's environment column.
 */
export function localNames(o: { envPattern: string; application: string }): {
  where: string;
  environment: string;
} {
  const pattern = o.envPattern === LOCAL_DEFAULTS.envPattern ? undefined : o.envPattern;
  const application = o.application === LOCAL_DEFAULTS.application ? undefined : o.application;
  return {
    where: [pattern, application && `in ${application}`, 'on this host'].filter(Boolean).join(' '),
    environment:
      pattern || application
        ? `${[application, pattern].filter(Boolean).join('/')} (this host)`
        : 'this host',
  };
}

/** Pure: parses the command line; never throws: errors come back as one line for the user. */
export function parseCli(argv: string[]): ParsedCli {
  // Known before parsing, so that even a usage error is a JSON object for a script.
  const json = argv.includes('--json');
  const error = (message: string): ParsedCli => ({ kind: 'error', message, json });
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (e) {
    // node's parseArgs names the unknown or malformed option.
    return error((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values, positionals } = parsed;
  const first = positionals[0]?.toLowerCase();
  if (first === 'help' || values.help) {
    const topic = (first === 'help' ? positionals[1] : first)?.toLowerCase();
    if (first === 'help' && positionals.length > 2)
      return error(`too many arguments: ${positionals.slice(2).join(' ')}`);
    if (topic !== undefined && !isCommand(topic))
      return first === 'help'
        ? error(`no help on "${topic.slice(0, 40)}": ${COMMANDS.join(', ')}`)
        : { kind: 'help' };
    return topic ? { kind: 'help', topic } : { kind: 'help' };
  }
  if (values.version || (first === 'version' && positionals.length === 1)) return { kind: 'version' };

  const aws = {
    json: values.json ?? false,
    profile: values.profile,
    stack: values.stack,
    stackRegion: values['stack-region'],
  };
  const firstIssue = (issues: z.core.$ZodIssue[], typed: Record<string, unknown>): string => {
    // The first problem only: one line the person can act on, then the next run shows the next.
    const issue = issues[0]!;
    const key = String(issue.path[0] ?? '');
    return key === 'action'
      ? `unknown action "${String(typed.action).slice(0, 40)}" (${COMMANDS.join(', ')})`
      : key === 'region' || key === 'stackRegion' // as typed, not as lower-cased for the check
        ? `${FIELD_NAMES[key]}: "${String(typed[key]).slice(0, 40)}" is not an AWS region (for example us-east-1, eu-west-1)`
        : issue.message.startsWith('--') // a rule across options names them itself
          ? issue.message
          : `${FIELD_NAMES[key] ?? key}: ${issue.message}`;
  };
  const runOnly = (command: string): string | undefined => {
    const given = RUN_ONLY_OPTIONS.filter((o) => values[o] !== undefined);
    return given.length ? `--${given[0]} does not go with ${command}` : undefined;
  };

  if (first === 'history' || first === 'setup' || first === 'manifest' || first === 'doctor') {
    const bad = runOnly(first);
    if (bad) return error(bad);
    const max = first === 'history' ? 2 : 1;
    if (positionals.length > max) return error(`too many arguments: ${positionals.slice(max).join(' ')}`);
    if (first !== 'doctor' && (values.application || values.member))
      return error(`--${values.application ? 'application' : 'member'} goes with doctor`);
    if (first !== 'doctor' && values.region) return error(`--region does not go with ${first}`);
    if (first !== 'manifest' && values['without-events']) return error('--without-events goes with manifest');
    const schema = z.object({
      ...awsShape,
      application: applicationNameSchema.optional(),
      region: z.preprocess(lowerCase, regionSchema).optional(),
      member: slackUserIdSchema.optional(),
    });
    const typed = {
      ...aws,
      application: first === 'history' ? positionals[1] : values.application,
      region: values.region,
      member: values.member,
    };
    const r = schema.safeParse(typed);
    if (!r.success) return error(firstIssue(r.error.issues, typed));
    const options = withoutUndefined(r.data);
    if (first === 'doctor') return { kind: 'doctor', options };
    if (first === 'manifest')
      return { kind: 'manifest', options: { ...options, withoutEvents: values['without-events'] ?? false } };
    return first === 'history' ? { kind: 'history', options } : { kind: first, options };
  }
  if (values.application || values.member)
    return error(`--${values.application ? 'application' : 'member'} goes with doctor`);
  if (values['without-events']) return error('--without-events goes with manifest');

  const local = values.local ?? false;
  // --local needs only the action: the pattern, the application and the region only name the run.
  const minimum = local ? 1 : 3;
  if (positionals.length < minimum || positionals.length > 4) {
    return error(
      positionals.length < minimum
        ? `expected <action> <env-pattern> <eb-application> [<region>], got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}${positionals.length ? '' : ` (actions: ${COMMANDS.join(', ')}; or \`snowwhite help\`)`}`
        : `too many arguments: ${positionals.slice(4).join(' ')}`,
    );
  }
  const [action, envPattern, application, regionArgument] = positionals;
  if (
    regionArgument !== undefined &&
    values.region !== undefined &&
    regionArgument.toLowerCase() !== values.region.toLowerCase()
  )
    return error(
      `<region> ${regionArgument.slice(0, 40)} and --region ${values.region.slice(0, 40)} differ: give one`,
    );
  const typed = {
    ...aws,
    action,
    envPattern: envPattern ?? (local ? LOCAL_DEFAULTS.envPattern : undefined),
    application: application ?? (local ? LOCAL_DEFAULTS.application : undefined),
    region: regionArgument ?? values.region,
    local,
    follow: values.follow ?? false,
    yes: values.yes ?? false,
    dryRun: values['dry-run'] ?? false,
    drainTimeoutSeconds: values.timeout,
    executionTimeoutSeconds: values['execution-timeout'],
    match: values.match,
    service: values.service,
    supervisor: values.supervisor,
    restartCommand: values['restart-command'],
    force: values.force ?? false,
  };
  const result = cliSchema.safeParse(typed);
  if (!result.success) return error(firstIssue(result.error.issues, typed));
  return { kind: 'run', options: result.data };
}

/** Options that only a run (an action) takes. */
const RUN_ONLY_OPTIONS = [
  'local',
  'follow',
  'yes',
  'dry-run',
  'timeout',
  'execution-timeout',
  'match',
  'service',
  'supervisor',
  'restart-command',
  'force',
] as const;

const withoutUndefined = <T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };

function parseRaw(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      local: { type: 'boolean' },
      follow: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      'execution-timeout': { type: 'string' },
      profile: { type: 'string' },
      region: { type: 'string' },
      stack: { type: 'string' },
      'stack-region': { type: 'string' },
      match: { type: 'string' },
      service: { type: 'string' },
      supervisor: { type: 'string' },
      'restart-command': { type: 'string' },
      force: { type: 'boolean' },
      application: { type: 'string' },
      member: { type: 'string' },
      'without-events': { type: 'boolean' },
    },
  });
}
