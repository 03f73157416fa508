import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { MiddlewareStack } from '@smithy/types';
import { Template } from 'aws-cdk-lib/assertions';
import { Stack, type App } from 'aws-cdk-lib';
import { SnowWhiteStack } from '../../infra/snowwhite-stack';
import { tempApp } from '../infra/helpers';
import type { PolicyDocument } from './local-iam-simulator';

// Least privilege, proven by an evaluator nobody here wrote: the AWS calls a test really observed (on
// mocked or local clients), each turned into the IAM requests AWS would authorize for it, are run
// against the synthesized stack's own role policies with @cloud-copilot/iam-simulate.

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** A call a client made, as aws-sdk-client-mock recorded it. */
export interface ObservedCall {
  service: string;
  command: string;
  input: Record<string, unknown>;
  output: Record<string, unknown> | undefined;
  region: string;
}

/** One IAM request: what AWS checks for a call (a call may need several, RunTask's PassRole among them). */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

/** A mocked client, the service prefix of its actions, and its region. */
export interface ObservedClient {
  service: string;
  /** An aws-sdk-client-mock stub (only its record of calls is read). */
  stub: { calls(): ReadonlyArray<{ args: readonly unknown[]; returnValue: unknown }> };
  region?: string;
}

/**
 * Records every call a real client sends (one talking to a local endpoint such as dynalite, where no
 * mock records anything), in the shape `observedSince` reads. Clients that share its middleware stack
 * (a DynamoDBDocumentClient made from it) are recorded too.
 */
export function recordCalls<I extends object, O extends object>(client: {
  middlewareStack: MiddlewareStack<I, O>;
}): ObservedClient['stub'] {
  const calls: Array<{ args: readonly unknown[]; returnValue: unknown }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = next(args);
      calls.push({
        args: [{ constructor: { name: context.commandName ?? 'Unknown' }, input: args.input }],
        returnValue: result.then((r) => r.output),
      });
      return result;
    },
    { step: 'initialize', name: 'leastPrivilegeRecorder' },
  );
  return { calls: () => calls };
}

/** How many calls each client had: what a later `observedSince` leaves out. */
export const callCounts = (clients: readonly ObservedClient[]): number[] =>
  clients.map((c) => c.stub.calls().length);

/** The calls made on `clients` since `counts` (all of them without it), outputs included. */
export async function observedSince(
  clients: readonly ObservedClient[],
  counts: readonly number[] = [],
): Promise<ObservedCall[]> {
  const out: ObservedCall[] = [];
  for (const [i, c] of clients.entries())
    for (const call of c.stub.calls().slice(counts[i] ?? 0)) {
      const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      let output: Record<string, unknown> | undefined;
      try {
        output = (await call.returnValue) as Record<string, unknown> | undefined;
      } catch {
        output = undefined; // a refused call is still a call that was made
      }
      out.push({
        service: c.service,
        command: command.constructor.name.replace(/Command$/, ''),
        input: command.input,
        output,
        region: c.region ?? REGION,
      });
    }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The synthesized stack, with CloudFormation's intrinsic functions resolved to concrete ARNs.

type Json = unknown;
interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
}

const NAME_PROPERTIES = [
  'FunctionName',
  'ClusterName',
  'TableName',
  'RoleName',
  'Name',
  'Family',
  'LogGroupName',
];

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and pseudo parameters, as CloudFormation would. */
export function cfnResolver(resources: Record<string, CfnResource>) {
  const physicalName = (id: string): string => {
    const props = resources[id]?.Properties ?? {};
    for (const p of NAME_PROPERTIES) if (typeof props[p] === 'string') return props[p];
    return id.toLowerCase();
  };
  const ref = (id: string): string => {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'SnowWhite',
      'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/SnowWhite/00000000-0000-0000-0000-000000000000`,
    };
    if (pseudo[id]) return pseudo[id];
    const type = resources[id]?.Type;
    const name = physicalName(id);
    switch (type) {
      case 'AWS::ECS::TaskDefinition':
        return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}:1`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
      default:
        return name;
    }
  };
  const arnOf = (id: string): string => {
    const name = physicalName(id);
    switch (resources[id]?.Type) {
      case 'AWS::ECS::Cluster':
        return `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
      default:
        return ref(id);
    }
  };
  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (typeof v !== 'object' || v === null) return v;
    const o = v as Record<string, Json>;
    if ('Ref' in o) return ref(String(o.Ref));
    if ('Fn::GetAtt' in o) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      if (attr === 'Arn') return arnOf(id);
      if (attr === 'StreamArn') return `${arnOf(id)}/stream/2026-01-01T00:00:00.000`;
      return `${physicalName(id)}.${attr}`;
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return (resolve(parts) as string[]).join(sep);
    }
    if ('Fn::Split' in o) {
      const [sep, text] = o['Fn::Split'] as [string, Json];
      return String(resolve(text)).split(sep);
    }
    if ('Fn::Select' in o) {
      const [i, list] = o['Fn::Select'] as [number, Json];
      return (resolve(list) as Json[])[Number(i)];
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return { resolve };
}

export interface SynthesizedRoles {
  /** The identity policies of the bot's role and of the runner's task role, resolved. */
  policies: { bot: PolicyDocument[]; runner: PolicyDocument[] };
  /** The bot function's environment as deployed (resolved), and its own name. */
  botEnv: Record<string, string>;
  botFunctionName: string;
  /** The roles the runner's task definition names (RunTask passes them). */
  taskRoleArns: string[];
}

/** Synthesizes the stack (bundling skipped) and reads its roles' policies. */
export function synthesizedRoles(
  props: ConstructorParameters<typeof SnowWhiteStack>[2] = {},
): SynthesizedRoles {
  const env = tempApp({ bundle: false });
  try {
    const stack = new SnowWhiteStack(env.app as App, 'SnowWhite', {
      notifyChannelId: 'C0NOTIFY',
      env: { account: ACCOUNT, region: REGION },
      ...props,
    });
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, CfnResource> };
    const resources = template.Resources;
    const { resolve } = cfnResolver(resources);
    const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
      Stack.of(stack).getLogicalId(construct.node.defaultChild as never);
    const sw = stack.snowWhite;
    const botRole = logicalId(sw.botRole);
    const runnerRole = logicalId(sw.taskDefinition.taskRole as never);
    const policiesOf = (role: string): PolicyDocument[] => {
      const out: PolicyDocument[] = [];
      for (const r of Object.values(resources)) {
        if (r.Type !== 'AWS::IAM::Policy') continue;
        const roles = (r.Properties?.Roles as { Ref?: string }[] | undefined) ?? [];
        if (roles.some((x) => x.Ref === role))
          out.push(resolve(r.Properties?.PolicyDocument) as PolicyDocument);
      }
      for (const p of (resources[role]?.Properties?.Policies as { PolicyDocument: Json }[] | undefined) ?? [])
        out.push(resolve(p.PolicyDocument) as PolicyDocument);
      return out;
    };
    const fnId = logicalId(sw.botFunction);
    const variables = (resources[fnId]?.Properties?.Environment as { Variables: Record<string, Json> })
      .Variables;
    const taskDef = resources[logicalId(sw.taskDefinition)]?.Properties ?? {};
    return {
      policies: { bot: policiesOf(botRole), runner: policiesOf(runnerRole) },
      botEnv: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(resolve(v))])),
      botFunctionName: String(resolve({ Ref: fnId })),
      taskRoleArns: [taskDef.TaskRoleArn, taskDef.ExecutionRoleArn]
        .filter(Boolean)
        .map((v) => String(resolve(v))),
    };
  } finally {
    env.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------
// Calls → the IAM requests AWS authorizes for them.

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/**
 * What IAM checks for one call, in the stack's own names (`translate` maps the test's stand-ins, the
 * settings it ran with, to the stack's values). `tagsOf` gives an instance's tags, which IAM reads.
 */
export function iamRequestsFor(
  call: ObservedCall,
  translate: (value: string) => string,
  taskRoleArns: readonly string[],
  tagsOf: (instanceId: string) => Record<string, string>,
): IamRequest[] {
  const { service, command, input, region } = call;
  const action = `${service}:${command}`;
  const base = { 'aws:RequestedRegion': region };
  const arn = (svc: string, resource: string, r = region) => `arn:aws:${svc}:${r}:${ACCOUNT}:${resource}`;
  const clusterArn = (c: string) => {
    const t = translate(c || 'default');
    return t.startsWith('arn:') ? t : arn('ecs', `cluster/${t}`);
  };
  switch (action) {
    case 'iam:ListUsers':
      return [{ action, resource: '*', context: base }];
    case 'iam:ListUserTags':
      return [{ action, resource: `arn:aws:iam::${ACCOUNT}:user/${str(input.UserName)}`, context: base }];
    case 'iam:GetRole':
      return [{ action, resource: `arn:aws:iam::${ACCOUNT}:role/${str(input.RoleName)}`, context: base }];
    case 'iam:SimulatePrincipalPolicy':
      return [{ action, resource: str(input.PolicySourceArn), context: base }];
    case 'ecs:RunTask': {
      const cluster = clusterArn(str(input.cluster));
      const taskArns = list(
        (call.output?.tasks as { taskArn?: string }[] | undefined)?.map((t) => t.taskArn),
      );
      return [
        {
          action,
          resource: translate(str(input.taskDefinition)),
          context: { ...base, 'ecs:cluster': cluster },
        },
        // RunTask hands the task definition's roles to ECS, and tags the task it creates.
        ...taskRoleArns.map((role) => ({
          action: 'iam:PassRole',
          resource: role,
          context: { ...base, 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
        })),
        ...(list(input.tags).length || Array.isArray(input.tags)
          ? taskArns.map((t) => ({
              action: 'ecs:TagResource',
              resource: translate(t).replace(/task\/[^/]+\//, `task/${cluster.split('/').pop()}/`),
              context: { ...base, 'ecs:CreateAction': 'RunTask' },
            }))
          : []),
      ];
    }
    case 'ecs:DescribeTasks':
    case 'ecs:StopTask': {
      const cluster = clusterArn(str(input.cluster));
      const tasks = action === 'ecs:StopTask' ? [str(input.task)] : list(input.tasks);
      return tasks.map((t) => ({
        action,
        resource: t.replace(/task\/[^/]+\//, `task/${cluster.split('/').pop()}/`),
        context: { ...base, 'ecs:cluster': cluster },
      }));
    }
    case 'lambda:Invoke':
      return [
        {
          action: 'lambda:InvokeFunction',
          resource: arn('lambda', `function:${translate(str(input.FunctionName))}`),
          context: base,
        },
      ];
    case 'secretsmanager:GetSecretValue':
      return [{ action, resource: translate(str(input.SecretId)), context: base }];
    case 'elasticbeanstalk:DescribeEnvironments':
    case 'elasticbeanstalk:DescribeEnvironmentResources':
      return [{ action, resource: '*', context: base }];
    case 'ssm:SendCommand':
      return [
        { action, resource: arn('ssm', `document/${translate(str(input.DocumentName))}`), context: base },
        ...list(input.InstanceIds).map((id) => ({
          action,
          resource: arn('ec2', `instance/${id}`),
          context: {
            ...base,
            ...Object.fromEntries(Object.entries(tagsOf(id)).map(([k, v]) => [`ssm:resourceTag/${k}`, v])),
          },
        })),
      ];
    case 'dynamodb:GetItem':
    case 'dynamodb:PutItem':
    case 'dynamodb:UpdateItem':
    case 'dynamodb:DeleteItem':
    case 'dynamodb:Query': {
      const table = arn('dynamodb', `table/${translate(str(input.TableName))}`);
      return [
        {
          action,
          resource: input.IndexName ? `${table}/index/${str(input.IndexName)}` : table,
          context: base,
        },
      ];
    }
    case 'ssm:ListCommandInvocations':
    case 'ssm:GetCommandInvocation':
    case 'ssm:ListCommands':
    case 'ssm:DescribeInstanceInformation':
    case 'ssm:CancelCommand':
      return [{ action, resource: '*', context: base }];
    default:
      throw new Error(`no IAM reading for ${action}: add one to test/support/least-privilege.ts`);
  }
}

/** What the evaluator decides for one request against one role's identity policies. */
export async function decide(
  policies: PolicyDocument[],
  principal: string,
  request: IamRequest,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
      identityPolicies: policies.map((policy, i) => ({ name: `policy-${i + 1}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`${request.action}: ${result.errors.message}`);
  return result.overallResult;
}
