import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUTS } from '../runner/stack-outputs';
import { SLACK_CHANNEL_ID_PATTERN } from '../runner/request';
import { SnowWhite, type SnowWhiteProps } from './snowwhite';
import { slackManifestJson } from './parts/slack-manifest';

export interface SnowWhiteStackProps extends StackProps, Partial<SnowWhiteProps> {}

/**
 * Snow White as a stack of its own. Without `notifyChannelId`, the channel becomes the CloudFormation
 * parameter `NotifyChannelId`: synth needs no value, and `cdk deploy` asks for one.
 */
export class SnowWhiteStack extends Stack {
  readonly snowWhite: SnowWhite;

  constructor(scope: Construct, id: string, props: SnowWhiteStackProps = {}) {
    super(scope, id, {
      description: 'Snow White: drain Sidekiq workers of Elastic Beanstalk fleets from Slack',
      ...props,
    });
    const notifyChannelId =
      props.notifyChannelId ??
      new CfnParameter(this, 'NotifyChannelId', {
        type: 'String',
        description: 'Slack channel id (C…) that receives every run summary',
        allowedPattern: SLACK_CHANNEL_ID_PATTERN.source,
        constraintDescription: 'must be a Slack channel id such as C0123456789',
      }).valueAsString;
    const sw = new SnowWhite(this, 'SnowWhite', { ...props, notifyChannelId });
    this.snowWhite = sw;

    // One entry per name in STACK_OUTPUTS, which the command line reads: a name added there without
    // a value here, or a value under a name it does not know, fails the type check.
    const outputs: Record<keyof typeof STACK_OUTPUTS, [value: string, description: string]> = {
      apiUrl: [sw.api.apiEndpoint, 'HTTP API endpoint'],
      slackRequestUrl: [sw.slackRequestUrl, 'Request URL for the Slack app: slash command and interactivity'],
      cliRunsUrl: [
        sw.cliRunsUrl,
        'Where the snowwhite command line sends signed run requests (IAM authorization)',
      ],
      slackSecretArn: [sw.slackSecret.secretArn, 'Secret to put the Slack credentials in'],
      botFunctionName: [sw.botFunction.functionName, 'Bot Lambda function'],
      runnerCluster: [sw.cluster.clusterArn, 'ECS cluster the runner runs in'],
      runnerTaskDefinitionArn: [sw.taskDefinition.taskDefinitionArn, 'Runner task definition'],
      runnerContainerName: [sw.runnerContainer.containerName, 'Runner container name'],
      runnerSubnetIds: [sw.runnerNetwork.subnetIds, 'Subnets for runner tasks'],
      runnerSecurityGroupIds: [sw.runnerNetwork.securityGroupIds, 'Security groups for runner tasks'],
      runnerAssignPublicIp: [sw.runnerNetwork.assignPublicIp, 'Whether runner tasks need a public IP'],
      runnerLogGroupName: [sw.runnerLogGroup.logGroupName, "Runner tasks' log group"],
      ssmDocumentQuiet: [sw.documents.names.quiet, 'SSM document: quiet'],
      ssmDocumentStop: [sw.documents.names.stop, 'SSM document: stop'],
      ssmDocumentWake: [sw.documents.names.wake, 'SSM document: wake'],
      ssmDocumentStatus: [sw.documents.names.status, 'SSM document: status'],
      cliInvokeResource: [
        sw.cliRoute.routeArn,
        "The execute-api:Invoke resource an operator's IAM policy needs for the snowwhite command line",
      ],
      ledgerTableName: [sw.fleetMemory.table.tableName, 'DynamoDB table of runs, fleet states and locks'],
      reminderRuleName: [sw.fleetMemory.reminderRule.ruleName, 'EventBridge rule that runs the reminders'],
      fleetRegions: [sw.fleetRegions.join(','), 'Regions whose fleets Snow White may command'],
      slackManifest: [
        slackManifestJson(this, sw.slackRequestUrl),
        "Slack app manifest with this stack's request URL (`snowwhite manifest` prints it)",
      ],
    };
    for (const [key, [value, description]] of Object.entries(outputs))
      new CfnOutput(this, STACK_OUTPUTS[key as keyof typeof STACK_OUTPUTS], { value, description });
  }
}
