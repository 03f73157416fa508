import { Stack } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** Only instances carrying this tag may receive the commands the bot sends. */
export interface InstanceTagCondition {
  /** Tag key, for example `elasticbeanstalk:environment-name`. */
  readonly key: string;
  /**
   * Allowed tag values (IAM `StringLike` patterns, so `*` and `?` work).
   * @default ['*'] — any value: the tag only has to be present.
   */
  readonly values?: string[];
}

/**
 * What the runner task does: follow the commands the bot sent (their invocations) and cancel them on
 * Cancel. It sends nothing and reads no Elastic Beanstalk environment: the bot did both before it.
 */
export function grantRunnerTask(taskRole: iam.IRole): void {
  taskRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'FollowCommands',
      // None of these supports a narrower resource; the command ids come in the run request.
      actions: ['ssm:CancelCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'],
      resources: ['*'],
    }),
  );
}

/**
 * Sending an action's document to the confirmed instances, and what goes with it: which instances SSM
 * can reach, the invocations (status is answered from them), and the look-up of a run's commands by
 * Comment (so a retried Confirm never sends twice).
 */
function sendCommandStatements(
  stack: Stack,
  options: { documentNames: readonly string[]; regions: string[]; instanceTag: InstanceTagCondition | false },
): iam.PolicyStatement[] {
  const { regions, instanceTag } = options;
  const documentArns = regions.flatMap((region) =>
    options.documentNames.map((name) =>
      stack.formatArn({ service: 'ssm', region, resource: 'document', resourceName: name }),
    ),
  );
  return [
    new iam.PolicyStatement({
      sid: 'SendCommandDocuments',
      actions: ['ssm:SendCommand'],
      resources: documentArns,
    }),
    new iam.PolicyStatement({
      sid: 'SendCommandInstances',
      actions: ['ssm:SendCommand'],
      resources: regions.map((region) => instanceArn(stack, region)),
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
  ];
}

/**
 * What the bot does: find and simulate IAM users, read Elastic Beanstalk for the preview, send the
 * action's document to the confirmed instances (and answer status from the invocations), start the
 * runner task (tagged, with its roles), stop it on Cancel, and read the Slack secret.
 */
export function grantBot(
  botRole: iam.IRole,
  options: {
    cluster: ecs.ICluster;
    taskDefinition: ecs.TaskDefinition;
    slackSecret: secretsmanager.ISecret;
    regions: string[];
    documentNames: readonly string[];
    instanceTag: InstanceTagCondition | false;
  },
): void {
  const stack = Stack.of(botRole);
  const { cluster, taskDefinition, slackSecret } = options;
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
      sid: 'RunRunnerTask',
      actions: ['ecs:RunTask'],
      resources: [taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }),
    new iam.PolicyStatement({
      // RunTask with tags (run id, action, requester) needs this too, on the task it creates.
      sid: 'TagRunnerTasks',
      actions: ['ecs:TagResource'],
      resources: [runnerTaskArn(stack, cluster)],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }),
    new iam.PolicyStatement({
      // Cancel: check the task is a runner of the run (tags, run request), then stop it. Runner
      // tasks only: the cluster holds nothing else, and the condition keeps it to that cluster.
      sid: 'StopRunnerTasks',
      actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
      resources: [runnerTaskArn(stack, cluster)],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }),
    new iam.PolicyStatement({
      sid: 'PassRunnerRoles',
      actions: ['iam:PassRole'],
      resources: [taskDefinition.taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
    ...elasticBeanstalkReadStatements(stack, options.regions),
    ...sendCommandStatements(stack, options),
    new iam.PolicyStatement({
      // The command line's callers may be assumed roles: simulated as their role, whose ARN (path
      // included) GetRole gives.
      sid: 'ReadIamRoles',
      actions: ['iam:GetRole', 'iam:SimulatePrincipalPolicy'],
      resources: [iamRoleArn(stack)],
    }),
  ])
    botRole.addToPrincipalPolicy(statement);
  // grantRead: the secret's own ARN rules (an imported name's suffix) and its KMS key, when a
  // customer-managed one encrypts it.
  slackSecret.grantRead(botRole);
}

/**
 * The bot invokes itself asynchronously for the slow work. A policy of its own: in the role's default
 * policy, the function's ARN would make a cycle (the function depends on its role's default policy).
 */
export function allowSelfInvoke(scope: Construct, role: iam.IRole, fn: lambda.IFunction): iam.Policy {
  return new iam.Policy(scope, 'BotSelfInvokePolicy', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        sid: 'InvokeSelf',
        actions: ['lambda:InvokeFunction'],
        resources: [fn.functionArn],
      }),
    ],
  });
}

/**
 * Read-only Elastic Beanstalk access (the bot's preview). DescribeEnvironmentResources calls
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

export function iamUserArn(stack: Stack): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' });
}

export function iamRoleArn(stack: Stack): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' });
}

export function runnerTaskArn(stack: Stack, cluster: ecs.ICluster): string {
  return stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` });
}

export function instanceArn(stack: Stack, region: string): string {
  return stack.formatArn({ service: 'ec2', region, resource: 'instance', resourceName: '*' });
}

/** Elastic Beanstalk names each environment's CloudFormation stack `awseb-<environment id>-stack`. */
export function ebStackArn(stack: Stack, region: string): string {
  return stack.formatArn({ service: 'cloudformation', region, resource: 'stack', resourceName: 'awseb-*' });
}
