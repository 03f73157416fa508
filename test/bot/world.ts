/**
 * A small fake AWS + Slack world for the bot tests: IAM users with tags and permissions, Elastic
 * Beanstalk environments, ECS RunTask with client-token semantics, Lambda Invoke capture, Secrets
 * Manager; Slack is the local FakeSlack server. The bot under test is the real Lambda handler.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type DescribeTasksCommandInput,
  type RunTaskCommandInput,
  type StopTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import {
  GetRoleCommand,
  IAMClient,
  ListUsersCommand,
  ListUserTagsCommand,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { WorldSsm } from './world-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createLambdaHandler, type LambdaHandler, type LambdaOptions } from '../../bot/lambda';
import type { RunRequest } from '../../runner/request';
import type { BotAwsClients } from '../../bot/aws-clients';
import { createLogger } from '../../runner/log';
import { awsError, throttlingError, timeoutError } from '../support/aws-errors';
import { FakeSlack, type SlackCall } from '../support/fake-slack';
import {
  buttonClickBody,
  homeClickBody,
  httpApiEvent,
  restApiEvent,
  slashCommandBody,
} from '../support/slack-signing';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-bot-token-000111222';
export const TASK_DEF = 'arn:aws:ecs:us-east-1:123456789012:task-definition/snowwhite-runner:7';
export const NOTIFY = 'C0NOTIFY';

export const ebClient = new ElasticBeanstalkClient({ region: 'us-east-1' });
const eb = ebClient;
/** SSM in the fleet's region: one client for reads and SendCommand, so one mock sees every call. */
export const ssmClient = new SSMClient({ region: 'us-east-1' });
/** The clients every container of the world is given; each is mocked by instance, not by class. */
export const botClients: BotAwsClients = {
  iam: new IAMClient({ region: 'us-east-1' }),
  ecs: new ECSClient({ region: 'us-east-1' }),
  lambda: new LambdaClient({ region: 'us-east-1' }),
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
  // Used only with LEDGER_TABLE_NAME; ledger tests give the world a real one (dynalite) instead.
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
  elasticBeanstalk: () => eb,
  ssm: () => ssmClient,
  ssmSendCommand: () => ssmClient,
};
export const iamMock = mockClient(botClients.iam);
export const ecsMock = mockClient(botClients.ecs);
export const ebMock = mockClient(eb);
export const lambdaMock = mockClient(botClients.lambda);
export const secretsMock = mockClient(botClients.secretsManager);

export interface FakeIamUser {
  name: string;
  tags?: Record<string, string>;
  /** `action resourceArn` pairs the user may do (`*` as resource: any). */
  allow?: string[];
  /** Explicitly denied pairs. */
  deny?: string[];
  /** Policy statements with conditions, evaluated like IAM's simulator (see `simulate`). */
  statements?: FakeStatement[];
}

/** Condition operators the fake understands, each `{ key: value | values }`. */
export type FakeConditionOperator =
  | 'StringEquals'
  | 'StringLike'
  | 'StringNotEquals'
  | 'StringNotLike'
  | 'Bool'
  | 'BoolIfExists'
  | 'StringEqualsIfExists'
  | 'StringLikeIfExists';
export interface FakeStatement {
  effect: 'Allow' | 'Deny';
  /** `service:Action` or `*` or `service:*`. */
  action: string;
  /** ARN glob (`*`, `?`). */
  resource: string;
  condition?: Partial<Record<FakeConditionOperator, Record<string, string | string[]>>>;
}

/** IAM's glob: `*` any run of characters, `?` one; nothing else is special. */
const globMatches = (pattern: string, value: string, ignoreCase = false) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  ).test(value);

/**
 * One condition operator on one key, with IAM's rules for an absent key: it never matches, except
 * that negated operators are then true and `...IfExists` operators are true.
 */
function conditionHolds(op: FakeConditionOperator, actual: string[] | undefined, wanted: string[]): boolean {
  const ifExists = op.endsWith('IfExists');
  const base = op.replace(/IfExists$/, '');
  const negated = base.includes('Not');
  if (actual === undefined) return ifExists || negated;
  const one = (v: string) =>
    wanted.some((w) =>
      base === 'StringLike' || base === 'StringNotLike'
        ? globMatches(w, v)
        : base === 'Bool'
          ? w.toLowerCase() === v.toLowerCase()
          : w === v,
    );
  return negated ? !actual.some(one) : actual.some(one);
}

/**
 * SimulatePrincipalPolicy over a user's statements, like IAM's: context entries apply to every
 * resource of the call; the simulator looks nothing up itself, so a key a relevant statement tests
 * and the call does not supply is reported in MissingContextValues. Explicit deny beats allow beats
 * the implicit deny. One EvaluationResult per resource, `pageSize` per page (Marker = next index).
 */
export function simulate(
  user: FakeIamUser,
  input: SimulatePrincipalPolicyCommandInput,
  pageSize: number,
): { EvaluationResults: EvaluationResult[]; IsTruncated: boolean; Marker?: string } {
  const statements: FakeStatement[] = [
    ...(user.statements ?? []),
    ...(user.allow ?? []).map((r) => pair('Allow', r)),
    ...(user.deny ?? []).map((r) => pair('Deny', r)),
  ];
  const context = new Map<string, string[]>();
  for (const e of input.ContextEntries ?? [])
    if (e.ContextKeyName) context.set(e.ContextKeyName.toLowerCase(), e.ContextKeyValues ?? []);
  const results: EvaluationResult[] = [];
  for (const action of input.ActionNames ?? [])
    for (const resource of input.ResourceArns ?? ['*']) {
      const missing = new Set<string>();
      const applies = (s: FakeStatement) => {
        if (!globMatches(s.action, action, true) || !globMatches(s.resource, resource)) return false;
        let holds = true;
        for (const [op, keys] of Object.entries(s.condition ?? {}))
          for (const [key, value] of Object.entries(keys ?? {})) {
            const actual = context.get(key.toLowerCase());
            if (actual === undefined) missing.add(key);
            if (!conditionHolds(op as FakeConditionOperator, actual, [value].flat())) holds = false;
          }
        return holds;
      };
      const denied = statements
        .filter((s) => s.effect === 'Deny')
        .map(applies)
        .some(Boolean);
      const allowed = statements
        .filter((s) => s.effect === 'Allow')
        .map(applies)
        .some(Boolean);
      results.push({
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: denied ? 'explicitDeny' : allowed ? 'allowed' : 'implicitDeny',
        MissingContextValues: [...missing],
      });
    }
  const start = Number(input.Marker ?? 0);
  const next = start + pageSize;
  return {
    EvaluationResults: results.slice(start, next),
    IsTruncated: next < results.length,
    ...(next < results.length ? { Marker: String(next) } : {}),
  };
}

function pair(effect: 'Allow' | 'Deny', rule: string): FakeStatement {
  const [action = '', resource = '*'] = rule.split(' ');
  return { effect, action, resource };
}

export const ssmDocArn = (doc: string, region = 'us-east-1') =>
  `arn:aws:ssm:${region}:123456789012:document/${doc}`;
/** A user allowed to launch every action. */
export const operator = (name: string, slackUserId: string): FakeIamUser => ({
  name,
  tags: { slack_userid: slackUserId, team: 'ops' },
  allow: ['ecs:RunTask *', 'ssm:SendCommand *'],
});

export interface FakeEnvironment {
  name: string;
  instances: number;
  status?: string;
  application?: string;
  /** Elastic Beanstalk's DateUpdated (a deploy). */
  updatedAt?: Date;
  /** EC2 instance ids (default: made up from the environment's id, `instances` of them). */
  instanceIds?: string[];
}

/** An environment's id: `e-` and its name, as far as an Elastic Beanstalk id can hold it. */
export const envIdOf = (e: Pick<FakeEnvironment, 'name'>) => `e-${e.name.replace(/[^A-Za-z0-9-]/g, '')}`;

/** Its EC2 instances: as given, or `i-<environment id>-<n>`. */
export const instanceIdsOf = (e: FakeEnvironment): string[] =>
  e.instanceIds ?? Array.from({ length: e.instances }, (_, i) => `i-${envIdOf(e)}-${i}`);

export function baseEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_NOTIFY_CHANNEL: NOTIFY,
    RUNNER_CLUSTER: 'snowwhite',
    RUNNER_TASK_DEFINITION_ARN: TASK_DEF,
    RUNNER_SUBNET_IDS: 'subnet-0a1, subnet-0b2',
    RUNNER_SECURITY_GROUP_IDS: 'sg-0c3',
    RUNNER_ASSIGN_PUBLIC_IP: 'DISABLED',
    SSM_DOCUMENT_QUIET: 'snowwhite-quiet',
    SSM_DOCUMENT_STOP: 'snowwhite-stop',
    SSM_DOCUMENT_WAKE: 'snowwhite-wake',
    SSM_DOCUMENT_STATUS: 'snowwhite-status',
    AWS_LAMBDA_FUNCTION_NAME: 'snowwhite-bot',
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class World {
  users: FakeIamUser[] = [operator('alice', 'U0ALICE')];
  /** IAM roles (the command line's callers may be assumed roles); `path` like `/teams/`. */
  roles: (FakeIamUser & { path?: string })[] = [];
  environments: FakeEnvironment[] = [
    { name: 'myapp-workers-prod', instances: 3 },
    { name: 'myapp-workers-staging', instances: 1 },
    { name: 'myapp-web-prod', instances: 4 },
    { name: 'myapp-workers-old', instances: 2, status: 'Terminated' },
  ];
  /** Milliseconds each IAM call takes. */
  iamDelayMs = 0;
  /** IAM calls to throttle before answering (counts down). */
  iamThrottles = 0;
  iamInFlight = 0;
  /** EvaluationResults per SimulatePrincipalPolicy page (small, to exercise Marker paging). */
  simulationPageSize = 2;
  readonly simulations: SimulatePrincipalPolicyCommandInput[] = [];
  iamMaxInFlight = 0;
  /** ECS tasks by client token, with the input that launched them. */
  readonly tasks = new Map<string, { input: string; taskArn: string }>();
  readonly runTaskInputs: RunTaskCommandInput[] = [];
  /** Tasks ECS holds that this world did not launch (another service's, another cluster's). */
  readonly otherTasks: Task[] = [];
  /** StopTask's effect (desired STOPPED) and tasks that ended by themselves (last STOPPED), by ARN. */
  readonly taskStops = new Map<string, { reason?: string; ended?: boolean }>();
  /** RunTask calls ECS refuses (nothing started), counted down. */
  ecsRefusals = 0;
  /** RunTask calls whose answer is lost after ECS started the task (a network timeout, say). */
  ecsLoseAnswers = 0;
  readonly logs: string[] = [];
  private played = 0;
  handler!: LambdaHandler;
  responseCounter = 0;
  /** DynamoDB for the ledger (dynalite), when a test sets LEDGER_TABLE_NAME. */
  dynamodb: DynamoDBClient | undefined;
  /** SSM Run Command: what the bot sent, and how instances answer. */
  ssm!: WorldSsm;

  private constructor(readonly slack: FakeSlack) {}

  static async start(
    env: Record<string, string | undefined> = {},
    options: { dynamodb?: DynamoDBClient } = {},
  ): Promise<World> {
    const world = new World(await FakeSlack.start());
    world.dynamodb = options.dynamodb;
    world.install();
    world.handler = world.newContainer(env);
    return world;
  }

  /**
   * A fresh Lambda container (module state, caches) sharing the same fake AWS and Slack;
   * `options.nowSeconds` moves its clock.
   */
  newContainer(
    env: Record<string, string | undefined> = {},
    options: Pick<LambdaOptions, 'nowSeconds' | 'nowMs'> = {},
  ): LambdaHandler {
    return createLambdaHandler({
      env: baseEnv({ SLACK_API_URL: this.slack.apiUrl, ...env }),
      logger: createLogger({ write: (line) => this.logs.push(line) }),
      clients: this.dynamodb ? { ...botClients, dynamodb: this.dynamodb } : botClients,
      ...options,
    });
  }

  async stop(): Promise<void> {
    await this.slack.close();
  }

  private async iamCall<T>(answer: () => T): Promise<T> {
    this.iamInFlight++;
    this.iamMaxInFlight = Math.max(this.iamMaxInFlight, this.iamInFlight);
    try {
      if (this.iamDelayMs) await sleep(this.iamDelayMs);
      if (this.iamThrottles > 0) {
        this.iamThrottles--;
        throw throttlingError('Throttling');
      }
      return answer();
    } finally {
      this.iamInFlight--;
    }
  }

  private install(): void {
    for (const m of [iamMock, ecsMock, ebMock, lambdaMock, secretsMock]) m.reset();
    this.ssm = new WorldSsm(ssmClient, () => this.instanceIds());
    const arnOf = (u: FakeIamUser) => `arn:aws:iam::123456789012:user/${u.name}`;
    const roleArnOf = (r: FakeIamUser & { path?: string }) =>
      `arn:aws:iam::123456789012:role${r.path ?? '/'}${r.name}`;
    iamMock.on(GetRoleCommand).callsFake((input: { RoleName: string }) =>
      this.iamCall(() => {
        const role = this.roles.find((r) => r.name === input.RoleName);
        if (!role)
          throw awsError(
            'NoSuchEntityException',
            `The role with name ${input.RoleName} cannot be found.`,
            404,
          );
        return {
          Role: {
            RoleName: role.name,
            Path: role.path ?? '/',
            Arn: roleArnOf(role),
            RoleId: `AROA${role.name.toUpperCase()}`,
            CreateDate: new Date(0),
          },
        };
      }),
    );
    iamMock.on(ListUsersCommand).callsFake((input: { Marker?: string; MaxItems?: number }) =>
      this.iamCall(() => {
        const start = Number(input.Marker ?? 0);
        const size = Math.min(input.MaxItems ?? 100, 100); // IAM pages smaller than asked: exercise paging
        const page = this.users.slice(start, start + size);
        const next = start + size;
        return {
          Users: page.map((u) => ({
            UserName: u.name,
            Arn: arnOf(u),
            UserId: u.name,
            Path: '/',
            CreateDate: new Date(0),
          })),
          IsTruncated: next < this.users.length,
          ...(next < this.users.length ? { Marker: String(next) } : {}),
        };
      }),
    );
    iamMock.on(ListUserTagsCommand).callsFake((input: { UserName: string }) =>
      this.iamCall(() => {
        const user = this.users.find((u) => u.name === input.UserName);
        if (!user) throw awsError('NoSuchEntityException', 'no such user', 404);
        return {
          Tags: Object.entries(user.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          IsTruncated: false,
        };
      }),
    );
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) =>
      this.iamCall(() => {
        this.simulations.push(input);
        const user =
          this.users.find((u) => arnOf(u) === input.PolicySourceArn) ??
          this.roles.find((r) => roleArnOf(r) === input.PolicySourceArn);
        if (!user) throw awsError('NoSuchEntityException', 'no such user or role', 404);
        return simulate(user, input, this.simulationPageSize);
      }),
    );
    ebMock.on(DescribeEnvironmentsCommand).callsFake((input: { ApplicationName?: string }) => ({
      Environments: this.environments
        .filter((e) => (e.application ?? 'MY-APP') === input.ApplicationName)
        .map((e) => ({
          EnvironmentName: e.name,
          EnvironmentId: envIdOf(e),
          Status: e.status ?? 'Ready',
          Health: 'Green',
          ...(e.updatedAt ? { DateUpdated: e.updatedAt } : {}),
        })),
    }));
    ebMock.on(DescribeEnvironmentResourcesCommand).callsFake((input: { EnvironmentId?: string }) => {
      const env = this.environments.find((e) => envIdOf(e) === input.EnvironmentId);
      return {
        EnvironmentResources: { Instances: (env ? instanceIdsOf(env) : []).map((Id) => ({ Id })) },
      };
    });
    // RunTask with ECS's client-token semantics: same token and parameters → the same task;
    // same token with other parameters → ConflictException.
    ecsMock.on(RunTaskCommand).callsFake((input: RunTaskCommandInput) => {
      this.runTaskInputs.push(input);
      if (this.ecsRefusals > 0) {
        this.ecsRefusals--;
        throw awsError('AccessDeniedException', 'User is not authorized to perform ecs:RunTask', 400);
      }
      const { clientToken = '', ...params } = input;
      const key = `${input.cluster}/${clientToken}`;
      const text = JSON.stringify(params);
      const known = this.tasks.get(key);
      if (known) {
        if (known.input !== text)
          throw awsError('ConflictException', 'The client token was already used with different parameters');
        return { tasks: [{ taskArn: known.taskArn }], failures: [] };
      }
      const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/snowwhite/${String(this.tasks.size + 1).padStart(32, '0')}`;
      this.tasks.set(key, { input: text, taskArn });
      if (this.ecsLoseAnswers > 0) {
        this.ecsLoseAnswers--;
        throw timeoutError();
      }
      return { tasks: [{ taskArn, lastStatus: 'PROVISIONING' }], failures: [] };
    });
    // DescribeTasks and StopTask see a task only in the cluster it runs in, as ECS does.
    const clusterArn = (c = 'default') =>
      c.startsWith('arn:') ? c : `arn:aws:ecs:us-east-1:123456789012:cluster/${c}`;
    const findTask = (cluster: string | undefined, arn: string) =>
      this.allTasks().find((t) => t.taskArn === arn && t.clusterArn === clusterArn(cluster));
    ecsMock.on(DescribeTasksCommand).callsFake((input: DescribeTasksCommandInput) => {
      const found = (input.tasks ?? []).map((arn) => ({ arn, task: findTask(input.cluster, arn) }));
      return {
        tasks: found.flatMap(({ task }) =>
          task ? [input.include?.includes('TAGS') ? task : { ...task, tags: [] }] : [],
        ),
        failures: found.filter((f) => !f.task).map(({ arn }) => ({ arn, reason: 'MISSING' })),
      };
    });
    ecsMock.on(StopTaskCommand).callsFake((input: StopTaskCommandInput) => {
      const task = input.task ? findTask(input.cluster, input.task) : undefined;
      if (!task?.taskArn) throw awsError('InvalidParameterException', 'The referenced task was not found.');
      const known = this.taskStops.get(task.taskArn);
      this.taskStops.set(task.taskArn, { ...known, ...(input.reason ? { reason: input.reason } : {}) });
      return { task: findTask(input.cluster, task.taskArn) };
    });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN }) });
  }

  /** Every task ECS would describe: those launched here (as RunTask made them), then `otherTasks`. */
  allTasks(): Task[] {
    const launched = [...this.tasks.values()].map(({ input, taskArn }): Task => {
      const run = JSON.parse(input) as RunTaskCommandInput;
      return {
        taskArn,
        clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${run.cluster ?? 'default'}`,
        taskDefinitionArn: run.taskDefinition,
        startedBy: run.startedBy,
        overrides: run.overrides,
        tags: run.tags,
      } as Task;
    });
    return [...launched, ...this.otherTasks].map((t) => {
      const stop = t.taskArn ? this.taskStops.get(t.taskArn) : undefined;
      return {
        ...t,
        lastStatus: stop?.ended ? 'STOPPED' : (t.lastStatus ?? 'RUNNING'),
        desiredStatus: stop ? 'STOPPED' : (t.desiredStatus ?? 'RUNNING'),
        ...(stop?.reason ? { stoppedReason: stop.reason } : {}),
      };
    });
  }

  /** Every EC2 instance of the live environments (as DescribeEnvironmentResources names them). */
  instanceIds(): string[] {
    return this.environments.filter((e) => e.status !== 'Terminated').flatMap(instanceIdsOf);
  }

  /** Distinct launches (tasks actually started). */
  get launchedTasks(): number {
    return this.tasks.size;
  }

  newResponseUrl(): { id: string; url: string } {
    const id = `r${++this.responseCounter}`;
    return { id, url: this.slack.responseUrl(id) };
  }

  async slash(
    text: string,
    options: {
      userId?: string;
      channelId?: string;
      format?: 'v1' | 'v2';
      base64?: boolean;
      handler?: LambdaHandler;
    } = {},
  ) {
    const response = this.newResponseUrl();
    const body = slashCommandBody({
      text,
      responseUrl: response.url,
      ...(options.userId ? { userId: options.userId } : {}),
      ...(options.channelId ? { channelId: options.channelId } : {}),
    });
    const make = options.format === 'v1' ? restApiEvent : httpApiEvent;
    const event = make({ signingSecret: SIGNING_SECRET, body, ...(options.base64 ? { base64: true } : {}) });
    const result = (await (options.handler ?? this.handler)(event, {})) as {
      statusCode: number;
      body: string;
      headers?: Record<string, string>;
    };
    return { result, reply: parseReply(result.body), responseId: response.id };
  }

  async click(
    value: string,
    choice: 'confirm' | 'cancel',
    options: {
      userId?: string;
      channelId?: string;
      handler?: LambdaHandler;
      responseId?: string;
      /** Another button than the prompt's (for example a summary's Retry). */
      actionId?: string;
      /** The Slack request's timestamp (a container with a moved clock needs a matching one). */
      timestamp?: number;
    } = {},
  ) {
    const response = options.responseId
      ? { id: options.responseId, url: this.slack.responseUrl(options.responseId) }
      : this.newResponseUrl();
    const body = buttonClickBody({
      actionId: options.actionId ?? (choice === 'confirm' ? 'snowwhite_confirm' : 'snowwhite_cancel'),
      value,
      responseUrl: response.url,
      ...(options.userId ? { userId: options.userId } : {}),
      ...(options.channelId ? { channelId: options.channelId } : {}),
    });
    const result = (await (options.handler ?? this.handler)(
      httpApiEvent({
        signingSecret: SIGNING_SECRET,
        body,
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      }),
      {},
    )) as {
      statusCode: number;
      body: string;
    };
    return { result, responseId: response.id };
  }

  /** A click on a button of App Home (no channel, no response_url). */
  async clickInHome(
    value: string,
    actionId: string,
    options: { userId?: string; handler?: LambdaHandler } = {},
  ) {
    const body = homeClickBody({ actionId, value, ...(options.userId ? { userId: options.userId } : {}) });
    return (await (options.handler ?? this.handler)(
      httpApiEvent({ signingSecret: SIGNING_SECRET, body }),
      {},
    )) as {
      statusCode: number;
      body: string;
    };
  }

  /** Internal events the bot sent to itself (Lambda Invoke payloads) and not yet played. */
  pendingHandoffs(): unknown[] {
    return lambdaMock
      .commandCalls(InvokeCommand)
      .slice(this.played)
      .map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')));
  }

  /** Plays the pending async invocations through `handler` (default: this container), in order. */
  async playHandoffs(handler: LambdaHandler = this.handler): Promise<unknown[]> {
    const pending = this.pendingHandoffs();
    this.played += pending.length;
    const results = [];
    for (const event of pending) results.push(await handler(event, {}));
    return results;
  }

  responses(responseId: string): SlackCall[] {
    return this.slack.callsOf(`response_url:${responseId}`);
  }

  lastResponse(responseId: string): Record<string, unknown> | undefined {
    return this.responses(responseId).at(-1)?.args;
  }

  /** The buttons (the `actions` block) of the prompt posted to `responseId`: Confirm, then Cancel. */
  promptButtons(responseId: string): Record<string, unknown>[] {
    const prompt = this.responses(responseId).find((c) => Array.isArray(c.args.blocks));
    const actions = (
      prompt?.args.blocks as { type: string; elements?: Record<string, unknown>[] }[] | undefined
    )?.find((b) => b.type === 'actions');
    if (!actions?.elements) throw new Error(`no confirmation prompt on ${responseId}`);
    return actions.elements;
  }

  /** The Confirm button's value of the prompt posted to `responseId`. */
  confirmValue(responseId: string): string {
    const confirm = this.promptButtons(responseId).find((e) => e.action_id === 'snowwhite_confirm');
    if (!confirm) throw new Error(`no confirmation prompt on ${responseId}`);
    return String(confirm.value);
  }

  /** Top-level messages (thread roots) the bot posted in `channel`. */
  threadRoots(channel: string): SlackCall[] {
    return this.slack
      .callsOf('chat.postMessage')
      .filter((c) => !c.args.thread_ts && c.args.channel === channel);
  }

  /** The run request (RUN_REQUEST, as JSON) the `i`-th RunTask call handed the runner. */
  runRequestOf(i: number): RunRequest {
    const environment = this.runTaskInputs[i]?.overrides?.containerOverrides?.[0]?.environment ?? [];
    const value = environment.find((e) => e.name === 'RUN_REQUEST')?.value;
    if (value === undefined) throw new Error(`RunTask call ${i} carries no RUN_REQUEST`);
    return JSON.parse(value) as RunRequest;
  }

  authorizationLogs(): Record<string, unknown>[] {
    return this.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'authorization');
  }
}

function parseReply(body: string): Record<string, unknown> | undefined {
  if (!body) return undefined;
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { raw: body };
  }
}
