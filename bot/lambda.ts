import { InvokeCommand } from '@aws-sdk/client-lambda';
import { WebClient } from '@slack/web-api';
import { createBot, type Bot } from './slack/app';
import { createAuthorizer } from './auth/authorizer';
import { createIamDirectory } from './auth/iam-directory';
import { isHttpEvent, normalizeHttpEvent, refusalAnswer } from './slack/http-event';
import { looksInternal, openInternalEvent, signWork, type Work } from './deferred/handoff';
import { launchSettingsFrom } from '../runner/launch';
import { createLogger, describeError, type Logger } from '../runner/log';
import { createBotAwsClients, type BotAwsClients } from './aws-clients';
import { boltLogger } from './slack/bolt-logger';
import { createPolicySimulator } from './auth/policy-simulator';
import { RunMemo } from './deferred/run-memo';
import { documentNames } from '../runner/settings';
import { loadBotSettings, type BotSettings } from './settings';
import {
  createSlackCredentialsSource,
  SECRET_PLACEHOLDER,
  SlackSecretPlaceholderError,
  type SlackCredentials,
} from './slack/credentials';
import { createSlackOut } from './slack/out';
import type { WorkDeps } from './deferred/deps';
import { runWork } from './deferred/run-work';
import { createLedger, createLedgerClient } from '../runner/ledger/store';
import { createSendClaims, memorySendClaims } from '../runner/ledger/sends';
import { systemClock, type Clock } from '../runner/drain/clock';
import { createLocks } from '../runner/ledger/locks';
import { sendReminders } from './memory/remind';
import { reconcile } from './memory/reconcile';
import { handleCliRun, isCliRouteEvent } from './cli/route';
import { createCallerIdentityVerifier, type CallerIdentityVerifier } from './cli/sts-identity';
import { ledgerUsedProofs } from './cli/proof-replay';
import { sealButtonValue } from './slack/buttons';
import { createRateLimiter, type RateLimiter } from '../runner/ledger/limits';

export interface LambdaOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** AWS clients (tests pass mocked ones); built on first use otherwise. */
  clients?: BotAwsClients;
  fetch?: typeof fetch;
  nowSeconds?: () => number;
  newRunId?: () => string;
  /** Wall-clock milliseconds for the ledger (tests move it to pass reminder delays). */
  nowMs?: () => number;
  /** Sleeps and time of the status polling (the bench passes a virtual clock). */
  clock?: Clock;
}

export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

interface Container {
  settings: BotSettings;
  clients: BotAwsClients;
  credentials: () => Promise<SlackCredentials>;
  /** Reads the Slack secret again (after a signature mismatch); undefined when nothing new. */
  refreshCredentials: () => Promise<SlackCredentials | undefined>;
  bot: (credentials: SlackCredentials) => Bot;
  workDeps: () => Promise<WorkDeps>;
  commandLimit: RateLimiter | undefined;
  verifyCaller: CallerIdentityVerifier;
}

/** The account of an ARN (the runner's task definition: the account the bot serves). */
const accountOf = (arn: string): string => arn.split(':')[4] ?? '';

/** The last value made for a set of credentials: rebuilt only when a rotation changed them. */
function perCredentials<T>(make: (c: SlackCredentials) => T): (c: SlackCredentials) => T {
  let last: { key: string; value: T } | undefined;
  return (c) => {
    const key = `${c.signingSecret}\n${c.botToken}\n${c.teamId ?? ''}\n${c.appId ?? ''}`;
    if (last?.key !== key) last = { key, value: make(c) };
    return last.value;
  };
}

/**
 * The bot's Lambda handler (exported as `handler`, bundled to dist/bot/lambda.js), by kind of event:
 * - the command line's SigV4-signed `POST /cli/runs` (HTTP API, IAM authorization) → authorize, launch;
 * - API Gateway HTTP API (v2) and REST (v1) requests from Slack → Bolt, which only acknowledges;
 * - the bot's own asynchronous self-invocations (signed internal events) → the slow work;
 * - EventBridge's standard `Scheduled Event` (every 15 minutes) → the reminder check. Anyone who may
 *   invoke the function could send one too: it only makes the same idempotent check run early;
 * - anything else → refused.
 * Settings, credentials and AWS clients are built once per container, on first use.
 */
export function createLambdaHandler(options: LambdaOptions = {}): LambdaHandler {
  const logger = options.logger ?? createLogger({ fields: { program: 'snowwhite-bot' } });
  const nowSeconds = options.nowSeconds ?? (() => Date.now() / 1000);
  let container: Container | undefined;

  const getContainer = (): Container => {
    if (container) return container;
    const settings = loadBotSettings(options.env ?? process.env);
    if (settings.SLACK_SIGNING_SECRET) logger.addSecret(settings.SLACK_SIGNING_SECRET);
    if (settings.SLACK_BOT_TOKEN) logger.addSecret(settings.SLACK_BOT_TOKEN);
    const clients = options.clients ?? createBotAwsClients();
    const source = createSlackCredentialsSource(
      settings,
      () => clients.secretsManager,
      () => nowSeconds() * 1000,
    );
    const registered = (c: SlackCredentials) => {
      logger.addSecret(c.signingSecret);
      logger.addSecret(c.botToken);
      return c;
    };
    const credentials = async () => registered(await source());
    const refreshCredentials = async () => {
      const c = await source.refresh();
      return c && registered(c);
    };
    // Built once per container: the tag index and the run memo outlive a credentials rotation.
    const directory = createIamDirectory({
      iam: clients.iam,
      cacheSeconds: settings.IAM_TAG_CACHE_SECONDS,
      concurrency: settings.IAM_LOOKUP_CONCURRENCY,
    });
    const authorize = createAuthorizer({
      directory,
      simulate: createPolicySimulator(clients.iam),
      targets: {
        taskDefinitionArn: settings.RUNNER_TASK_DEFINITION_ARN,
        ssmDocuments: documentNames(settings),
      },
      logger,
    });
    const memo = new RunMemo();
    const ledgerClient = settings.LEDGER_TABLE_NAME ? createLedgerClient(clients.dynamodb) : undefined;
    const ledgerTable =
      settings.LEDGER_TABLE_NAME && ledgerClient
        ? { client: ledgerClient, tableName: settings.LEDGER_TABLE_NAME, logger }
        : undefined;
    const ledger = ledgerTable ? createLedger(ledgerTable) : undefined;
    const locks = ledgerTable ? createLocks(ledgerTable) : undefined;
    // With the ledger, a run's send is claimed in DynamoDB (every container sees it); without, per container.
    const sendClaims = ledgerTable ? createSendClaims(ledgerTable) : memorySendClaims();
    const depsFor = perCredentials(({ botToken, signingSecret }): WorkDeps => {
      const web = new WebClient(botToken, {
        slackApiUrl: settings.SLACK_API_URL,
        logger: boltLogger(logger),
        retryConfig: { retries: 2 },
      });
      return {
        authorize,
        elasticBeanstalk: clients.elasticBeanstalk,
        ecs: clients.ecs,
        launch: launchSettingsFrom(settings),
        notifyChannel: settings.SLACK_NOTIFY_CHANNEL,
        slack: createSlackOut({ web, logger, ...(options.fetch ? { fetch: options.fetch } : {}) }),
        memo,
        sealButton: (value) => sealButtonValue(value, signingSecret, nowSeconds()),
        logger,
        directory,
        ...(settings.FLEET_REGIONS ? { fleetRegions: settings.FLEET_REGIONS } : {}),
        ...(ledger ? { ledger } : {}),
        ...(locks ? { locks } : {}),
        reminders: {
          afterSeconds: settings.REMINDER_AFTER_SECONDS,
          everySeconds: settings.REMINDER_EVERY_SECONDS,
        },
        nowMs: options.nowMs ?? Date.now,
        ssm: clients.ssm,
        ssmSendCommand: clients.ssmSendCommand,
        documents: documentNames(settings),
        sendClaims,
        status: {
          maxInstances: settings.STATUS_MAX_INSTANCES,
          answerWithinMs: settings.STATUS_ANSWER_SECONDS * 1000,
        },
        clock: options.clock ?? systemClock,
      };
    });
    const workDeps = async () => depsFor(await credentials());
    const handOff = async (work: Work): Promise<void> => {
      const { signingSecret } = await credentials();
      const event = signWork(work, signingSecret, nowSeconds());
      const functionName = settings.AWS_LAMBDA_FUNCTION_NAME;
      if (!functionName) {
        // Local run (no Lambda): do the slow part in this process once the answer has gone.
        setImmediate(() => void workDeps().then((deps) => runWork(deps, event.work)));
        return;
      }
      const out = await clients.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
      );
      if (out.StatusCode !== 202) throw new Error(`asynchronous invoke answered ${String(out.StatusCode)}`);
    };
    // Kept in the ledger table: one budget per person across every container and door (Slack user
    // ids and principal ARNs cannot collide). Without a ledger table there is no limit (logged).
    const limiter = (budget: string, perMinute: number) =>
      ledgerTable
        ? createRateLimiter({ ...ledgerTable, budget, perMinute, nowMs: options.nowMs ?? Date.now })
        : undefined;
    const commandLimit = limiter('commands', settings.COMMANDS_PER_MINUTE);
    const homeLimit = limiter('home', settings.HOME_OPENS_PER_MINUTE);
    if (!ledgerTable) logger.debug('rate_limit_disabled', { reason: 'LEDGER_TABLE_NAME is not set' });
    const bot = perCredentials(({ signingSecret, botToken, teamId, appId }) =>
      createBot({
        signingSecret,
        botToken,
        slackApiUrl: settings.SLACK_API_URL,
        handOff,
        logger,
        ...(commandLimit ? { commandLimit } : {}),
        ...(homeLimit ? { homeLimit } : {}),
        ...(settings.FLEET_REGIONS ? { fleetRegions: settings.FLEET_REGIONS } : {}),
        // The secret's ids (settable without a redeploy) win over the stack's.
        installation: {
          ...((teamId ?? settings.SLACK_TEAM_ID) ? { teamId: teamId ?? settings.SLACK_TEAM_ID } : {}),
          ...((appId ?? settings.SLACK_APP_ID) ? { appId: appId ?? settings.SLACK_APP_ID } : {}),
        },
        ...(options.nowSeconds ? { nowSeconds: options.nowSeconds } : {}),
        ...(options.newRunId ? { newRunId: options.newRunId } : {}),
      }),
    );
    // One per container (its memory of proofs seen); the ledger table knows every container's.
    const verifyCaller = createCallerIdentityVerifier({
      sts: clients.sts,
      installationId: settings.SNOWWHITE_INSTALLATION_ID,
      nowMs: () => nowSeconds() * 1000,
      ...(ledgerTable ? { used: ledgerUsedProofs(ledgerTable) } : {}),
    });
    container = {
      settings,
      clients,
      credentials,
      refreshCredentials,
      bot,
      workDeps,
      commandLimit,
      verifyCaller,
    };
    return container;
  };

  /** A bad signature may mean the secret was just rotated: read it once more, then answer 401. */
  const handleHttp = async (c: Container, event: unknown, context: unknown) => {
    const first = await c.bot(await c.credentials()).handle(event, context);
    if (first.statusCode !== 401) return first;
    const fresh = await c.refreshCredentials();
    if (!fresh) return first;
    logger.info('slack_credentials_refreshed', { reason: 'a request signature did not match' });
    return c.bot(fresh).handle(event, context);
  };

  /**
   * The secret still holds the placeholder: the placeholder error (after one clear log line), else
   * undefined. The placeholder is public, so nothing signed with it is believed and nothing is served.
   */
  const placeholderIn = async (c: Container): Promise<SlackSecretPlaceholderError | undefined> => {
    try {
      await c.credentials();
      return undefined;
    } catch (err) {
      if (!(err instanceof SlackSecretPlaceholderError)) throw err;
      logger.error('slack_secret_placeholder', { fields: err.fields, error: err.message });
      return err;
    }
  };

  return async (event, context) => {
    try {
      if (isCliRouteEvent(event) || isHttpEvent(event) || looksInternal(event) || isScheduledEvent(event)) {
        const placeholder = await placeholderIn(getContainer());
        if (placeholder) return placeholderAnswer(event, placeholder);
      }
      if (isCliRouteEvent(event)) {
        const c = getContainer();
        return await handleCliRun(
          {
            ...(await c.workDeps()),
            iam: c.clients.iam,
            account: accountOf(c.settings.RUNNER_TASK_DEFINITION_ARN),
            ...(c.commandLimit ? { commandLimit: c.commandLimit } : {}),
            verifyCaller: c.verifyCaller,
            cliRoles: c.settings.CLI_ROLES,
            ...(options.newRunId ? { newRunId: options.newRunId } : {}),
          },
          event,
        );
      }
      if (isHttpEvent(event)) return await handleHttp(getContainer(), event, context);
      if (looksInternal(event)) {
        const c = getContainer();
        const opened = openInternalEvent(event, (await c.credentials()).signingSecret, nowSeconds());
        if (!opened.ok) {
          logger.warn('internal_event_rejected', { reason: opened.reason });
          return { ok: false, reason: opened.reason };
        }
        await runWork(await c.workDeps(), opened.work);
        return { ok: true };
      }
      if (isScheduledEvent(event)) {
        const deps = await getContainer().workDeps();
        // First make the ledger agree with ECS and Elastic Beanstalk, then remind from it.
        const reconciled = await reconcile(deps);
        logger.info('reconcile', { ...reconciled });
        const result = await sendReminders(deps);
        logger.info('reminder_check', result);
        return { ok: true, ...result, ...reconciled };
      }
      logger.warn('unknown_event', {
        note: 'neither an API Gateway request, an internal event nor a scheduled event',
      });
      return { statusCode: 400, body: '' };
    } catch (err) {
      logger.error('handler_failed', { error: describeError(err) });
      return { statusCode: 500, body: '' };
    }
  };
}

/** What each kind of event gets while the secret holds the placeholder: a clear refusal, nothing done. */
function placeholderAnswer(event: unknown, err: SlackSecretPlaceholderError): unknown {
  if (isCliRouteEvent(event))
    return {
      statusCode: 503,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        error: 'not_configured',
        detail: `Snow White is not set up yet: ${err.message}`,
      }),
    };
  if (isHttpEvent(event)) {
    // The signature cannot be checked (the real secret is not there), so the answer says nothing but
    // that the bot is not set up; a slash command shows it to the person who typed it.
    return refusalAnswer(
      normalizeHttpEvent(event),
      `:warning: Snow White is not set up yet: its Slack secret still holds the placeholder \`${SECRET_PLACEHOLDER}\` (${err.fields.join(' and ')}). An AWS administrator must put the Slack app's real signing secret and bot token in it (README, *Put the Slack credentials in the secret*). Nothing was done.`,
      503,
    );
  }
  return { ok: false, reason: 'the Slack secret holds the placeholder' };
}

/** EventBridge's standard scheduled event (`detail-type` "Scheduled Event", `source` "aws.events"). */
export const isScheduledEvent = (event: unknown): boolean =>
  typeof event === 'object' &&
  event !== null &&
  (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event' &&
  (event as Record<string, unknown>).source === 'aws.events';

/** The Lambda entry point (dist/bot/lambda.js): see createLambdaHandler. */
export const handler: LambdaHandler = createLambdaHandler();
