import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, IgnoreMode, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, type IConstruct } from 'constructs';
import { slackChannelIdSchema } from '../runner/request';
import { CLI_ROUTE_PATH } from '../runner/stack-outputs';
import { ACTIONS, type Action } from '../ssm/actions';
import { sidekiqctlDocument } from '../ssm/documents';

/** The repository root: the bot's entry point, the runner's Docker build context and the SSM script live under it. */
export const REPO_ROOT = path.resolve(__dirname, '..');
/** The script every SSM document embeds, read at synth time. */
export const SIDEKIQCTL_SCRIPT = path.join(REPO_ROOT, 'ssm', 'sidekiqctl.sh');
/** The runner's container name; the bot's container overrides address it by this name. */
export const RUNNER_CONTAINER_NAME = 'runner';

/**
 * What the runner's Docker build may see of the repository (Docker ignore syntax: everything is
 * excluded, then the build's inputs are let back in). An allow-list of what runner/main.ts bundles
 * keeps node_modules, cdk.out, .git and the tests out of the staged asset, and keeps unrelated files
 * (the bot, the command line, the shell script the documents embed) from changing the image hash.
 */
export const RUNNER_BUILD_CONTEXT_EXCLUDE = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!runner/',
  'runner/cli.ts',
  'runner/cli/',
  'runner/local/',
  '!ssm/',
  'ssm/*',
  '!ssm/documents.ts',
  '**/node_modules',
  '**/*.test.ts',
];

const SUFFIX: Record<Action, string> = { quiet: 'Quiet', stop: 'Stop', wake: 'Wake', status: 'Status' };

/** Only instances carrying this tag may receive the runner's commands. */
export interface InstanceTagCondition {
  /** Tag key, for example `elasticbeanstalk:environment-name`. */
  readonly key: string;
  /**
   * Allowed tag values (IAM `StringLike` patterns, so `*` and `?` work).
   * @default ['*'] — any value: the tag only has to be present.
   */
  readonly values?: string[];
}

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
}

/** One SSM Command document per action, each embedding `ssm/sidekiqctl.sh` (read at synth time). */
export interface SnowWhiteDocumentsProps {
  /** @default 'SnowWhite' */
  readonly documentNamePrefix?: string;
  /**
   * The script's text.
   * @default the contents of ssm/sidekiqctl.sh
   */
  readonly scriptText?: string;
}

const DEFAULT_NAME_PREFIX = 'SnowWhite';

/** Valid both in SSM document names and in ECS task definition families. */
const NAME_PREFIX_PATTERN = /^[A-Za-z0-9_-]{3,100}$/;

function checkNamePrefix(prefix: string): string {
  if (!NAME_PREFIX_PATTERN.test(prefix) || /^(aws|amazon|amzn)/i.test(prefix))
    throw new Error(
      `documentNamePrefix "${prefix}" must be 3-100 of A-Z a-z 0-9 _ - and not start with aws, amazon or amzn`,
    );
  return prefix;
}

/**
 * The four SSM Command documents. {@link SnowWhite} creates them in its own region; deploy this
 * construct alone (same prefix) in every other region listed in `fleetRegions`.
 */
export class SnowWhiteDocuments extends Construct {
  /** The checked name prefix (documents, and the runner's task definition family). */
  readonly prefix: string;
  /** Document name by action. */
  readonly names: Readonly<Record<Action, string>>;
  readonly documents: Readonly<Record<Action, ssm.CfnDocument>>;

  constructor(scope: Construct, id: string, props: SnowWhiteDocumentsProps = {}) {
    super(scope, id);
    const prefix = checkNamePrefix(props.documentNamePrefix ?? DEFAULT_NAME_PREFIX);
    this.prefix = prefix;
    const scriptText = props.scriptText ?? readScript();
    const names = {} as Record<Action, string>;
    const documents = {} as Record<Action, ssm.CfnDocument>;
    for (const action of ACTIONS) {
      names[action] = `${prefix}-${SUFFIX[action]}`;
      documents[action] = new ssm.CfnDocument(this, SUFFIX[action], {
        name: names[action],
        documentType: 'Command',
        // EC2 instances only (Elastic Beanstalk's); not on-premises or other managed nodes.
        targetType: '/AWS::EC2::Instance',
        documentFormat: 'JSON',
        content: sidekiqctlDocument(action, scriptText),
        // A named document cannot be replaced in place: a new script version becomes a new
        // document version (set as the default) instead.
        updateMethod: 'NewVersion',
        tags: [{ key: 'snowwhite:action', value: action }],
      });
    }
    this.names = names;
    this.documents = documents;
  }
}

function readScript(): string {
  if (!fs.existsSync(SIDEKIQCTL_SCRIPT))
    throw new Error(`${SIDEKIQCTL_SCRIPT} is missing: the SSM documents embed it`);
  return fs.readFileSync(SIDEKIQCTL_SCRIPT, 'utf8');
}

/**
 * Snow White on AWS: Slack → HTTP API → bot Lambda → Fargate runner → SSM Run Command on the
 * Elastic Beanstalk fleet. Every IAM statement names the narrowest resource AWS supports.
 */
export class SnowWhite extends Construct {
  readonly api: apigwv2.HttpApi;
  /** The URL to give Slack for slash commands and interactivity. */
  readonly slackRequestUrl: string;
  /** The command line's route (`POST /cli/runs`, IAM authorization) and its URL. */
  readonly cliRoute: apigwv2.HttpRoute;
  readonly cliRunsUrl: string;
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

  constructor(scope: Construct, id: string, props: SnowWhiteProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (
      !Token.isUnresolved(props.notifyChannelId) &&
      !slackChannelIdSchema.safeParse(props.notifyChannelId).success
    )
      throw new Error(`notifyChannelId "${props.notifyChannelId}" is not a Slack channel id (C…, G… or D…)`);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const regions = props.fleetRegions ?? [stack.region];
    if (regions.length === 0) throw new Error('fleetRegions must name at least one region');
    const architecture = props.runnerArchitecture ?? ecs.CpuArchitecture.ARM64;
    const instanceTag =
      props.instanceTag === undefined ? { key: 'elasticbeanstalk:environment-name' } : props.instanceTag;

    // --- Slack credentials -------------------------------------------------------------------
    this.slackSecret =
      props.slackSecret ??
      new secretsmanager.Secret(this, 'SlackSecret', {
        description: 'Snow White: Slack app signing secret and bot token, JSON {"signingSecret","botToken"}',
        // Placeholders only (the real values are set with put-secret-value after deploy). CloudFormation
        // writes this value again only if it changes here, so never edit it: that would wipe the real one.
        secretStringValue: SecretValue.unsafePlainText(
          JSON.stringify({ signingSecret: 'SET_AFTER_DEPLOY', botToken: 'SET_AFTER_DEPLOY' }),
        ),
      });

    // --- SSM documents -----------------------------------------------------------------------
    this.documents = new SnowWhiteDocuments(this, 'Documents', {
      documentNamePrefix: props.documentNamePrefix,
    });
    // What both the bot and the runner read (bot/settings.ts, runner/settings.ts).
    const sharedEnv: Record<string, string> = {
      SLACK_NOTIFY_CHANNEL: props.notifyChannelId,
      ...(props.slackApiUrl ? { SLACK_API_URL: props.slackApiUrl } : {}),
      ...Object.fromEntries(ACTIONS.map((a) => [`SSM_DOCUMENT_${a.toUpperCase()}`, this.documents.names[a]])),
    };

    // --- Network and cluster -------------------------------------------------------------------
    this.vpc =
      props.vpc ??
      props.cluster?.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
        // Nothing uses the default group; closing it would take a custom-resource Lambda.
        restrictDefaultSecurityGroup: false,
      });
    this.runnerSubnets = this.vpc.selectSubnets(
      props.subnets ??
        (this.vpc.publicSubnets.length > 0
          ? { subnetType: ec2.SubnetType.PUBLIC }
          : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }),
    );
    this.assignPublicIp = props.assignPublicIp ?? this.runnerSubnets.hasPublic;
    this.runnerSecurityGroups = props.securityGroups ?? [this.newSecurityGroup()];
    this.runnerNetwork = {
      subnetIds: this.runnerSubnets.subnetIds.join(','),
      securityGroupIds: this.runnerSecurityGroups.map((g) => g.securityGroupId).join(','),
      assignPublicIp: this.assignPublicIp ? 'ENABLED' : 'DISABLED',
    };
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc: this.vpc });

    // --- Runner: Fargate task ----------------------------------------------------------------
    this.runnerLogGroup = new logs.LogGroup(this, 'RunnerLogs', { retention });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'RunnerTask', {
      family: `${this.documents.prefix}-Runner`,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        cpuArchitecture: architecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.runnerContainer = this.taskDefinition.addContainer('Runner', {
      containerName: RUNNER_CONTAINER_NAME,
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: 'runner/Dockerfile',
        platform: architecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: RUNNER_BUILD_CONTEXT_EXCLUDE,
      }),
      // An init process (tini) as PID 1 forwards SIGTERM to the runner when ECS stops the task.
      linuxParameters: new ecs.LinuxParameters(this, 'RunnerLinuxParameters', { initProcessEnabled: true }),
      // Fargate's maximum: the runner's grace period to report in Slack before SIGKILL.
      stopTimeout: Duration.seconds(120),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.runnerLogGroup, streamPrefix: 'runner' }),
      secrets: { SLACK_BOT_TOKEN: ecs.Secret.fromSecretsManager(this.slackSecret, 'botToken') },
      // The runner honours another Slack API URL only when told so: only when this stack was given one.
      environment: { ...sharedEnv, ...(props.slackApiUrl ? { SNOWWHITE_ALLOW_SLACK_API_URL: '1' } : {}) },
    });
    const taskRole = this.taskDefinition.taskRole;
    const executionRole = this.taskDefinition.obtainExecutionRole();

    const documentArns = regions.flatMap((region) =>
      ACTIONS.map((action) =>
        stack.formatArn({
          service: 'ssm',
          region,
          resource: 'document',
          resourceName: this.documents.names[action],
        }),
      ),
    );
    const instanceArns = regions.map((region) => instanceArn(stack, region));
    for (const statement of [
      ...elasticBeanstalkReadStatements(stack, regions),
      new iam.PolicyStatement({
        sid: 'SendCommandDocuments',
        actions: ['ssm:SendCommand'],
        resources: documentArns,
      }),
      new iam.PolicyStatement({
        sid: 'SendCommandInstances',
        actions: ['ssm:SendCommand'],
        resources: instanceArns,
        conditions: instanceTag
          ? { StringLike: { [`ssm:resourceTag/${instanceTag.key}`]: instanceTag.values ?? ['*'] } }
          : undefined,
      }),
      new iam.PolicyStatement({
        sid: 'ReadCommandResults',
        actions: [
          'ssm:DescribeInstanceInformation',
          'ssm:GetCommandInvocation',
          'ssm:ListCommandInvocations',
          'ssm:ListCommands',
        ],
        resources: ['*'],
      }),
    ])
      taskRole.addToPrincipalPolicy(statement);

    // --- Bot: Lambda behind an HTTP API --------------------------------------------------------
    // Its own role: the default one would carry the AWSLambdaBasicExecutionRole managed policy
    // (logs:CreateLogGroup on every log group of the account).
    this.botRole = new iam.Role(this, 'BotRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Snow White bot: authorizes Slack users against IAM and launches the runner',
    });
    const botLogGroup = new logs.LogGroup(this, 'BotLogs', { retention });
    botLogGroup.grantWrite(this.botRole);
    this.botFunction = new NodejsFunction(this, 'Bot', {
      description: 'Snow White Slack bot (/snowwhite)',
      entry: path.join(REPO_ROOT, 'bot', 'lambda.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      // Memory buys CPU: Slack wants an answer within 3 s, cold start included.
      memorySize: 512,
      // The asynchronous self-invocation does the slow IAM work after Slack got its answer.
      timeout: Duration.seconds(60),
      // The hand-off work catches its own errors; a Lambda retry after a timeout would prompt twice.
      retryAttempts: 0,
      ...(props.botReservedConcurrency === false
        ? {}
        : { reservedConcurrentExecutions: props.botReservedConcurrency ?? 10 }),
      role: this.botRole,
      logGroup: botLogGroup,
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.CJS,
        // ES module builds let esbuild drop the SDK commands the bot never sends (~90 kB less).
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: the versions the tests ran with, not the runtime's.
        externalModules: [],
        forceDockerBundling: false,
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        SLACK_SECRET_ARN: this.slackSecret.secretArn,
        RUNNER_CLUSTER: this.cluster.clusterArn,
        RUNNER_TASK_DEFINITION_ARN: this.taskDefinition.taskDefinitionArn,
        RUNNER_CONTAINER_NAME,
        RUNNER_SUBNET_IDS: this.runnerNetwork.subnetIds,
        RUNNER_SECURITY_GROUP_IDS: this.runnerNetwork.securityGroupIds,
        RUNNER_ASSIGN_PUBLIC_IP: this.runnerNetwork.assignPublicIp,
        // The bot refuses other regions at once: neither the documents nor the runner's rights are there.
        FLEET_REGIONS: regions.join(','),
        ...(props.slackTeamId ? { SLACK_TEAM_ID: props.slackTeamId } : {}),
        ...(props.slackAppId ? { SLACK_APP_ID: props.slackAppId } : {}),
        ...sharedEnv,
      },
    });
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'ListIamUsers',
        actions: ['iam:ListUsers'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadIamUsers',
        actions: ['iam:ListUserTags', 'iam:SimulatePrincipalPolicy'],
        resources: [iamUserArn(stack)],
      }),
      new iam.PolicyStatement({
        // The command line's callers may be assumed roles: simulated as their role, whose ARN
        // (path included) GetRole gives.
        sid: 'ReadIamRoles',
        actions: ['iam:GetRole', 'iam:SimulatePrincipalPolicy'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
      }),
      new iam.PolicyStatement({
        sid: 'RunRunnerTask',
        actions: ['ecs:RunTask'],
        resources: [this.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
      new iam.PolicyStatement({
        // RunTask with tags (run id, action, requester) needs this too, on the task it creates.
        sid: 'TagRunnerTasks',
        actions: ['ecs:TagResource'],
        resources: [runnerTaskArn(stack, this.cluster)],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
      new iam.PolicyStatement({
        sid: 'PassRunnerRoles',
        actions: ['iam:PassRole'],
        resources: [taskRole.roleArn, executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
      ...elasticBeanstalkReadStatements(stack, regions),
    ])
      this.botRole.addToPrincipalPolicy(statement);
    // grantRead: the secret's own ARN rules (an imported name's suffix) and its KMS key, when a
    // customer-managed one encrypts it.
    this.slackSecret.grantRead(this.botRole);
    // A policy of its own: in the role's default policy, the function's ARN would make a cycle
    // (the function depends on its role's default policy).
    new iam.Policy(this, 'BotSelfInvokePolicy', {
      roles: [this.botRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeSelf',
          actions: ['lambda:InvokeFunction'],
          resources: [this.botFunction.functionArn],
        }),
      ],
    });

    const apiLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', { retention });
    this.api = new apigwv2.HttpApi(this, 'Api', { description: 'Snow White: Slack → bot' });
    this.api.addRoutes({
      path: '/slack/events',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Bot', this.botFunction),
    });
    const stage = this.api.defaultStage?.node.defaultChild as apigwv2.CfnStage;
    stage.accessLogSettings = {
      destinationArn: apiLogGroup.logGroupArn,
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
    this.slackRequestUrl = `${this.api.apiEndpoint}/slack/events`;

    // --- The command line's door: SigV4-signed requests, the caller checked like a Slack user ---
    // API Gateway verifies the signature and passes the caller's ARN; operators need only
    // execute-api:Invoke on this route (see grantCliRuns), not RunTask or PassRole.
    const [cliRoute] = this.api.addRoutes({
      path: CLI_ROUTE_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('BotCli', this.botFunction),
      authorizer: new HttpIamAuthorizer(),
    });
    if (!cliRoute) throw new Error('the command-line route was not created');
    this.cliRoute = cliRoute;
    this.cliRunsUrl = `${this.api.apiEndpoint}${CLI_ROUTE_PATH}`;

    this.acknowledgeNagFindings(stack, regions);
  }

  /** What an operator needs to run the `snowwhite` command line: invoke its one route, nothing else. */
  grantCliRuns(grantee: iam.IGrantable): iam.Grant {
    return this.cliRoute.grantInvoke(grantee);
  }

  private newSecurityGroup(): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'RunnerSecurityGroup', {
      vpc: this.vpc,
      description: 'Snow White runner: no ingress; HTTPS out to AWS APIs and Slack',
      allowAllOutbound: false,
    });
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and Slack');
    return group;
  }

  /**
   * cdk-nag AwsSolutions findings accepted on purpose, each with its reason. IAM5 findings are
   * acknowledged one resource pattern at a time, so any new wildcard still fails the checks.
   */
  private acknowledgeNagFindings(stack: Stack, regions: string[]): void {
    const iam5 = (construct: IConstruct, arnOrStar: string, reason: string) =>
      Validations.of(construct).acknowledge({
        id: `AwsSolutions-IAM5[${nagResource(stack, arnOrStar)}]`,
        reason,
      });
    const starReason =
      'Resource "*" only for read actions that support no narrower resource: iam:ListUsers, ' +
      'ssm:DescribeInstanceInformation/GetCommandInvocation/ListCommands/ListCommandInvocations, ' +
      'autoscaling:DescribeAutoScalingGroups, ec2:DescribeInstances, and the Elastic Beanstalk describes ' +
      '(environments are chosen at run time by name pattern, in any application).';
    const ebStackReason =
      "Elastic Beanstalk answers DescribeEnvironmentResources from the environment's CloudFormation stack " +
      "(awseb-<environment id>-stack), read with the caller's permissions; the ids are unknown in advance.";
    for (const role of [this.botRole, this.taskDefinition.taskRole]) {
      iam5(role, '*', starReason);
      for (const region of regions) iam5(role, ebStackArn(stack, region), ebStackReason);
    }
    iam5(
      this.botRole,
      iamUserArn(stack),
      "The bot maps a Slack user id to the one IAM user tagged with it and simulates that user's policies: " +
        'any IAM user of the account may be the one (read-only actions).',
    );
    iam5(
      this.botRole,
      stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' }),
      'The command line may be used from any assumed role of the account: the bot reads that role (GetRole, ' +
        'for its path) and simulates its policies (read-only actions).',
    );
    for (const region of regions)
      iam5(
        this.taskDefinition.taskRole,
        instanceArn(stack, region),
        'ssm:SendCommand needs the target instances as resources; Elastic Beanstalk scales them, so they are ' +
          'found at run time: instance/*, narrowed by the instance tag condition unless disabled.',
      );
    iam5(
      this.botRole,
      runnerTaskArn(stack, this.cluster),
      'The bot tags the runner task it starts (run id, action, requester); the task id is unknown before ' +
        'RunTask, so the ARN is task/<cluster>/*, and only for RunTask (ecs:CreateAction).',
    );
    iam5(
      this.taskDefinition.obtainExecutionRole(),
      '*',
      'ecr:GetAuthorizationToken (added by CDK for the image asset) supports no resource narrower than "*".',
    );
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only non-secret settings (document names, channel id); the Slack token comes ' +
        'through ECS secrets from Secrets Manager.',
    });
    if (this.node.tryFindChild('SlackSecret'))
      Validations.of(this.slackSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Slack issues the signing secret and bot token; Secrets Manager cannot rotate them. Rotate them in ' +
          "the Slack app's settings, then put-secret-value.",
      });
    if (this.node.tryFindChild('Cluster'))
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          'The cluster only runs one short task per Slack command; its log group and Slack reports are the ' +
          'record. Container Insights would add cost for no operational value.',
      });
    if (this.node.tryFindChild('Vpc'))
      Validations.of(this.vpc).acknowledge({
        id: 'AwsSolutions-VPC7',
        reason:
          'The VPC only hosts the runner, which accepts no inbound traffic and talks HTTPS to AWS and Slack; ' +
          'flow logs would record nothing worth their cost. Pass a VPC with flow logs through props if required.',
      });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Slack cannot send IAM or JWT credentials; the bot verifies every request with the Slack signing ' +
        'secret (HMAC, 5-minute replay window) before doing anything.',
    });
  }
}

function iamUserArn(stack: Stack): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' });
}

function runnerTaskArn(stack: Stack, cluster: ecs.ICluster): string {
  return stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` });
}

function instanceArn(stack: Stack, region: string): string {
  return stack.formatArn({ service: 'ec2', region, resource: 'instance', resourceName: '*' });
}

function ebStackArn(stack: Stack, region: string): string {
  return stack.formatArn({ service: 'cloudformation', region, resource: 'stack', resourceName: 'awseb-*' });
}

/**
 * Read-only Elastic Beanstalk access, shared by bot and runner. DescribeEnvironmentResources calls
 * CloudFormation, Auto Scaling and EC2 with the caller's own permissions, so those reads come with it.
 */
function elasticBeanstalkReadStatements(stack: Stack, regions: string[]): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DescribeElasticBeanstalk',
      actions: ['elasticbeanstalk:DescribeEnvironmentResources', 'elasticbeanstalk:DescribeEnvironments'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ElasticBeanstalkStacks',
      actions: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStackResources'],
      resources: regions.map((region) => ebStackArn(stack, region)),
    }),
    new iam.PolicyStatement({
      sid: 'ElasticBeanstalkInstances',
      actions: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
      resources: ['*'],
    }),
  ];
}

/** How cdk-nag names a resource in its IAM5 findings: `Resource::<arn>`, pseudo parameters as `<AWS::Region>`. */
function nagResource(stack: Stack, arn: string): string {
  return `Resource::${flattenJoin(stack.resolve(arn))}`;
}

function flattenJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenJoin).join(sep);
    }
    if ('Ref' in obj) return `<${String(obj.Ref)}>`;
  }
  throw new Error(`cannot name ${JSON.stringify(value)} as a cdk-nag finding`);
}
