import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { clientTokenFor, launchRunner } from '../launch';
import { systemClock, type Clock } from '../drain/clock';
import { describeError } from '../log';
import { LocalExecutor } from '../local/executor';
import { LocalHostTargets } from '../local/targets';
import { EXIT_BAD_REQUEST, EXIT_FAILURE } from '../drain/outcome';
import { runRequestSchema, type RunRequest } from '../request';
import { runDrain } from '../drain/run';
import { parseCli, USAGE, type CliOptions } from './args';
import { asIamUserName, identifyCaller } from './caller';
import { ConsoleReporter } from './console-reporter';
import { followRunner } from './follow';
import { cliRunsUrlOf, launchSettingsFromEnv, launchSettingsFromStack } from './launch-settings';
import { requestRunThroughBot } from './signed-route';

/**
 * `snowwhite`, the command line: the old snow-white.sh helper's successor. It launches the same
 * runner the Slack bot launches (same launch code, same run request), or with --local runs that
 * runner in this process against this host's Sidekiq processes.
 */

export interface CliClients {
  sts: STSClient;
  iam: IAMClient;
  ecs: ECSClient;
  cloudFormation: CloudFormationClient;
  logs: CloudWatchLogsClient;
}

export interface CliIo {
  stdout: { write(text: string): void; isTTY?: boolean };
  stderr: { write(text: string): void };
}

export interface CliDeps {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** The AWS clients, in the SDK's default region (where the SnowWhite stack is deployed). */
  clients: () => CliClients;
  clock?: Clock;
  signal?: AbortSignal;
  newRunId?: () => string;
}

export const defaultClients = (): CliClients => {
  // Same throttling stance as the runner: the SDK's adaptive retries.
  const config = { retryMode: 'adaptive', maxAttempts: 6 } as const;
  return {
    sts: new STSClient(config),
    iam: new IAMClient(config),
    ecs: new ECSClient(config),
    cloudFormation: new CloudFormationClient(config),
    logs: new CloudWatchLogsClient(config),
  };
};

export async function cliMain(argv: string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  const parsed = parseCli(argv);
  if (parsed.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr.write(`snowwhite: ${parsed.message}\n\n${USAGE}\n`);
    return EXIT_BAD_REQUEST;
  }
  const options = parsed.options;
  const runId = deps.newRunId?.() ?? `cli-${randomUUID()}`;
  try {
    return options.local ? await runLocal(options, runId, deps) : await runOnFargate(options, runId, deps);
  } catch (err) {
    io.stderr.write(`snowwhite: ${describeError(err)}\n`);
    return EXIT_FAILURE;
  }
}

function requestFor(
  options: CliOptions,
  runId: string,
  requestedBy: { iamUserName: string; slackUserId?: string },
): RunRequest {
  return runRequestSchema.parse({
    runId,
    action: options.action,
    envPattern: options.envPattern,
    application: options.application,
    region: options.region,
    requestedBy,
    ...(options.drainTimeoutSeconds !== undefined
      ? { drainTimeoutSeconds: options.drainTimeoutSeconds }
      : {}),
    ...(options.executionTimeoutSeconds !== undefined
      ? { executionTimeoutSeconds: options.executionTimeoutSeconds }
      : {}),
  });
}

async function runLocal(options: CliOptions, runId: string, deps: CliDeps): Promise<number> {
  const request = requestFor(options, runId, { iamUserName: asIamUserName(userInfo().username) });
  const reporter = new ConsoleReporter(deps.io.stdout);
  const result = await runDrain({
    request,
    targets: new LocalHostTargets(),
    executor: new LocalExecutor({
      ...(options.match !== undefined ? { match: options.match } : {}),
      ...(options.service !== undefined ? { service: options.service } : {}),
      ...(options.restartCommand !== undefined ? { restartCommand: options.restartCommand } : {}),
      onProgressLine: (instanceId, line) => reporter.scriptSaid(instanceId, line),
      env: deps.env,
    }),
    reporter,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    // Locally nothing is delivered over a network: give up soon after the execution timeout.
    deadlineMarginSeconds: 30,
  });
  return result.exitCode;
}

async function runOnFargate(options: CliOptions, runId: string, deps: CliDeps): Promise<number> {
  const { io } = deps;
  const clients = deps.clients();
  const fromEnv = launchSettingsFromEnv(deps.env);
  const launch = fromEnv ?? (await launchSettingsFromStack(clients.cloudFormation, options.stack));
  let taskArn: string;
  let request: RunRequest;
  if (fromEnv) {
    // RUNNER_* set by hand: launch directly with the caller's own ecs:RunTask and iam:PassRole
    // (an administrator's or a developer's way; operators go through the bot's signed route).
    const caller = await identifyCaller(clients.sts, clients.iam);
    if (caller.note) io.stderr.write(`snowwhite: note: ${caller.note}\n`);
    request = requestFor(options, runId, {
      iamUserName: caller.iamUserName,
      ...(caller.slackUserId ? { slackUserId: caller.slackUserId } : {}),
    });
    taskArn = await launchRunner(clients.ecs, launch, request, { clientToken: clientTokenFor(runId) });
  } else {
    request = requestFor(options, runId, { iamUserName: 'caller' }); // checked here; the bot names the caller
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
    io.stdout.write(
      `authorized by Snow White as ${launched.requestedBy} for ${launched.environments.map((e) => `${e.name} (${e.instances})`).join(', ')}\n`,
    );
  }
  io.stdout.write(
    `launched the Snow White runner: ${request.action} ${request.envPattern} ${request.application} ${request.region}\n` +
      `  run id: ${runId}\n  task:   ${taskArn}\n`,
  );
  if (!options.follow) {
    io.stdout.write(
      launch.logGroupName
        ? `  log:    aws logs tail ${launch.logGroupName} --follow --log-stream-name-prefix runner/${launch.containerName}/${taskArn.split('/').pop()}\n`
        : '',
    );
    return 0;
  }
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
      print: (line) => io.stdout.write(`${line}\n`),
    },
  );
}
