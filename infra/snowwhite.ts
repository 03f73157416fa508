import { Stack, Token } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { regionSchema, slackChannelIdSchema } from '../runner/request';
import { ACTIONS } from '../ssm/actions';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { botFunction, cliRoute, slackApi, slackSecret } from './parts/bot-api';
import { SnowWhiteDocuments } from './parts/documents';
import { allowSelfInvoke, grantBot, grantRunnerTask, type InstanceTagCondition } from './parts/policies';
import { runnerNetwork } from './parts/runner-network';
import { RUNNER_CONTAINER_NAME, runnerTask } from './parts/runner-task';
import type { RunnerLaunchEnv, SharedEnv } from './program-env';
import { validationError } from './validation-error';
import { FleetMemory } from './fleet-memory';

export { REPO_ROOT } from './repo';
export { SIDEKIQCTL_SCRIPT, SnowWhiteDocuments, type SnowWhiteDocumentsProps } from './parts/documents';
export { type InstanceTagCondition } from './parts/policies';
export { RUNNER_BUILD_CONTEXT_EXCLUDE, RUNNER_CONTAINER_NAME } from './parts/runner-task';

/** The props of {@link SnowWhite}. */
export interface SnowWhiteProps {
  /** Slack channel id (C…, G… or D…) that receives every run's summary. */
  readonly notifyChannelId: string;
  /**
   * VPC the runner's Fargate tasks run in.
   * @default the cluster's VPC when `cluster` is given, else a new VPC with one public subnet per
   * AZ (2 AZs) and no NAT gateway, so nothing costs money while no task runs.
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the runner's tasks. Tasks need outbound HTTPS to AWS APIs and Slack:
   * public subnets (a public IP is then assigned) or private subnets with a NAT gateway or endpoints.
   * @default the VPC's public subnets when it has any, else its private ones
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Whether the runner's tasks get a public IP.
   * @default true when the selected subnets are public
   */
  readonly assignPublicIp?: boolean;
  /**
   * Security groups for the runner's tasks.
   * @default a new group with no ingress and egress on TCP 443 only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * An existing ECS cluster to run the runner's tasks in.
   * @default a new cluster (no instances, no standing cost)
   */
  readonly cluster?: ecs.ICluster;
  /**
   * An existing Secrets Manager secret holding `{"signingSecret": "…", "botToken": "xoxb-…"}`.
   * @default a new secret with placeholder values, to be set after deploy
   */
  readonly slackSecret?: secretsmanager.ISecret;
  /**
   * How long the bot's, the runner's and the API's logs are kept.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Base URL of Slack's Web API.
   * @default Slack's own (`https://slack.com/api/`)
   */
  readonly slackApiUrl?: string;
  /**
   * Prefix of the SSM document names (`<prefix>-Quiet`, `-Stop`, `-Wake`, `-Status`) and of the
   * runner's task definition family (`<prefix>-Runner`). Fixed names let IAM policies (and the IAM
   * policy simulation done for each Slack user) name one action's document and the runner.
   * @default 'SnowWhite'
   */
  readonly documentNamePrefix?: string;
  /**
   * Regions whose Elastic Beanstalk fleets the runner may command. The documents are created only in
   * this stack's region: for another region, deploy {@link SnowWhiteDocuments} there with the same prefix.
   * @default [this stack's region]
   */
  readonly fleetRegions?: string[];
  /**
   * Restricts `ssm:SendCommand` to EC2 instances carrying a tag; `false` allows every instance of the account.
   * @default { key: 'elasticbeanstalk:environment-name' } — Elastic Beanstalk instances only
   */
  readonly instanceTag?: InstanceTagCondition | false;
  /**
   * CPU architecture of the runner's Fargate tasks. Graviton (ARM64) Fargate costs about 20% less;
   * the image's build stage runs on the builder's own platform, so no emulation is needed to build it.
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly runnerArchitecture?: ecs.CpuArchitecture;
  /**
   * The Slack workspace (T…) and app (A…) the bot serves: requests from any other are refused.
   * @default not checked
   */
  readonly slackTeamId?: string;
  /** @default not checked */
  readonly slackAppId?: string;
  /**
   * Reserved concurrency of the bot function: bounds what a flood of requests can cost and how many
   * IAM simulations run at once. `false` reserves none (an account whose concurrency limit is still
   * at its initial value cannot reserve any).
   * @default 10
   */
  readonly botReservedConcurrency?: number | false;
  /**
   * IAM roles (by name) whose sessions may use the `snowwhite` command line through the bot. A role
   * session is authorized as its role: a session policy that narrows it is not part of the simulation,
   * so list only roles whose sessions are not narrowed. IAM users need no listing.
   * @default [] — IAM users only
   */
  readonly cliRoles?: string[];
}

/**
 * Snow White on AWS: Slack → HTTP API → bot Lambda → Fargate runner → SSM Run Command on the
 * Elastic Beanstalk fleet. Every IAM statement names the narrowest resource AWS supports.
 *
 * The parts (infra/parts/) add their resources to this construct's own scope rather than to nested
 * constructs: construct paths, and so logical ids, stay what they were, and CloudFormation replaces
 * nothing (the Slack secret above all, which holds the real credentials).
 */
export class SnowWhite extends Construct {
  readonly api: apigwv2.HttpApi;
  /** The URL to give Slack for slash commands and interactivity. */
  readonly slackRequestUrl: string;
  /** The command line's route (`POST /cli/runs`, IAM authorization) and its URL. */
  readonly cliRoute: apigwv2.HttpRoute;
  readonly cliRunsUrl: string;
  /**
   * This installation's id, which every command-line identity proof must name (the stack's id and
   * this construct's address): a proof made for another installation is refused.
   */
  readonly installationId: string;
  readonly botFunction: NodejsFunction;
  readonly botRole: iam.Role;
  readonly slackSecret: secretsmanager.ISecret;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly runnerContainer: ecs.ContainerDefinition;
  readonly runnerLogGroup: logs.LogGroup;
  readonly vpc: ec2.IVpc;
  readonly runnerSubnets: ec2.SelectedSubnets;
  readonly runnerSecurityGroups: ec2.ISecurityGroup[];
  readonly assignPublicIp: boolean;
  /** The runner's network as the bot's RUNNER_* settings (and the stack outputs) spell it. */
  readonly runnerNetwork: {
    subnetIds: string;
    securityGroupIds: string;
    assignPublicIp: 'ENABLED' | 'DISABLED';
  };
  readonly documents: SnowWhiteDocuments;
  /** The regions whose fleets the runner may command (the documents must exist in each). */
  readonly fleetRegions: string[];
  /** The run ledger, App Home's and the reminders' source. */
  readonly fleetMemory: FleetMemory;

  constructor(scope: Construct, id: string, props: SnowWhiteProps) {
    super(scope, id);
    checkNotifyChannelId(this, props.notifyChannelId);
    const regions = checkFleetRegions(this, props.fleetRegions ?? [Stack.of(this).region]);
    this.fleetRegions = regions;
    const cliRoles = checkCliRoles(this, props.cliRoles ?? []);
    this.installationId = `${Stack.of(this).stackId}#${this.node.addr}`;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const architecture = props.runnerArchitecture ?? ecs.CpuArchitecture.ARM64;
    const instanceTag =
      props.instanceTag === undefined ? { key: 'elasticbeanstalk:environment-name' } : props.instanceTag;

    this.slackSecret = slackSecret(this, props.slackSecret);
    this.documents = new SnowWhiteDocuments(this, 'Documents', {
      documentNamePrefix: props.documentNamePrefix,
    });
    // Settings both programs read, named by their schemas (bot/settings.ts, runner/settings.ts).
    const sharedEnv: SharedEnv = {
      SLACK_NOTIFY_CHANNEL: props.notifyChannelId,
      ...(props.slackApiUrl ? { SLACK_API_URL: props.slackApiUrl } : {}),
      SSM_DOCUMENT_QUIET: this.documents.names.quiet,
      SSM_DOCUMENT_STOP: this.documents.names.stop,
      SSM_DOCUMENT_WAKE: this.documents.names.wake,
      SSM_DOCUMENT_STATUS: this.documents.names.status,
    };

    const network = runnerNetwork(this, props);
    this.vpc = network.vpc;
    this.runnerSubnets = network.subnets;
    this.assignPublicIp = network.assignPublicIp;
    this.runnerSecurityGroups = network.securityGroups;
    this.runnerNetwork = {
      subnetIds: this.runnerSubnets.subnetIds.join(','),
      securityGroupIds: this.runnerSecurityGroups.map((g) => g.securityGroupId).join(','),
      assignPublicIp: this.assignPublicIp ? 'ENABLED' : 'DISABLED',
    };

    const runner = runnerTask(this, {
      vpc: this.vpc,
      cluster: props.cluster,
      namePrefix: this.documents.prefix,
      architecture,
      logRetention,
      slackSecret: this.slackSecret,
      // The runner honours another Slack API URL only when told so: only when this stack was given one.
      environment: { ...sharedEnv, ...(props.slackApiUrl ? { SNOWWHITE_ALLOW_SLACK_API_URL: '1' } : {}) },
    });
    this.cluster = runner.cluster;
    this.runnerLogGroup = runner.logGroup;
    this.taskDefinition = runner.taskDefinition;
    this.runnerContainer = runner.container;
    grantRunnerTask(this.taskDefinition.taskRole);

    const launchEnv: RunnerLaunchEnv = {
      RUNNER_CLUSTER: this.cluster.clusterArn,
      RUNNER_TASK_DEFINITION_ARN: this.taskDefinition.taskDefinitionArn,
      RUNNER_CONTAINER_NAME,
      RUNNER_SUBNET_IDS: this.runnerNetwork.subnetIds,
      RUNNER_SECURITY_GROUP_IDS: this.runnerNetwork.securityGroupIds,
      RUNNER_ASSIGN_PUBLIC_IP: this.runnerNetwork.assignPublicIp,
    };
    const bot = botFunction(this, {
      logRetention,
      reservedConcurrency:
        props.botReservedConcurrency === false ? undefined : (props.botReservedConcurrency ?? 10),
      environment: {
        SLACK_SECRET_ARN: this.slackSecret.secretArn,
        ...launchEnv,
        // The bot refuses other regions at once: neither the documents nor the runner's rights are there.
        FLEET_REGIONS: regions.join(','),
        SNOWWHITE_INSTALLATION_ID: this.installationId,
        ...(cliRoles.length ? { CLI_ROLES: cliRoles.join(',') } : {}),
        ...(props.slackTeamId ? { SLACK_TEAM_ID: props.slackTeamId } : {}),
        ...(props.slackAppId ? { SLACK_APP_ID: props.slackAppId } : {}),
        ...sharedEnv,
      },
    });
    this.botRole = bot.role;
    this.botFunction = bot.fn;
    grantBot(this.botRole, {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      slackSecret: this.slackSecret,
      regions,
      documentNames: ACTIONS.map((action) => this.documents.names[action]),
      instanceTag,
    });
    allowSelfInvoke(this, this.botRole, this.botFunction);

    this.fleetMemory = new FleetMemory(this, 'FleetMemory', {
      botFunction: this.botFunction,
      botRole: this.botRole,
      runnerContainer: this.runnerContainer,
      runnerRole: this.taskDefinition.taskRole,
    });

    const api = slackApi(this, { bot: this.botFunction, logRetention });
    this.api = api.api;
    this.slackRequestUrl = api.slackRequestUrl;
    const cli = cliRoute(this, { api: this.api, bot: this.botFunction });
    this.cliRoute = cli.route;
    this.cliRunsUrl = cli.url;

    acknowledgeNagFindings({
      owner: this,
      regions,
      botRole: this.botRole,
      taskDefinition: this.taskDefinition,
      cluster: this.cluster,
      slackSecret: this.slackSecret,
      vpc: this.vpc,
      api: this.api,
    });
  }

  /** What an operator needs to run the `snowwhite` command line: invoke its one route, nothing else. */
  grantCliRuns(grantee: iam.IGrantable): iam.Grant {
    return this.cliRoute.grantInvoke(grantee);
  }
}

function checkNotifyChannelId(scope: Construct, channelId: string): void {
  if (!Token.isUnresolved(channelId) && !slackChannelIdSchema.safeParse(channelId).success)
    throw validationError(
      scope,
      'InvalidNotifyChannelId',
      `notifyChannelId "${channelId}" is not a Slack channel id (C…, G… or D…)`,
    );
}

/** IAM's rule for role names; the bot parses CLI_ROLES with the same one. */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

function checkCliRoles(scope: Construct, roles: string[]): string[] {
  for (const role of roles)
    if (!Token.isUnresolved(role) && !ROLE_NAME.test(role))
      throw validationError(
        scope,
        'InvalidCliRoles',
        `cliRoles: "${role}" is not an IAM role name (a name, not an ARN: letters, digits and +=,.@_-, at most 64)`,
      );
  return roles;
}

function checkFleetRegions(scope: Construct, regions: string[]): string[] {
  if (regions.length === 0)
    throw validationError(scope, 'InvalidFleetRegions', 'fleetRegions must name at least one region');
  // The bot parses FLEET_REGIONS with the same list and would refuse to start on any other name.
  for (const region of regions)
    if (!Token.isUnresolved(region) && !regionSchema.safeParse(region).success)
      throw validationError(
        scope,
        'InvalidFleetRegions',
        `fleetRegions: "${region}" is not an AWS region the bot knows (for example us-east-1, eu-west-1)`,
      );
  return regions;
}
