import { App } from 'aws-cdk-lib';
import { DEFAULT_STACK_NAME } from '../runner/stack-outputs';
import { SnowWhiteStack } from './snowwhite-stack';

// `cdk synth` / `cdk deploy` entry point (cdk.json). Optional context (`-c key=value`):
// - notifyChannelId: Slack channel id for run summaries (else the NotifyChannelId stack parameter)
// - stackName: default "SnowWhite" (the `snowwhite` command line reads this stack's outputs)
// - documentNamePrefix: default "SnowWhite"
// - slackApiUrl: Slack Web API base URL, default Slack's own
// - slackTeamId, slackAppId: the Slack workspace (T…) and app (A…) served; others are refused
// The stack is environment-agnostic (region and account come at deploy time), so synth needs
// neither credentials nor network.
const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
};

new SnowWhiteStack(app, context('stackName') ?? DEFAULT_STACK_NAME, {
  notifyChannelId: context('notifyChannelId'),
  documentNamePrefix: context('documentNamePrefix'),
  slackApiUrl: context('slackApiUrl'),
  slackTeamId: context('slackTeamId'),
  slackAppId: context('slackAppId'),
});
