import { parseArgs } from 'node:util';
import { DEFAULT_STACK_NAME } from '../stack-outputs';
import * as z from 'zod';
import {
  actionSchema,
  applicationNameSchema,
  envPatternSchema,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  regionSchema,
} from '../request';

export const USAGE = `usage: snowwhite <quiet|stop|wake|status> <env-pattern> <eb-application> <region> [options]

Quiets, stops, wakes or inspects the Sidekiq workers of every Elastic Beanstalk environment of
<eb-application> whose name contains <env-pattern>, by launching the Snow White runner on Fargate.

options:
  --local                  run the runner in this process against the Sidekiq processes of this host
                           (no AWS or Slack needed); shows live progress and a summary table
  --follow                 after launching on Fargate, print the runner's progress until it ends
  --timeout <s>            seconds to wait for jobs in flight to finish (default 3600)
  --execution-timeout <s>  seconds before SSM stops the command (default 7200, at most ${MAX_EXECUTION_TIMEOUT_SECONDS})
  --stack <name>           CloudFormation stack whose outputs name the runner (default SnowWhite);
                           RUNNER_CLUSTER, RUNNER_TASK_DEFINITION_ARN, RUNNER_SUBNET_IDS and
                           RUNNER_SECURITY_GROUP_IDS in the environment take precedence
  --match <ere>            with --local: only Sidekiq processes whose title matches
  --service <unit>         with --local: the systemd unit that runs Sidekiq
  --restart-command <cmd>  with --local wake: how to restart Sidekiq when there is no systemd unit
  -h, --help               this help

exit codes: 0 done · 2 some workers still busy at the deadline · 1 failure · 64 usage error`;

const seconds = (max: number) =>
  z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1 second')
    .max(max, `must be at most ${max} seconds`);

const cliSchema = z
  .object({
    action: actionSchema,
    envPattern: envPatternSchema,
    application: applicationNameSchema,
    region: regionSchema,
    local: z.boolean(),
    follow: z.boolean(),
    drainTimeoutSeconds: seconds(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
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
  .refine(
    (o) => o.local || (o.match === undefined && o.service === undefined && o.restartCommand === undefined),
    {
      message: '--match, --service and --restart-command go with --local (on AWS the SSM documents decide)',
      path: ['local'],
    },
  );

export type CliOptions = z.output<typeof cliSchema>;

export type ParsedCli =
  { kind: 'help' } | { kind: 'run'; options: CliOptions } | { kind: 'error'; message: string };

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
  local: '--local',
};

/** Parses the command line; never throws: errors come back as a message for the user. */
export function parseCli(argv: string[]): ParsedCli {
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (e) {
    // node's parseArgs names the unknown or malformed option.
    return { kind: 'error', message: (e as Error).message.replace(/\. To specify a positional.*$/s, '') };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (positionals.length !== 4) {
    return {
      kind: 'error',
      message:
        positionals.length < 4
          ? `expected 4 arguments (action, env-pattern, eb-application, region), got ${positionals.length}`
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
    drainTimeoutSeconds: values.timeout,
    executionTimeoutSeconds: values['execution-timeout'],
    stack: values.stack ?? DEFAULT_STACK_NAME,
    match: values.match,
    service: values.service,
    restartCommand: values['restart-command'],
  });
  if (!result.success) {
    const message = result.error.issues
      .map((i) => {
        const key = String(i.path[0] ?? '');
        const name = FIELD_NAMES[key] ?? key;
        return key === 'action'
          ? `unknown action "${String(action)}" (quiet, stop, wake or status)`
          : `${name}: ${i.message}`;
      })
      .join('\n');
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
      local: { type: 'boolean' },
      follow: { type: 'boolean' },
      timeout: { type: 'string' },
      'execution-timeout': { type: 'string' },
      stack: { type: 'string' },
      match: { type: 'string' },
      service: { type: 'string' },
      'restart-command': { type: 'string' },
    },
  });
}
