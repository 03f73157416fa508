import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUTS } from '../runner/stack-outputs';
import { SLACK_CHANNEL_ID_PATTERN } from '../runner/request';
import { SnowWhite, type SnowWhiteProps } from './snowwhite';

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

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(STACK_OUTPUTS.apiUrl, sw.api.apiEndpoint, 'HTTP API endpoint');
    output(
      STACK_OUTPUTS.slackRequestUrl,
      sw.slackRequestUrl,
      'Request URL for the Slack app: slash command and interactivity',
    );
    output(
      STACK_OUTPUTS.cliRunsUrl,
      sw.cliRunsUrl,
      'Where the snowwhite command line sends signed run requests (IAM authorization)',
    );
    output(STACK_OUTPUTS.slackSecretArn, sw.slackSecret.secretArn, 'Secret to put the Slack credentials in');
    output(STACK_OUTPUTS.botFunctionName, sw.botFunction.functionName, 'Bot Lambda function');
    output(STACK_OUTPUTS.runnerCluster, sw.cluster.clusterArn, 'ECS cluster the runner runs in');
    output(
      STACK_OUTPUTS.runnerTaskDefinitionArn,
      sw.taskDefinition.taskDefinitionArn,
      'Runner task definition',
    );
    output(STACK_OUTPUTS.runnerContainerName, sw.runnerContainer.containerName, 'Runner container name');
    output(STACK_OUTPUTS.runnerSubnetIds, sw.runnerNetwork.subnetIds, 'Subnets for runner tasks');
    output(
      STACK_OUTPUTS.runnerSecurityGroupIds,
      sw.runnerNetwork.securityGroupIds,
      'Security groups for runner tasks',
    );
    output(
      STACK_OUTPUTS.runnerAssignPublicIp,
      sw.runnerNetwork.assignPublicIp,
      'Whether runner tasks need a public IP',
    );
    output(STACK_OUTPUTS.runnerLogGroupName, sw.runnerLogGroup.logGroupName, "Runner tasks' log group");
    output(STACK_OUTPUTS.ssmDocumentQuiet, sw.documents.names.quiet, 'SSM document: quiet');
    output(STACK_OUTPUTS.ssmDocumentStop, sw.documents.names.stop, 'SSM document: stop');
    output(STACK_OUTPUTS.ssmDocumentWake, sw.documents.names.wake, 'SSM document: wake');
    output(STACK_OUTPUTS.ssmDocumentStatus, sw.documents.names.status, 'SSM document: status');
  }
}
