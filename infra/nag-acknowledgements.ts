import { Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { ebStackArn, iamRoleArn, iamUserArn, instanceArn, runnerTaskArn } from './parts/policies';

/** The parts of one `SnowWhite` that cdk-nag findings are acknowledged on. */
export interface NagSubjects {
  /** The `SnowWhite` construct: a VPC, cluster or secret created in it (not passed in) is its own. */
  readonly owner: IConstruct;
  readonly regions: string[];
  readonly botRole: iam.IRole;
  readonly taskDefinition: ecs.TaskDefinition;
  readonly cluster: ecs.ICluster;
  readonly slackSecret: secretsmanager.ISecret;
  readonly vpc: ec2.IVpc;
  readonly api: apigwv2.HttpApi;
}

/**
 * cdk-nag AwsSolutions findings accepted on purpose, each with its reason. IAM5 findings are
 * acknowledged one resource pattern at a time, so any new wildcard still fails the checks; findings on
 * resources the caller passed in are theirs to judge.
 */
export function acknowledgeNagFindings(s: NagSubjects): void {
  const stack = Stack.of(s.owner);
  const taskRole = s.taskDefinition.taskRole;
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
  iam5(s.botRole, '*', starReason);
  for (const region of s.regions) iam5(s.botRole, ebStackArn(stack, region), ebStackReason);
  iam5(
    taskRole,
    '*',
    'The runner follows the commands the bot sent: ssm:GetCommandInvocation/ListCommandInvocations and ' +
      'ssm:CancelCommand support no resource narrower than "*" (the command ids come in the run request).',
  );
  iam5(
    s.botRole,
    iamRoleArn(stack),
    'The command line may be used from any assumed role of the account: the bot reads that role (GetRole, ' +
      'for its path) and simulates its policies (read-only actions).',
  );
  iam5(
    s.botRole,
    iamUserArn(stack),
    "The bot maps a Slack user id to the one IAM user tagged with it and simulates that user's policies: " +
      'any IAM user of the account may be the one (read-only actions).',
  );
  for (const region of s.regions)
    iam5(
      s.botRole,
      instanceArn(stack, region),
      'ssm:SendCommand needs the target instances as resources; Elastic Beanstalk scales them, so they are ' +
        'found at run time: instance/*, narrowed by the instance tag condition unless disabled.',
    );
  iam5(
    s.botRole,
    runnerTaskArn(stack, s.cluster),
    'The bot tags the runner task it starts (run id, action, requester; only for RunTask, ecs:CreateAction) ' +
      'and describes or stops it on Cancel; task ids are unknown before RunTask, so the ARN is task/<cluster>/*.',
  );
  iam5(
    s.taskDefinition.obtainExecutionRole(),
    '*',
    'ecr:GetAuthorizationToken (added by CDK for the image asset) supports no resource narrower than "*".',
  );
  Validations.of(s.taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason:
      'The environment holds only non-secret settings (document names, channel id); the Slack token comes ' +
      'through ECS secrets from Secrets Manager.',
  });
  const owned = (c: IConstruct) => c.node.scope === s.owner;
  if (owned(s.slackSecret))
    Validations.of(s.slackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Slack issues the signing secret and bot token; Secrets Manager cannot rotate them. Rotate them in ' +
        "the Slack app's settings, then put-secret-value.",
    });
  if (owned(s.cluster))
    Validations.of(s.cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason:
        'The cluster only runs one short task per Slack command; its log group and Slack reports are the ' +
        'record. Container Insights would add cost for no operational value.',
    });
  if (owned(s.vpc))
    Validations.of(s.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'The VPC only hosts the runner, which accepts no inbound traffic and talks HTTPS to AWS and Slack; ' +
        'flow logs would record nothing worth their cost. Pass a VPC with flow logs through props if required.',
    });
  Validations.of(s.api).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'Slack cannot send IAM or JWT credentials; the bot verifies every request with the Slack signing ' +
      'secret (HMAC, 5-minute replay window) before doing anything.',
  });
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
