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
import { silentLogger } from '../log';
import { RetryOnlyIfNotCarriedOut } from '../aws/clients';
import { sendRun, splitReachable } from '../aws/send-run';
import { LocalExecutor } from '../local/executor';
import { LocalHostTargets } from '../local/targets';
import { EXIT_BAD_REQUEST, EXIT_FAILURE } from '../drain/outcome';
import { regionSchema, runRequestSchema, type RunRequest } from '../request';
import { runDrain } from '../drain/run';
import { ACTION_HELP, localNames, parseCli, SEE_HELP, USAGE, type AwsOptions, type CliOptions } from './args';
import { CliFacingError, cliErrorOf, type CliError } from './aws-errors';
import { configPath, configStoreFor, type ConfigStore, type SavedConfig } from './config';
import { DEFAULT_STACK_NAME } from '../stack-outputs';
import type { DoctorOptions as DoctorArgs, HistoryOptions } from './args';
import { historyAnswerSchema, historyText } from './history';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { asIamUserName, identifyCaller } from './caller';
import { ConsoleReporter } from './console-reporter';
import { followRunner, logStreamFor, type NotingReporter } from './follow';
import { JsonReporter } from './json-reporter';
import { confirmQuestion, isYes, noTargetsText, previewText } from './preview';
import { resolveRegions } from './regions';
import { cliRouteOf, launchSettingsFromEnv, launchSettingsFromStack } from './launch-settings';
import { requestRunThroughBot } from './signed-route';
import { signIdentityProof } from './sts-proof';
import { checkLine, runDoctor, type DoctorClients } from './doctor';
import { LogLevel as SlackLogLevel, WebClient } from '@slack/web-api';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsRetryConfig } from '../aws/clients';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STACK_OUTPUTS } from '../stack-outputs';
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
  /** The AWS clients: the stack's region for the launch, the fleet's for the preview; `profile` from --profile. */
  clients: (regions: { aws: string; fleet: string }, profile?: string) => CliClients;
  /** The AWS profile's region (~/.aws/config), when AWS_REGION and AWS_DEFAULT_REGION are unset. */
  profileRegion?: (profile?: string) => Promise<string | undefined>;
  /** Whether ~/.aws/config or ~/.aws/credentials has this profile (default: the SDK's own reading of them). */
  profileExists?: (profile: string) => Promise<boolean>;
  /** `snowwhite setup`'s saved stack and region (default: ~/.config/snowwhite/config.json). */
  config?: ConfigStore;
  /** What `snowwhite doctor` reads through (default: real clients in the stack's region). */
  doctorClients?: (aws: AwsContext) => DoctorClients;
  clock?: Clock;
  signal?: AbortSignal;
  newRunId?: () => string;
}

/** Fewer attempts than the runner's: a person is waiting at the terminal. */
const CLI_MAX_ATTEMPTS = 6;

export const defaultClients = (
  { aws, fleet }: { aws: string; fleet: string },
  profile?: string,
): CliClients => {
  // The project's one retry policy, with fewer attempts. The profile goes to the SDK's
  // own credential chain, so SSO, assume-role and credential_process profiles work as in the AWS CLI.
  const config = {
    region: aws,
    ...awsRetryConfig(CLI_MAX_ATTEMPTS),
    ...(profile ? { profile } : {}),
  } as const;
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
export const sdkProfileRegion = async (profile?: string): Promise<string | undefined> => {
  const sts = new STSClient(profile ? { profile } : {});
  try {
    return await sts.config.region();
  } catch {
    return undefined; // "Region is missing": the caller says what to do instead
  } finally {
    sts.destroy();
  }
};

/** The SDK's own parser of ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE). */
export const sdkProfileExists = async (profile: string): Promise<boolean> => {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  return profile in configFile || profile in credentialsFile;
};

/** How this run talks: people (live line, table) or scripts (--json). */
type Output = NotingReporter & {
  /** A fact for the person; in --json, a JSON event on stdout instead. */
  fact(event: string, fields: Record<string, unknown>, text: string): void;
};

function outputFor(
  options: CliOptions,
  io: CliIo,
  where?: string,
): Output & { scriptSaid?: ConsoleReporter['scriptSaid'] } {
  if (options.json) {
    const json = new JsonReporter(io.stdout, io.stderr);
    return Object.assign(json, {
      fact: (event: string, fields: Record<string, unknown>) => json.emit(event, fields),
    });
  }
  const human = new ConsoleReporter(io.stdout, Date.now, where);
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
  switch (parsed.kind) {
    case 'help':
      io.stdout.write(`${parsed.topic ? ACTION_HELP[parsed.topic] : USAGE}\n`);
      return 0;
    case 'version':
      io.stdout.write(`snowwhite ${version}\n`);
      return 0;
    case 'error':
      return usageError(io, parsed.message, parsed.json);
  }
  const json = parsed.options.json;
  try {
    if (parsed.kind === 'run' && parsed.options.local) {
      const options = parsed.options;
      // No AWS at all: the region only names the run (the argument, a valid AWS_REGION, else a default).
      const region = options.region ?? localRegion(deps.env);
      const names = localNames(options);
      return await runLocal(
        options,
        region,
        deps.newRunId?.() ?? `cli-${randomUUID()}`,
        outputFor(options, io, names.where),
        names.environment,
        deps,
      );
    }
    const aws = await awsContext(
      parsed.options,
      parsed.kind === 'run' || parsed.kind === 'doctor' ? parsed.options.region : undefined,
      parsed.kind === 'run',
      deps,
    );
    if ('usage' in aws) return usageError(io, aws.usage, json);
    try {
      switch (parsed.kind) {
        case 'run': {
          const runId = deps.newRunId?.() ?? `cli-${randomUUID()}`;
          return await runOnFargate(parsed.options, aws, runId, outputFor(parsed.options, io), deps);
        }
        case 'setup':
          return await setup(aws, deps);
        case 'manifest':
          return await manifest(aws, parsed.options.withoutEvents, deps);
        case 'doctor':
          return await doctor(parsed.options, aws, deps);
        case 'history':
          return await history(parsed.options, aws, deps);
      }
    } catch (err) {
      return reportError(
        io,
        json,
        cliErrorOf(err, { ...aws, ...(aws.profile ? { profile: aws.profile } : {}) }),
      );
    }
  } catch (err) {
    return reportError(
      io,
      json,
      cliErrorOf(err, { ...(parsed.options.profile ? { profile: parsed.options.profile } : {}) }),
    );
  }
}

/** Where a command that talks to AWS goes: the profile, the stack and its region, the fleet's region. */
export interface AwsContext {
  profile?: string;
  stack: string;
  /** The stack's region: --stack-region, else what `snowwhite setup` saved, else the configured region. */
  stackRegion: string;
  /** The fleet's region (a run's <region>); the stack's when none was given. */
  fleet: string;
  /** Whether the stack's region came from --stack-region or the saved config (else: the profile's). */
  stackRegionKnown: boolean;
}

async function awsContext(
  options: AwsOptions,
  fleetArgument: string | undefined,
  isRun: boolean,
  deps: CliDeps,
): Promise<AwsContext | { usage: string }> {
  const profile = options.profile ?? (deps.env.AWS_PROFILE || undefined);
  if (profile !== undefined && !(await (deps.profileExists ?? sdkProfileExists)(profile)))
    throw new CliFacingError({
      code: 'profile_not_found',
      message: `AWS profile "${profile.slice(0, 64)}"${options.profile ? '' : ' (AWS_PROFILE)'} is not in ~/.aws/config or ~/.aws/credentials: \`aws configure list-profiles\` lists those there (\`aws configure sso\` adds an SSO one)`,
      exitCode: EXIT_FAILURE,
    });
  const saved: SavedConfig | undefined = await (deps.config ?? configStoreFor(configPath(deps.env))).read();
  const stack = options.stack ?? saved?.stack ?? DEFAULT_STACK_NAME;
  const savedRegion = saved && saved.stack === stack ? saved.stackRegion : undefined;
  const regions = resolveRegions({
    ...(fleetArgument ? { argument: fleetArgument } : {}),
    env: deps.env,
    ...(!deps.env.AWS_REGION && !deps.env.AWS_DEFAULT_REGION
      ? { profile: await (deps.profileRegion ?? sdkProfileRegion)(profile) }
      : {}),
  });
  const stackRegion = options.stackRegion ?? savedRegion;
  if ('error' in regions) {
    // No configured region, but the stack's is known: enough for all but a run without a <region>.
    if (!stackRegion || isRun) return { usage: regions.error };
    return {
      stack,
      stackRegion,
      fleet: stackRegion,
      stackRegionKnown: true,
      ...(profile ? { profile } : {}),
    };
  }
  return {
    stack,
    stackRegion: stackRegion ?? regions.aws,
    fleet: regions.fleet,
    stackRegionKnown: stackRegion !== undefined,
    ...(profile ? { profile } : {}),
  };
}

/** --local's region when none was typed: only a name in the summary, never a place anything is sent. */
const localRegion = (env: NodeJS.ProcessEnv): string => {
  for (const value of [env.AWS_REGION, env.AWS_DEFAULT_REGION]) {
    const parsed = regionSchema.safeParse(value?.toLowerCase());
    if (parsed.success) return parsed.data;
  }
  return 'us-east-1';
};

/** One line, exit 64, nothing done: the help is one flag away, not reprinted. */
function usageError(io: CliIo, message: string, json = false): number {
  return reportError(io, json, {
    code: 'usage',
    message: `${message} (${SEE_HELP})`,
    exitCode: EXIT_BAD_REQUEST,
  });
}

/** Every error: one line on stderr; with --json also one JSON object on stdout, for the script. */
function reportError(io: CliIo, json: boolean, e: CliError): number {
  io.stderr.write(`snowwhite: ${printable(e.message)}\n`);
  if (json)
    io.stdout.write(
      `${JSON.stringify({ event: 'error', error: e.code, message: e.message, exitCode: e.exitCode })}\n`,
    );
  return e.exitCode;
}

/** `snowwhite history`: the last runs, asked of the bot on the signed route (as Slack's /snowwhite history). */
async function history(options: HistoryOptions, aws: AwsContext, deps: CliDeps): Promise<number> {
  const clients = deps.clients({ aws: aws.stackRegion, fleet: aws.stackRegion }, aws.profile);
  const { url, installationId } = await cliRouteOf(clients.cloudFormation, aws.stack);
  const answer = await requestRunThroughBot(
    url,
    { history: true, ...(options.application ? { application: options.application } : {}) },
    {
      credentials: clients.sts.config.credentials,
      region: regionOfApi(url) ?? aws.stackRegion,
      identityProof: (body) => signIdentityProof(clients.sts, installationId, body),
    },
    historyAnswerSchema,
  );
  deps.io.stdout.write(
    options.json
      ? `${JSON.stringify({ event: 'history', runs: answer.runs })}\n`
      : `${historyText(answer, options.application)}\n`,
  );
  return 0;
}

/** `snowwhite manifest`: the stack's finished Slack app manifest, to paste into Slack. */
async function manifest(aws: AwsContext, withoutEvents: boolean, deps: CliDeps): Promise<number> {
  const { cloudFormation } = deps.clients({ aws: aws.stackRegion, fleet: aws.stackRegion }, aws.profile);
  const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: aws.stack }));
  const text = out.Stacks?.[0]?.Outputs?.find(
    (o) => o.OutputKey === STACK_OUTPUTS.slackManifest,
  )?.OutputValue;
  if (!text)
    throw new CliFacingError({
      code: 'no_manifest',
      message: `stack ${aws.stack} has no ${STACK_OUTPUTS.slackManifest} output: deploy this version of Snow White first`,
      exitCode: EXIT_FAILURE,
    });
  const manifest = JSON.parse(text) as { settings?: Record<string, unknown> };
  if (withoutEvents && manifest.settings) delete manifest.settings.event_subscriptions;
  deps.io.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  return 0;
}

/**
 * The doctor's Slack client: a person is waiting, so a short timeout and two quick retries (the
 * client's default is ten, over half an hour).
 */
export function doctorSlackClient(token: string, slackApiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    timeout: 15_000,
    logLevel: SlackLogLevel.ERROR,
  });
}

export const defaultDoctorClients =
  (env: NodeJS.ProcessEnv) =>
  (aws: AwsContext): DoctorClients => {
    const base = { ...defaultClients({ aws: aws.stackRegion, fleet: aws.fleet }, aws.profile) };
    const config = {
      region: aws.stackRegion,
      ...awsRetryConfig(CLI_MAX_ATTEMPTS),
      ...(aws.profile ? { profile: aws.profile } : {}),
    } as const;
    const ssm = new Map<string, SSMClient>();
    return {
      cloudFormation: base.cloudFormation,
      iam: base.iam,
      elasticBeanstalk: base.elasticBeanstalk,
      secretsManager: new SecretsManagerClient(config),
      ssm: (region) => ssm.get(region) ?? ssm.set(region, new SSMClient({ ...config, region })).get(region)!,
      eventBridge: new EventBridgeClient(config),
      slack: (token) => doctorSlackClient(token, env.SLACK_API_URL),
    };
  };

/** `snowwhite doctor`: one line per check; exit 0 only when every check passed. */
async function doctor(options: DoctorArgs, aws: AwsContext, deps: CliDeps): Promise<number> {
  const clients = (deps.doctorClients ?? defaultDoctorClients(deps.env))(aws);
  const checks = await runDoctor(clients, {
    stack: aws.stack,
    stackRegion: aws.stackRegion,
    ...(options.application ? { application: options.application, region: aws.fleet } : {}),
    ...(options.member ? { member: options.member } : {}),
  });
  for (const c of checks)
    deps.io.stdout.write(
      options.json ? `${JSON.stringify({ event: 'check', ...c })}\n` : `${printable(checkLine(c))}\n`,
    );
  const failed = checks.filter((c) => !c.ok).length;
  if (options.json)
    deps.io.stdout.write(`${JSON.stringify({ event: 'doctor', ok: failed === 0, failed })}\n`);
  else
    deps.io.stdout.write(
      failed ? `${failed} of ${checks.length} checks failed\n` : `all ${checks.length} checks passed\n`,
    );
  return failed ? EXIT_FAILURE : 0;
}

/** `snowwhite setup`: finds the stack where it was said to be, and remembers its name and region. */
async function setup(aws: AwsContext, deps: CliDeps): Promise<number> {
  const clients = deps.clients({ aws: aws.stackRegion, fleet: aws.stackRegion }, aws.profile);
  const { url } = await cliRouteOf(clients.cloudFormation, aws.stack);
  const store = deps.config ?? configStoreFor(configPath(deps.env));
  await store.write({ stack: aws.stack, stackRegion: aws.stackRegion as SavedConfig['stackRegion'] });
  deps.io.stdout.write(
    `found stack ${aws.stack} in ${aws.stackRegion} (${url}); saved to ${store.path}: snowwhite now finds it whatever your profile's region\n`,
  );
  return 0;
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
  environment: string,
  deps: CliDeps,
): Promise<number> {
  const request = requestFor(options, region, runId, { iamUserName: asIamUserName(userInfo().username) });
  const result = await runDrain({
    request,
    targets: new LocalHostTargets(environment),
    executor: new LocalExecutor({
      ...(options.match !== undefined ? { match: options.match } : {}),
      ...(options.service !== undefined ? { service: options.service } : {}),
      ...(options.supervisor !== undefined ? { supervisor: options.supervisor } : {}),
      ...(options.force ? { force: true } : {}),
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
  aws: AwsContext,
  runId: string,
  output: Output,
  deps: CliDeps,
): Promise<number> {
  const { io } = deps;
  const regions = { aws: aws.stackRegion, fleet: aws.fleet };
  const clients = deps.clients(regions, aws.profile);
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
  const launch = fromEnv ?? (await launchSettingsFromStack(clients.cloudFormation, aws.stack));
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
    const { url, installationId } = await cliRouteOf(clients.cloudFormation, aws.stack);
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
      {
        credentials: clients.sts.config.credentials,
        region: regionOfApi(url) ?? aws.stackRegion,
        identityProof: (body) => signIdentityProof(clients.sts, installationId, body),
      },
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

/** The region in an execute-api URL (the API's, which signs the request), if it is one. */
const regionOfApi = (url: string): string | undefined =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(url).hostname)?.[1];

const aborted = (signal: AbortSignal | undefined): Promise<undefined> =>
  new Promise((resolve) => {
    if (signal?.aborted) resolve(undefined);
    signal?.addEventListener('abort', () => resolve(undefined), { once: true });
  });
