import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { launchSettingsFrom, runnerLaunchSettingsShape, type LaunchSettings } from '../launch';
import { STACK_OUTPUTS } from '../stack-outputs';
import { loadSettings } from '../env-settings';

// Where the command line launches the runner: the RUNNER_* variables (the bot's own) when set,
// otherwise the deployed SnowWhite stack's outputs — both read through the runner's schema for
// those variables (runnerLaunchSettingsShape).

const cliLaunchSchema = z.object({
  ...runnerLaunchSettingsShape,
  /** Only for `--follow` and the hint printed after a launch. */
  RUNNER_LOG_GROUP_NAME: z.string().min(1).optional(),
});

export type CliLaunchSettings = LaunchSettings & { logGroupName?: string };

function parse(source: string, raw: Record<string, string | undefined>): CliLaunchSettings {
  const s = loadSettings(source, cliLaunchSchema, raw);
  return {
    ...launchSettingsFrom(s),
    ...(s.RUNNER_LOG_GROUP_NAME ? { logGroupName: s.RUNNER_LOG_GROUP_NAME } : {}),
  };
}

export function launchSettingsFromEnv(env: NodeJS.ProcessEnv): CliLaunchSettings | undefined {
  if (!env.RUNNER_CLUSTER && !env.RUNNER_TASK_DEFINITION_ARN) return undefined;
  const raw = Object.fromEntries(Object.keys(cliLaunchSchema.shape).map((name) => [name, env[name]]));
  return parse('RUNNER_* environment variables', raw);
}

/** The stack output that carries each setting. */
const OUTPUT_FOR: Record<keyof typeof cliLaunchSchema.shape, string> = {
  RUNNER_CLUSTER: STACK_OUTPUTS.runnerCluster,
  RUNNER_TASK_DEFINITION_ARN: STACK_OUTPUTS.runnerTaskDefinitionArn,
  RUNNER_CONTAINER_NAME: STACK_OUTPUTS.runnerContainerName,
  RUNNER_SUBNET_IDS: STACK_OUTPUTS.runnerSubnetIds,
  RUNNER_SECURITY_GROUP_IDS: STACK_OUTPUTS.runnerSecurityGroupIds,
  RUNNER_ASSIGN_PUBLIC_IP: STACK_OUTPUTS.runnerAssignPublicIp,
  RUNNER_LOG_GROUP_NAME: STACK_OUTPUTS.runnerLogGroupName,
};

export async function launchSettingsFromStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<CliLaunchSettings> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) throw new Error(`stack ${stackName} not found`);
  const value = (key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  const raw = Object.fromEntries(Object.entries(OUTPUT_FOR).map(([name, output]) => [name, value(output)]));
  return parse(`outputs of stack ${stackName}`, raw);
}

/**
 * The stack's `/cli/runs` URL and the installation id an identity proof names (SNOWWHITE_CLI_URL is
 * not read: a signed request goes only to the stack's own API).
 */
export async function cliRouteOf(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<{ url: string; installationId: string }> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const value = (key: string) => out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  const url = value(STACK_OUTPUTS.cliRunsUrl);
  const installationId = value(STACK_OUTPUTS.installationId);
  if (!url || !installationId)
    throw new Error(
      `stack ${stackName} has no ${!url ? STACK_OUTPUTS.cliRunsUrl : STACK_OUTPUTS.installationId} output: deploy this version of Snow White first`,
    );
  return { url, installationId };
}
