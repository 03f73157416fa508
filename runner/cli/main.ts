import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { version } from '../../package.json';
import { previewTargets, type TargetPreview } from '../aws/environments';
import { clientTokenFor, launchRunner } from '../launch';
import { systemClock, type Clock } from '../drain/clock';
import { describeError, silentLogger } from '../log';
import { SSMClient } from '@aws-sdk/client-ssm';
import { RetryOnlyIfNotCarriedOut } from '../aws/clients';
import { sendRun, splitReachable } from '../aws/send-run';
import { LocalExecutor } from '../local/executor';
import { LocalHostTargets } from '../local/targets';
import { EXIT_BAD_REQUEST, EXIT_FAILURE } from '../drain/outcome';
import { runRequestSchema, type RunRequest } from '../request';
import { runDrain } from '../drain/run';
import { parseCli, SEE_HELP, USAGE, type CliOptions } from './args';
import { asIamUserName, identifyCaller } from './caller';
import { ConsoleReporter } from './console-reporter';
import { followRunner, logStreamFor, type NotingReporter } from './follow';
import { JsonReporter } from './json-reporter';
import { confirmQuestion, isYes, noTargetsText, previewText } from './preview';
import { resolveRegions } from './regions';
import { cliRunsUrlOf, launchSettingsFromEnv, launchSettingsFromStack } from './launch-settings';
import { BotRefusedError, requestRunThroughBot } from './signed-route';
import { printable } from './printable';

export interface CliClients {
  sts: STSClient;
  iam: IAMClient;
  ecs: ECSClient;
  cloudFormation: CloudFormationClient;
  logs: CloudWatchLogsClient;
  /** In the fleet's region, for the preview (the others are in the stack's). */
  elasticBeanstalk: ElasticBeanstalkClient;
  /** In the fleet's region: the direct launch sends the commands itself, as the bot does. */
  ssm: SSMClient;
  /** SendCommand only: never retried after a failure that may have created the command. */
  ssmSendCommand: SSMClient;
}

export interface CliIo {
  stdout: { write(text: string): void; isTTY?: boolean };
  stderr: { write(text: string): void };
  /** Where the confirmation is read; absent or not a terminal: nobody to ask, so --yes is needed. */
  stdin?: { isTTY?: boolean; readLine(): Promise<string | undefined> };
}

export interface CliDeps {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** The AWS clients: the stack's region for the launch, the fleet's for the preview. */
  clients: (regions: { aws: string; fleet: string }) => CliClients;
  /** The AWS profile's region (~/.aws/config), when AWS_REGION and AWS_DEFAULT_REGION are unset. */
  profileRegion?: () => Promise<string | undefined>;
  clock?: Clock;
  signal?: AbortSignal;
  newRunId?: () => string;
}

export const defaultClients = ({ aws, fleet }: { aws: string; fleet: string }): CliClients => {
  // Same throttling stance as the runner: the SDK's adaptive retries.
  const config = { region: aws, retryMode: 'adaptive', maxAttempts: 6 } as const;
  return {
    sts: new STSClient(config),
    iam: new IAMClient(config),
    ecs: new ECSClient(config),
    cloudFormation: new CloudFormationClient(config),
    logs: new CloudWatchLogsClient(config),
    elasticBeanstalk: new ElasticBeanstalkClient({ ...config, region: fleet }),
    ssm: new SSMClient({ ...config, region: fleet }),
    ssmSendCommand: new SSMClient({
      ...config,
      region: fleet,
      retryStrategy: new RetryOnlyIfNotCarriedOut(config.maxAttempts),
    }),
  };
};

/** The SDK's own lookup (AWS_PROFILE, ~/.aws/config); no network. */
export const sdkProfileRegion = async (): Promise<string | undefined> => {
  const sts = new STSClient({});
  try {
    return await sts.config.region();
  } catch {
    return undefined; // "Region is missing": the caller says what to do instead
  } finally {
    sts.destroy();
  }
};

/** How this run talks: people (live line, table) or scripts (--json). */
type Output = NotingReporter & {
  /** A fact for the person; in --json, a JSON event on stdout instead. */
  fact(event: string, fields: Record<string, unknown>, text: string): void;
};

function outputFor(options: CliOptions, io: CliIo): Output & { scriptSaid?: ConsoleReporter['scriptSaid'] } {
  if (options.json) {
    const json = new JsonReporter(io.stdout, io.stderr);
    return Object.assign(json, {
      fact: (event: string, fields: Record<string, unknown>) => json.emit(event, fields),
    });
  }
  const human = new ConsoleReporter(io.stdout);
  return Object.assign(human, {
    fact: (_e: string, _f: Record<string, unknown>, text: string) => human.note(text),
  });
}

/**
 * `snowwhite`, the command line, run with `argv`; resolves to the exit code. It launches the same
 * runner the Slack bot launches (same launch code, same run request), or with --local runs that
 * runner in this process against this host's Sidekiq processes.
 */
export async function cliMain(argv: string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  const parsed = parseCli(argv);
  if (parsed.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    io.stdout.write(`snowwhite ${version}\n`);
    return 0;
  }
  if (parsed.kind === 'error') return usageError(io, parsed.message);
  const options = parsed.options;
  const regions = resolveRegions({
    ...(options.region ? { argument: options.region } : {}),
    env: deps.env,
    ...(!deps.env.AWS_REGION && !deps.env.AWS_DEFAULT_REGION
      ? { profile: await (deps.profileRegion ?? sdkProfileRegion)() }
      : {}),
  });
  if ('error' in regions) return usageError(io, regions.error);
  const runId = deps.newRunId?.() ?? `cli-${randomUUID()}`;
  const output = outputFor(options, io);
  try {
    return options.local
      ? await runLocal(options, regions.fleet, runId, output, deps)
      : await runOnFargate(options, regions, runId, output, deps);
  } catch (err) {
    // The bot's answer already says what it is (refused, rate_limited…): the class name is noise.
    io.stderr.write(`snowwhite: ${err instanceof BotRefusedError ? err.message : describeError(err)}\n`);
    return EXIT_FAILURE;
  }
}

/** One line, exit 64, nothing done: the help is one flag away, not reprinted. */
function usageError(io: CliIo, message: string): number {
  io.stderr.write(`snowwhite: ${message} (${SEE_HELP})\n`);
  return EXIT_BAD_REQUEST;
}

function requestFor(
  options: CliOptions,
  region: string,
  runId: string,
  requestedBy: { iamUserName: string; slackUserId?: string },
): RunRequest {
  return runRequestSchema.parse({
    runId,
    action: options.action,
    envPattern: options.envPattern,
    application: options.application,
    region,
    requestedBy,
    ...(options.drainTimeoutSeconds !== undefined
      ? { drainTimeoutSeconds: options.drainTimeoutSeconds }
      : {}),
    ...(options.executionTimeoutSeconds !== undefined
      ? { executionTimeoutSeconds: options.executionTimeoutSeconds }
      : {}),
  });
}

async function runLocal(
  options: CliOptions,
  region: string,
  runId: string,
  output: Output & { scriptSaid?: ConsoleReporter['scriptSaid'] },
  deps: CliDeps,
): Promise<number> {
  const request = requestFor(options, region, runId, { iamUserName: asIamUserName(userInfo().username) });
  const result = await runDrain({
    request,
    targets: new LocalHostTargets(),
    executor: new LocalExecutor({
      ...(options.match !== undefined ? { match: options.match } : {}),
      ...(options.service !== undefined ? { service: options.service } : {}),
      ...(options.restartCommand !== undefined ? { restartCommand: options.restartCommand } : {}),
      onProgressLine: (instanceId, line) => output.scriptSaid?.(instanceId, line),
      env: deps.env,
    }),
    reporter: output,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    // Locally nothing is delivered over a network: give up soon after the execution timeout.
    deadlineMarginSeconds: 30,
  });
  return result.exitCode;
}

/**
 * Preview, confirmation, launch: what the Slack prompt does, on a terminal. Nothing is launched
 * unless a person said yes (or --yes); a script without a terminal must say --yes.
 */
async function runOnFargate(
  options: CliOptions,
  regions: { aws: string; fleet: string },
  runId: string,
  output: Output,
  deps: CliDeps,
): Promise<number> {
  const { io } = deps;
  const clients = deps.clients(regions);
  const question = {
    action: options.action,
    envPattern: options.envPattern,
    application: options.application,
    region: regions.fleet,
    ...(options.drainTimeoutSeconds !== undefined
      ? { drainTimeoutSeconds: options.drainTimeoutSeconds }
      : {}),
  };

  const preview: TargetPreview = await previewTargets(clients.elasticBeanstalk, options);
  if (preview.environments.length === 0) {
    io.stderr.write(`snowwhite: ${noTargetsText(question, preview)}\n`);
    return EXIT_FAILURE;
  }
  const text = previewText(question, preview);
  if (options.json) {
    output.fact(
      'preview',
      { ...question, environments: preview.environments, totalInstances: preview.totalInstances },
      text,
    );
    io.stderr.write(`${text}\n`); // the person confirming reads it there; stdout stays JSON
  } else io.stdout.write(`${text}\n`);
  if (options.dryRun) {
    io.stderr.write('snowwhite: dry run: nothing was launched\n');
    return 0;
  }
  if (!options.yes) {
    if (!io.stdin?.isTTY) {
      return usageError(
        io,
        'not launched: stdin is not a terminal, so nobody can confirm; add --yes to launch',
      );
    }
    io.stderr.write(confirmQuestion(question, preview));
    // Ctrl-C at the question is a no.
    const answer = await Promise.race([io.stdin.readLine(), aborted(deps.signal)]);
    if (!isYes(answer)) {
      io.stderr.write('snowwhite: not launched\n');
      return EXIT_FAILURE;
    }
  }

  const fromEnv = launchSettingsFromEnv(deps.env);
  const launch = fromEnv ?? (await launchSettingsFromStack(clients.cloudFormation, options.stack));
  let taskArn: string;
  let request: RunRequest;
  if (fromEnv) {
    // RUNNER_* set by hand: launch directly with the caller's own ecs:RunTask and iam:PassRole
    // (an administrator's or a developer's way; operators go through the bot's signed route).
    const caller = await identifyCaller(clients.sts, clients.iam);
    if (caller.note) io.stderr.write(`snowwhite: note: ${caller.note}\n`);
    request = requestFor(options, regions.fleet, runId, {
      iamUserName: caller.iamUserName,
      ...(caller.slackUserId ? { slackUserId: caller.slackUserId } : {}),
    });
    // The runner only follows commands: send them first, with the caller's own ssm:SendCommand, to
    // exactly the instances previewed (and confirmed) above.
    request = { ...request, ...(await sendDirectly(request, preview, clients, deps)) };
    taskArn = await launchRunner(clients.ecs, launch, request, { clientToken: clientTokenFor(runId) });
  } else {
    // Checked here; the bot authorizes and names the caller from the signature.
    request = requestFor(options, regions.fleet, runId, { iamUserName: 'caller' });
    const url = await cliRunsUrlOf(clients.cloudFormation, options.stack);
    const launched = await requestRunThroughBot(
      url,
      {
        runId,
        action: request.action,
        envPattern: request.envPattern,
        application: request.application,
        region: request.region,
        drainTimeoutSeconds: request.drainTimeoutSeconds,
        executionTimeoutSeconds: request.executionTimeoutSeconds,
      },
      { credentials: clients.sts.config.credentials, region: await clients.sts.config.region() },
    );
    taskArn = launched.taskArn;
    // The bot assigns the run id (ours was only the request's idempotency key).
    request = { ...request, runId: launched.runId };
    // Scripts read stdout as JSON with --json; people read who Snow White took them for.
    (options.json ? io.stderr : io.stdout).write(
      `authorized by Snow White as ${printable(launched.requestedBy)} for ${launched.environments
        .map((e) => `${printable(e.name)} (${e.instances})`)
        .join(', ')}\n`,
    );
  }
  const stream = logStreamFor(taskArn, launch.containerName);
  output.fact(
    'launched',
    {
      runId: request.runId,
      taskArn,
      ...(launch.logGroupName ? { logGroupName: launch.logGroupName, logStreamName: stream } : {}),
    },
    `launched the Snow White runner: ${request.action} ${request.envPattern} ${request.application} ${request.region}\n` +
      `  run id: ${request.runId}\n  task:   ${taskArn}` +
      (launch.logGroupName && !options.follow
        ? `\n  log:    aws logs tail ${launch.logGroupName} --follow --log-stream-name-prefix ${stream}`
        : ''),
  );
  if (!options.follow) return 0;
  return followRunner(
    {
      cluster: launch.cluster,
      taskArn,
      containerName: launch.containerName,
      ...(launch.logGroupName ? { logGroupName: launch.logGroupName } : {}),
    },
    {
      ecs: clients.ecs,
      logs: clients.logs,
      clock: deps.clock ?? systemClock,
      signal: deps.signal ?? new AbortController().signal,
      request,
      reporter: output,
    },
  );
}

/** The direct launch's send: the action's document (SSM_DOCUMENT_<ACTION>) to the previewed instances. */
async function sendDirectly(
  request: RunRequest,
  preview: TargetPreview,
  clients: CliClients,
  deps: CliDeps,
): Promise<Pick<RunRequest, 'commands' | 'unreachable'>> {
  const variable = `SSM_DOCUMENT_${request.action.toUpperCase()}`;
  const documentName = deps.env[variable];
  if (!documentName || !/^[\w.-]{3,128}$/.test(documentName))
    throw new Error(
      `a direct launch (RUNNER_* set) sends the command itself: set ${variable} to the stack's ${request.action} document name`,
    );
  const { reachable, unreachable } = await splitReachable(clients.ssm, preview.environments);
  if (reachable.length === 0) throw new Error('no previewed instance is reachable by SSM; nothing was sent');
  const sent = await sendRun(
    { ssm: clients.ssm, sendClient: clients.ssmSendCommand },
    {
      runId: request.runId,
      action: request.action,
      documentName,
      targets: reachable,
      drainTimeoutSeconds: request.drainTimeoutSeconds,
      executionTimeoutSeconds: request.executionTimeoutSeconds,
      clock: deps.clock ?? systemClock,
      log: silentLogger,
    },
  );
  const notReached = [
    ...unreachable,
    ...sent.notStarted.map(({ instanceId, environment, reason }) => ({ instanceId, environment, reason })),
  ].map((u) => ({ ...u, reason: u.reason.slice(0, 120) }));
  return { commands: sent.commands, ...(notReached.length ? { unreachable: notReached.slice(0, 100) } : {}) };
}

const aborted = (signal: AbortSignal | undefined): Promise<undefined> =>
  new Promise((resolve) => {
    if (signal?.aborted) resolve(undefined);
    signal?.addEventListener('abort', () => resolve(undefined), { once: true });
  });
