import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import type { LaunchSettings } from '../../bot/launch';
import { STACK_OUTPUTS } from '../../infra/outputs';
import { commaList } from '../env-settings';

/**
 * Where the command line launches the runner: RUNNER_* variables (the bot's own names) when set,
 * otherwise the outputs of the deployed SnowWhite stack.
 */

const launchSchema = z.object({
  cluster: z.string().min(1),
  taskDefinitionArn: z.string().regex(/^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task-definition\/[\w-]+(:\d+)?$/),
  containerName: z.string().min(1).default('runner'),
  subnetIds: commaList(/^subnet-[0-9a-f]+$/, 'a subnet id'),
  securityGroupIds: commaList(/^sg-[0-9a-f]+$/, 'a security group id'),
  assignPublicIp: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
  logGroupName: z.string().min(1).optional(),
});

export type CliLaunchSettings = LaunchSettings & { logGroupName?: string };

function parse(raw: Record<string, string | undefined>, source: string): CliLaunchSettings {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const r = launchSchema.safeParse(present);
  if (r.success) return r.data;
  throw new Error(
    `${source}: ${r.error.issues.map((i) => `${String(i.path[0])} ${i.input === undefined ? 'is missing' : i.message}`).join('; ')}`,
  );
}

export function launchSettingsFromEnv(env: NodeJS.ProcessEnv): CliLaunchSettings | undefined {
  if (!env.RUNNER_CLUSTER && !env.RUNNER_TASK_DEFINITION_ARN) return undefined;
  return parse(
    {
      cluster: env.RUNNER_CLUSTER,
      taskDefinitionArn: env.RUNNER_TASK_DEFINITION_ARN,
      containerName: env.RUNNER_CONTAINER_NAME,
      subnetIds: env.RUNNER_SUBNET_IDS,
      securityGroupIds: env.RUNNER_SECURITY_GROUP_IDS,
      assignPublicIp: env.RUNNER_ASSIGN_PUBLIC_IP,
      logGroupName: env.RUNNER_LOG_GROUP_NAME,
    },
    'RUNNER_* environment variables',
  );
}

export async function launchSettingsFromStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<CliLaunchSettings> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) throw new Error(`stack ${stackName} not found`);
  const value = (key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  return parse(
    {
      cluster: value(STACK_OUTPUTS.runnerCluster),
      taskDefinitionArn: value(STACK_OUTPUTS.runnerTaskDefinitionArn),
      containerName: value(STACK_OUTPUTS.runnerContainerName),
      subnetIds: value(STACK_OUTPUTS.runnerSubnetIds),
      securityGroupIds: value(STACK_OUTPUTS.runnerSecurityGroupIds),
      assignPublicIp: value(STACK_OUTPUTS.runnerAssignPublicIp),
      logGroupName: value(STACK_OUTPUTS.runnerLogGroupName),
    },
    `outputs of stack ${stackName}`,
  );
}
