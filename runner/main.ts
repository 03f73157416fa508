// The Fargate runner's entry point (bundled to dist/runner/main.js).
//
//   settings (env) → run request (RUN_REQUEST JSON) → AWS clients for the request's region →
//   runDrain(the SSM commands the bot sent, followed by the SSM executor, Slack reporter) → exit code.
//
// The runner never resolves a pattern nor sends an action: the bot sent the commands to exactly the
// confirmed instances before launching it, and the request names them. A request without them is refused.
//
// Exit codes: 0 every instance done · 2 some still busy at the drain timeout · 1 failure or
// interruption · 64 bad request or settings. SIGTERM (Fargate stopping the task) aborts the drain:
// the thread is told which SSM commands keep running, then the process exits.
//
// `main(env, options)` is callable in-process so tests can pass mocked clients and a clock.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LogLevel as SlackLogLevel, WebClient } from '@slack/web-api';
import { createRunnerSsm, type RunnerSsm } from './aws/clients';
import type { Clock } from './drain/clock';
import { SettingsError } from './env-settings';
import { createLogger, describeError, type Logger } from './log';
import { EXIT_BAD_REQUEST, EXIT_FAILURE } from './drain/outcome';
import { parseRunRequest, RunRequestError, type RunRequest } from './request';
import { runDrain } from './drain/run';
import { documentNames, loadRunnerSettings, type RunnerSettings } from './settings';
import { SlackReporter } from './slack/reporter';
import { escapeMrkdwn } from './slack/mrkdwn';
import { SsmExecutor } from './aws/ssm-executor/executor';
import { SentCommandsTargets } from './aws/sent-commands';
import { systemClock } from './drain/clock';
import { allOf, type Reporter } from './drain/reporter';
import { LedgerReporter } from './ledger/reporter';
import { createLedger, createLedgerClient } from './ledger/store';
import { createLocks } from './ledger/locks';
import { fetchTaskLocation } from './aws/task-metadata';
import { runLinks } from './slack/links';

/** Two calls (the interruption post, the progress edit) fit in the reporter's 20 s budget. */
const SLACK_INTERRUPTED_CALL_TIMEOUT_MS = 8_000;

export interface MainOptions {
  /** Mocked clients in tests; otherwise built for the request's region. */
  clients?: RunnerSsm;
  signal?: AbortSignal;
  clock?: Clock;
  log?: Logger;
  /** Waits between retries of a failed Slack call (tests shorten them). */
  slackRetryDelaysMs?: number[];
  /** Overrides the adaptive poll interval (tests). */
  pollDelay?: (elapsedMs: number, throttledStreak: number) => number;
  /**
   * DynamoDB for the ledger (tests pass one pointed at dynalite). Otherwise built from the SDK's
   * standard configuration: the table is in the stack's region, not necessarily the fleet's.
   */
  ledgerClient?: DynamoDBClient;
}

export async function main(env: NodeJS.ProcessEnv = process.env, options: MainOptions = {}): Promise<number> {
  const log = options.log ?? createLogger({ fields: { program: 'snowwhite-runner' } });
  let settings: RunnerSettings;
  try {
    settings = loadRunnerSettings(env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    log.error('invalid settings', { problems: err.problems });
    return EXIT_BAD_REQUEST;
  }
  const slack = runnerSlackClient(settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL);
  const slackWhenInterrupted = interruptionSlackClient(settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL);

  let request: RunRequest;
  try {
    request = parseRunRequest(settings.RUN_REQUEST);
  } catch (err) {
    if (!(err instanceof RunRequestError)) throw err;
    log.error('invalid run request', { problems: err.problems });
    await tellRejected(slack, settings, err.problems, log);
    return EXIT_BAD_REQUEST;
  }

  if (!request.commands?.length) {
    const problems = [
      'commands: the run request names no SSM command; the runner only follows commands the bot sent',
    ];
    log.error('invalid run request', { problems });
    await tellRejected(slack, settings, problems, log);
    return EXIT_BAD_REQUEST;
  }

  const runLog = log.with({ runId: request.runId });
  runLog.info('run starting', {
    action: request.action,
    envPattern: request.envPattern,
    application: request.application,
    region: request.region,
    requestedBy: request.requestedBy.iamUserName,
  });
  const task = await fetchTaskLocation(env);
  if (task) runLog.info('runner task', { ...task });
  const links = runLinks({ runId: request.runId, region: request.region, ...task });
  const clients = options.clients ?? createRunnerSsm(request.region);
  const slackReporter = new SlackReporter({
    client: slack,
    interruptionClient: slackWhenInterrupted,
    request,
    links,
    ...(task ? { taskArn: task.taskArn } : {}),
    ...(settings.SLACK_NOTIFY_CHANNEL ? { notifyChannel: settings.SLACK_NOTIFY_CHANNEL } : {}),
    minUpdateIntervalMs: settings.PROGRESS_UPDATE_SECONDS * 1000,
    log: runLog,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.slackRetryDelaysMs ? { retryDelaysMs: options.slackRetryDelaysMs } : {}),
  });
  const ledgerDb = settings.LEDGER_TABLE_NAME ? createLedgerClient(options.ledgerClient) : undefined;
  const reporter: Reporter = ledgerDb
    ? allOf(
        slackReporter,
        new LedgerReporter(
          createLedger({ client: ledgerDb, tableName: settings.LEDGER_TABLE_NAME!, logger: runLog }),
          runLog,
          Date.now,
          createLocks({ client: ledgerDb, tableName: settings.LEDGER_TABLE_NAME!, logger: runLog }),
        ),
      )
    : slackReporter;
  try {
    const result = await runDrain({
      request,
      targets: new SentCommandsTargets(
        clients.ssm,
        request,
        documentNames(settings)[request.action],
        options.clock ?? systemClock,
      ),
      executor: new SsmExecutor(clients.ssm, {
        documentName: (action) => documentNames(settings)[action],
        log: runLog,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.pollDelay ? { pollDelay: options.pollDelay } : {}),
      }),
      reporter,
      log: runLog,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return result.exitCode;
  } finally {
    if (!options.clients) clients.ssm.destroy();
    if (!options.ledgerClient) ledgerDb?.destroy();
  }
}

/** The runner's Slack client for the start, progress and summary messages. */
export function runnerSlackClient(token: string, slackApiUrl: string): WebClient {
  return new WebClient(token, {
    slackApiUrl,
    // WebClient retries network errors and honours 429 Retry-After; SlackReporter retries the rest.
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    logLevel: SlackLogLevel.ERROR,
  });
}

/**
 * For the SIGTERM report only: Fargate kills the task soon after, so one quick attempt per call —
 * no retries, a 429 is not waited out, a request that hangs is abandoned.
 */
export function interruptionSlackClient(token: string, slackApiUrl: string): WebClient {
  return new WebClient(token, {
    slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: SLACK_INTERRUPTED_CALL_TIMEOUT_MS,
    logLevel: SlackLogLevel.ERROR,
  });
}

/** A malformed request has no trustworthy thread; the notification channel still hears of it. */
async function tellRejected(
  slack: WebClient,
  settings: RunnerSettings,
  problems: string[],
  log: Logger,
): Promise<void> {
  if (!settings.SLACK_NOTIFY_CHANNEL) return;
  try {
    await slack.chat.postMessage({
      channel: settings.SLACK_NOTIFY_CHANNEL,
      text: `:x: The Snow White runner refused a malformed run request; nothing was done.\n${problems.map((p) => `• ${escapeMrkdwn(p)}`).join('\n')}`,
    });
  } catch (err) {
    log.error('could not tell Slack about the rejected request', { error: describeError(err) });
  }
}

if (require.main === module) {
  const controller = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      process.stderr.write(`${JSON.stringify({ level: 'warn', message: `${sig} received: stopping` })}\n`);
      controller.abort();
    });
  main(process.env, { signal: controller.signal }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: 'error', message: describeError(err) })}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
