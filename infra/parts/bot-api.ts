import * as path from 'node:path';
import { Duration, SecretValue } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { BotEnv } from '../program-env';
import { REPO_ROOT } from '../repo';
import { botEsbuildArgs, mainFields } from '../../esbuild.config';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { CLI_ROUTE_PATH } from '../../runner/stack-outputs';
import { SECRET_PLACEHOLDER } from '../../bot/slack/credentials';

/** The path Slack posts slash commands and button presses to. */
const SLACK_EVENTS_PATH = '/slack/events';

/** The Slack app's credentials, JSON `{"signingSecret","botToken"}`: the caller's secret, else a new one to fill in. */
export function slackSecret(scope: Construct, existing?: secretsmanager.ISecret): secretsmanager.ISecret {
  return (
    existing ??
    new secretsmanager.Secret(scope, 'SlackSecret', {
      description: 'Snow White: Slack app signing secret and bot token, JSON {"signingSecret","botToken"}',
      // Placeholders only (the real values are set with put-secret-value after deploy). CloudFormation
      // writes this value again only if it changes here, so never edit it: that would wipe the real one.
      secretStringValue: SecretValue.unsafePlainText(
        JSON.stringify({ signingSecret: SECRET_PLACEHOLDER, botToken: SECRET_PLACEHOLDER }),
      ),
    })
  );
}

export interface BotFunction {
  readonly role: iam.Role;
  readonly fn: NodejsFunction;
}

/** The bot Lambda, bundled from bot/lambda.ts by the local esbuild, with its own role and log group. */
export function botFunction(
  scope: Construct,
  options: { logRetention: logs.RetentionDays; reservedConcurrency?: number; environment: BotEnv },
): BotFunction {
  // Its own role: the default one would carry the AWSLambdaBasicExecutionRole managed policy
  // (logs:CreateLogGroup on every log group of the account).
  const role = new iam.Role(scope, 'BotRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Snow White bot: authorizes Slack users against IAM and launches the runner',
  });
  const logGroup = new logs.LogGroup(scope, 'BotLogs', { retention: options.logRetention });
  logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, 'Bot', {
    description: 'Snow White Slack bot (/snowwhite)',
    entry: path.join(REPO_ROOT, 'bot', 'lambda.ts'),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    // Memory buys CPU: Slack wants an answer within 3 s, cold start included.
    memorySize: 512,
    // The asynchronous self-invocation does the slow work after Slack got its answer: IAM, sending the
    // commands, and a status answer's wait (at most MAX_STATUS_ANSWER_SECONDS). Shorter than the age at
    // which a claimed send counts as abandoned (SEND_CLAIM_STALE_MS), so a live attempt is never taken over.
    timeout: Duration.seconds(60),
    // The hand-off work catches its own errors; a Lambda retry after a timeout would prompt twice.
    retryAttempts: 0,
    ...(options.reservedConcurrency !== undefined
      ? { reservedConcurrentExecutions: options.reservedConcurrency }
      : {}),
    role,
    logGroup,
    bundling: {
      minify: true,
      sourceMap: true,
      format: OutputFormat.CJS,
      // The same build definition as `npm run build` (esbuild.config.ts).
      mainFields,
      esbuildArgs: botEsbuildArgs,
      // Bundle the AWS SDK too: the versions the tests ran with, not the runtime's.
      externalModules: [],
      forceDockerBundling: false,
    },
    // Stack traces through the bundle's source map.
    environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
  });
  return { role, fn };
}

export interface SlackApi {
  readonly api: apigwv2.HttpApi;
  /** The URL to give Slack for slash commands and interactivity. */
  readonly slackRequestUrl: string;
}

/** The HTTP API Slack calls: one route to the bot, access logs, and a throttle. */
export function slackApi(
  scope: Construct,
  options: { bot: lambda.IFunction; logRetention: logs.RetentionDays },
): SlackApi {
  const logGroup = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: options.logRetention });
  const api = new apigwv2.HttpApi(scope, 'Api', { description: 'Snow White: Slack → bot' });
  api.addRoutes({
    path: SLACK_EVENTS_PATH,
    methods: [apigwv2.HttpMethod.POST],
    integration: new HttpLambdaIntegration('Bot', options.bot),
  });
  const stage = api.defaultStage?.node.defaultChild as apigwv2.CfnStage;
  stage.accessLogSettings = {
    destinationArn: logGroup.logGroupArn,
    format: JSON.stringify({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
    }),
  };
  // Slack sends a few requests a minute; this only bounds what a flood can cost.
  stage.defaultRouteSettings = { throttlingRateLimit: 20, throttlingBurstLimit: 40 };
  return { api, slackRequestUrl: `${api.apiEndpoint}${SLACK_EVENTS_PATH}` };
}

/**
 * The command line's door: SigV4-signed requests, the caller checked like a Slack user. API Gateway
 * verifies the signature and passes the caller's ARN; operators need only execute-api:Invoke on this
 * route (SnowWhite.grantCliRuns), not RunTask or PassRole.
 */
export function cliRoute(
  scope: Construct,
  options: { api: apigwv2.HttpApi; bot: lambda.IFunction },
): { route: apigwv2.HttpRoute; url: string } {
  const [route] = options.api.addRoutes({
    path: CLI_ROUTE_PATH,
    methods: [apigwv2.HttpMethod.POST],
    integration: new HttpLambdaIntegration('BotCli', options.bot),
    authorizer: new HttpIamAuthorizer(),
  });
  if (!route) throw new Error('the command-line route was not created');
  return { route, url: `${options.api.apiEndpoint}${CLI_ROUTE_PATH}` };
}
