/**
 * The SnowWhite stack's output keys. Plain constants with no imports, so the `snowwhite` command
 * line can read the stack's outputs by these names without pulling in the CDK.
 */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  slackRequestUrl: 'SlackRequestUrl',
  cliRunsUrl: 'CliRunsUrl',
  slackSecretArn: 'SlackSecretArn',
  botFunctionName: 'BotFunctionName',
  runnerCluster: 'RunnerCluster',
  runnerTaskDefinitionArn: 'RunnerTaskDefinitionArn',
  runnerContainerName: 'RunnerContainerName',
  runnerSubnetIds: 'RunnerSubnetIds',
  runnerSecurityGroupIds: 'RunnerSecurityGroupIds',
  runnerAssignPublicIp: 'RunnerAssignPublicIp',
  runnerLogGroupName: 'RunnerLogGroupName',
  ssmDocumentQuiet: 'SsmDocumentQuiet',
  ssmDocumentStop: 'SsmDocumentStop',
  ssmDocumentWake: 'SsmDocumentWake',
  ssmDocumentStatus: 'SsmDocumentStatus',
  /** The exact `execute-api:Invoke` resource of the command line's route, for an operator's policy. */
  cliInvokeResource: 'CliInvokeResource',
  ledgerTableName: 'LedgerTableName',
  reminderRuleName: 'ReminderRuleName',
  /** The fleet regions the documents are deployed to, comma-separated (`snowwhite doctor` checks each). */
  fleetRegions: 'FleetRegions',
  /** The Slack app manifest with this stack's request URL filled in (JSON; `snowwhite manifest` prints it). */
  slackManifest: 'SlackManifest',
} as const;

/** The stack name `infra/app.ts` deploys, and the command line's default `--stack`. */
export const DEFAULT_STACK_NAME = 'SnowWhite';

/**
 * The command line's route on the stack's HTTP API (IAM authorization): the command line signs its
 * run requests with the caller's credentials and the bot authorizes and launches them.
 */
export const CLI_ROUTE_PATH = '/cli/runs';
