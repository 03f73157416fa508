import { createHash } from 'node:crypto';
import { RunTaskCommand, type ECSClient, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { runRequestSchema, type RunRequestInput } from './request';
import * as z from 'zod';
import { commaList } from './env-settings';

export interface LaunchSettings {
  cluster: string;
  taskDefinitionArn: string;
  /** The container that reads RUN_REQUEST. */
  containerName: string;
  subnetIds: readonly string[];
  securityGroupIds: readonly string[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
}

/**
 * Where and how the runner task is launched: read by the bot, and by the `snowwhite` command line
 * (from the same variables, or from the stack's outputs under these names).
 */
export const runnerLaunchSettingsShape = {
  RUNNER_CLUSTER: z.string().min(1, 'must name the ECS cluster (name or ARN)'),
  RUNNER_TASK_DEFINITION_ARN: z
    .string()
    .regex(
      /^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task-definition\/[\w-]+(:\d+)?$/,
      'must be an ECS task definition ARN',
    ),
  RUNNER_CONTAINER_NAME: z.string().min(1).default('runner'),
  RUNNER_SUBNET_IDS: commaList(/^subnet-[0-9a-f]+$/, 'a subnet id (subnet-…)'),
  RUNNER_SECURITY_GROUP_IDS: commaList(/^sg-[0-9a-f]+$/, 'a security group id (sg-…)'),
  /** Public subnets without a NAT gateway need a public IP to reach AWS and Slack. */
  RUNNER_ASSIGN_PUBLIC_IP: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
};

type LaunchSettingsEnv = z.output<z.ZodObject<typeof runnerLaunchSettingsShape>>;

/** The RUNNER_* settings, parsed → what RunTask needs. */
export const launchSettingsFrom = (s: LaunchSettingsEnv): LaunchSettings => ({
  cluster: s.RUNNER_CLUSTER,
  taskDefinitionArn: s.RUNNER_TASK_DEFINITION_ARN,
  containerName: s.RUNNER_CONTAINER_NAME,
  subnetIds: s.RUNNER_SUBNET_IDS,
  securityGroupIds: s.RUNNER_SECURITY_GROUP_IDS,
  assignPublicIp: s.RUNNER_ASSIGN_PUBLIC_IP,
});

/**
 * RunTask's idempotency key for a run: the same run id (the same prompt's Confirm clicked twice, a
 * retried delivery) always gives the same token, so ECS starts one task. 64 hex characters (ECS allows
 * up to 64 ASCII characters; tokens are scoped to the cluster and live 24 hours).
 */
export const clientTokenFor = (runId: string): string =>
  createHash('sha256').update(`snowwhite-run:${runId}`).digest('hex');

/** ECS `startedBy`: at most 36 of letters, digits, `-`, `_`, `/`. IAM names may also hold `+=,.@`. */
export function startedByFor(iamUserName: string): string {
  return `snowwhite/${iamUserName.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 36);
}

/** ECS tag values: at most 256 of letters, digits, spaces and `+ - = . _ : / @` (IAM names may hold `,`). */
export const ecsTagValue = (value: string): string =>
  value.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, '_').slice(0, 256);

export function buildRunTaskInput(
  launch: LaunchSettings,
  request: RunRequestInput,
  options: { clientToken: string },
): RunTaskCommandInput {
  // Parsed output has a fixed key order: the same request always serialises to the same text, which
  // RunTask's idempotency needs (same token with different parameters is a ConflictException).
  const run = runRequestSchema.parse(request);
  const tags = [
    { key: 'snowwhite:run-id', value: run.runId },
    { key: 'snowwhite:action', value: run.action },
    { key: 'snowwhite:requested-by', value: ecsTagValue(run.requestedBy.iamUserName) },
    ...(run.requestedBy.slackUserId
      ? [{ key: 'snowwhite:slack-user', value: run.requestedBy.slackUserId }]
      : []),
  ];
  return {
    cluster: launch.cluster,
    taskDefinition: launch.taskDefinitionArn,
    launchType: 'FARGATE',
    count: 1,
    clientToken: options.clientToken,
    startedBy: startedByFor(run.requestedBy.iamUserName),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...launch.subnetIds],
        securityGroups: [...launch.securityGroupIds],
        assignPublicIp: launch.assignPublicIp,
      },
    },
    overrides: {
      containerOverrides: [
        { name: launch.containerName, environment: [{ name: 'RUN_REQUEST', value: JSON.stringify(run) }] },
      ],
    },
    tags,
  };
}

export class RunnerLaunchError extends Error {
  constructor(
    message: string,
    /** `conflict`: this client token already launched a task with other parameters. */
    readonly kind: 'conflict' | 'refused',
  ) {
    super(message);
    this.name = 'RunnerLaunchError';
  }
}

/**
 * Starts the Fargate runner for one run request. Shared by the bot and the `snowwhite` command line:
 * `launchRunner(ecs, launchSettings, request, { clientToken })` → the task ARN.
 */
export async function launchRunner(
  ecs: ECSClient,
  launch: LaunchSettings,
  request: RunRequestInput,
  options: { clientToken: string },
): Promise<string> {
  const input = buildRunTaskInput(launch, request, options);
  let out;
  try {
    out = await ecs.send(new RunTaskCommand(input));
  } catch (err) {
    if ((err as { name?: string }).name === 'ConflictException')
      throw new RunnerLaunchError('this run was already launched with other parameters', 'conflict');
    throw err;
  }
  const arn = out.tasks?.[0]?.taskArn;
  if (arn) return arn;
  const reasons = (out.failures ?? []).map((f) => [f.arn, f.reason, f.detail].filter(Boolean).join(': '));
  throw new RunnerLaunchError(
    `ECS started no task${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
    'refused',
  );
}
