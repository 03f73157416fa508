import { Duration, IgnoreMode } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { RunnerEnv, RunnerSecrets } from '../program-env';
import { REPO_ROOT } from '../repo';

/** The runner's container name; the bot's container overrides address it by this name. */
export const RUNNER_CONTAINER_NAME = 'runner';

/**
 * What the runner's Docker build may see of the repository (Docker ignore syntax: everything is
 * excluded, then the inputs of runner/Dockerfile are let back in): the package files, and the sources
 * esbuild bundles from runner/main.ts. The command line (runner/cli*, runner/local/), the bot, the
 * tests and sidekiqctl.sh stay out, so changing them leaves the image as it is.
 */
export const RUNNER_BUILD_CONTEXT_EXCLUDE = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!runner/Dockerfile',
  '!runner/main.ts',
  '!runner/env-settings.ts',
  '!runner/log.ts',
  '!runner/error-id.ts',
  '!runner/request.ts',
  '!runner/settings.ts',
  '!runner/aws/',
  '!runner/drain/',
  '!runner/ledger/',
  '!runner/slack/',
  '!ssm/actions.ts',
  '!ssm/documents.ts',
];

export interface RunnerTaskOptions {
  readonly vpc: ec2.IVpc;
  /** @default a new cluster in `vpc` */
  readonly cluster?: ecs.ICluster;
  /** The task definition family's prefix (the SSM documents' prefix). */
  readonly namePrefix: string;
  readonly architecture: ecs.CpuArchitecture;
  readonly logRetention: logs.RetentionDays;
  /** Holds the bot token under the JSON key `botToken`. */
  readonly slackSecret: secretsmanager.ISecret;
  readonly environment: RunnerEnv;
}

export interface RunnerTask {
  readonly cluster: ecs.ICluster;
  readonly logGroup: logs.LogGroup;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
}

/** The runner as ECS runs it: cluster, Fargate task definition, image built from runner/Dockerfile, log group. */
export function runnerTask(scope: Construct, options: RunnerTaskOptions): RunnerTask {
  const cluster = options.cluster ?? new ecs.Cluster(scope, 'Cluster', { vpc: options.vpc });
  const logGroup = new logs.LogGroup(scope, 'RunnerLogs', { retention: options.logRetention });
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'RunnerTask', {
    family: `${options.namePrefix}-Runner`,
    cpu: 256,
    memoryLimitMiB: 512,
    runtimePlatform: {
      cpuArchitecture: options.architecture,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const container = taskDefinition.addContainer('Runner', {
    containerName: RUNNER_CONTAINER_NAME,
    image: ecs.ContainerImage.fromAsset(REPO_ROOT, {
      file: 'runner/Dockerfile',
      platform:
        options.architecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
      exclude: RUNNER_BUILD_CONTEXT_EXCLUDE,
    }),
    // An init process (tini) as PID 1 forwards SIGTERM to the runner when ECS stops the task.
    linuxParameters: new ecs.LinuxParameters(scope, 'RunnerLinuxParameters', { initProcessEnabled: true }),
    // Fargate's maximum: the runner's grace period to report in Slack before SIGKILL.
    stopTimeout: Duration.seconds(120),
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'runner' }),
    secrets: runnerSecrets(options.slackSecret),
    environment: options.environment,
  });
  return { cluster, logGroup, taskDefinition, container };
}

function runnerSecrets(slackSecret: secretsmanager.ISecret): RunnerSecrets<ecs.Secret> {
  return { SLACK_BOT_TOKEN: ecs.Secret.fromSecretsManager(slackSecret, 'botToken') };
}
