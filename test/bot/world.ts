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
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { SSMClient } from '@aws-sdk/client-ssm';
import { WorldSsm } from './world-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createProofStsClient } from '../../bot/cli/sts-identity';
import { localSts, type KnownCredentials } from '../support/local-sts';
import {
  localIamSimulator,
  type PolicyDocument,
  type SimulatedPrincipal,
} from '../support/local-iam-simulator';
import { iamSignedEvent } from '../support/iam-signed-event';
import { signIdentityProof } from '../../runner/cli/sts-proof';
import { IDENTITY_PROOF_HEADER } from '../../runner/identity-proof';
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
export const INSTALLATION_ID = 'test-installation-0001';

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
  // Pointed at each world's local STS when the world starts (a real client: the proof goes over HTTP).
  sts: createProofStsClient({ region: 'us-east-1' }),
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
  /** Policy statements with conditions (IAM's own grammar, in short). */
  statements?: FakeStatement[];
  /** Whole identity policies, as an administrator would write them. */
  policies?: PolicyDocument[];
  /** A permissions boundary. */
  boundary?: PolicyDocument;
}

export interface FakeStatement {
  effect: 'Allow' | 'Deny';
  /** `service:Action` or `*` or `service:*`. */
  action: string;
  /** ARN glob (`*`, `?`). */
  resource: string;
  /** IAM's Condition block: `{ Operator: { key: value | values } }`. */
  condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * A fake principal's policies as IAM would hold them: what the local IAM endpoint hands the
 * independent evaluator (@cloud-copilot/iam-simulate), which decides every SimulatePrincipalPolicy.
 */
export function policiesOf(user: FakeIamUser): SimulatedPrincipal {
  const statements = [
    ...(user.statements ?? []).map((s) => ({
      Effect: s.effect,
      Action: s.action,
      Resource: s.resource,
      ...(s.condition ? { Condition: s.condition } : {}),
    })),
    ...(user.allow ?? []).map((r) => pair('Allow', r)),
    ...(user.deny ?? []).map((r) => pair('Deny', r)),
  ];
  return {
    identityPolicies: [
      ...(statements.length ? [{ Version: '2012-10-17', Statement: statements }] : []),
      ...(user.policies ?? []),
    ],
    ...(user.boundary ? { boundary: user.boundary } : {}),
  };
}

function pair(effect: 'Allow' | 'Deny', rule: string) {
  const [action = '', resource = '*'] = rule.split(' ');
  return { Effect: effect, Action: action, Resource: resource };
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
    SNOWWHITE_INSTALLATION_ID: INSTALLATION_ID,
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

  /** The local IAM endpoint whose answers to SimulatePrincipalPolicy the evaluator computes. */
  private simulator!: Awaited<ReturnType<typeof localIamSimulator>>;
  private simulatorClient!: IAMClient;

  private constructor(
    readonly slack: FakeSlack,
    readonly sts: Awaited<ReturnType<typeof localSts>>,
    /** Credentials the local STS knows: one key per caller ARN, made on first use. */
    private readonly stsKnown: KnownCredentials[],
  ) {}

  static async start(
    env: Record<string, string | undefined> = {},
    options: { dynamodb?: DynamoDBClient } = {},
  ): Promise<World> {
    const known: KnownCredentials[] = [];
    const world = new World(await FakeSlack.start(), await localSts(known), known);
    world.simulator = await localIamSimulator((arn) => world.principalPolicies(arn), {
      pageSize: () => world.simulationPageSize,
    });
    world.simulatorClient = new IAMClient({
      region: 'us-east-1',
      endpoint: world.simulator.url,
      credentials: { accessKeyId: 'AKIDSIMULATOR', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    botClients.sts = createProofStsClient({ region: 'us-east-1', endpoint: world.sts.url });
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
    options: Pick<LambdaOptions, 'nowSeconds' | 'nowMs'> & { clients?: Partial<BotAwsClients> } = {},
  ): LambdaHandler {
    const { clients, ...rest } = options;
    return createLambdaHandler({
      env: baseEnv({ SLACK_API_URL: this.slack.apiUrl, ...env }),
      logger: createLogger({ write: (line) => this.logs.push(line) }),
      clients: {
        ...botClients,
        ...(this.dynamodb ? { dynamodb: this.dynamodb } : {}),
        ...clients,
      },
      ...rest,
    });
  }

  async stop(): Promise<void> {
    await this.slack.close();
    await this.sts.close();
    this.simulatorClient.destroy();
    await this.simulator.close();
  }

  /** The tags EC2 holds for an instance of this world's environments (IAM conditions read them). */
  instanceTags(instanceId: string): Record<string, string> {
    const env = this.environments.find((e) => instanceId.startsWith(`i-e-${e.name}-`));
    return env
      ? { 'elasticbeanstalk:environment-name': env.name, 'elasticbeanstalk:environment-id': `e-${env.name}` }
      : {};
  }

  /** The policies IAM holds for a user or role ARN of this world. */
  principalPolicies(arn: string): SimulatedPrincipal | undefined {
    const user =
      this.users.find((u) => `arn:aws:iam::123456789012:user/${u.name}` === arn) ??
      this.roles.find((r) => `arn:aws:iam::123456789012:role${r.path ?? '/'}${r.name}` === arn);
    return user && policiesOf(user);
  }

  /**
   * The command line's run request as Lambda receives it: the body with an identity proof signed by
   * the command line's own code with `callerArn`'s credentials, the request context API Gateway fills.
   */
  async cliEvent(body: string, callerArn: string, signedAt = new Date()) {
    const proof = await signIdentityProof(this.callerSts(callerArn), INSTALLATION_ID, body, signedAt);
    return iamSignedEvent({ body, userArn: callerArn, headers: { [IDENTITY_PROOF_HEADER]: proof } });
  }

  /** The command line's STS client for a caller: its own credentials, which the local STS knows as `arn`. */
  callerSts(arn: string): STSClient {
    let creds = this.stsKnown.find((k) => k.arn === arn);
    if (!creds) {
      const n = String(this.stsKnown.length + 1).padStart(12, '0');
      creds = { accessKeyId: `AKIDCALLER${n}`, secretAccessKey: `secret-${n}`, arn };
      this.stsKnown.push(creds);
    }
    return new STSClient({ region: 'us-east-1', endpoint: this.sts.url, credentials: creds });
  }

  private async iamCall<T>(answer: () => T | Promise<T>): Promise<T> {
    this.iamInFlight++;
    this.iamMaxInFlight = Math.max(this.iamMaxInFlight, this.iamInFlight);
    try {
      if (this.iamDelayMs) await sleep(this.iamDelayMs);
      if (this.iamThrottles > 0) {
        this.iamThrottles--;
        throw throttlingError('Throttling');
      }
      return await answer();
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
    // Through the real SDK and a local IAM endpoint to the independent evaluator: the bot's reading of
    // the answer (pages, decisions, missing context, boundaries) is checked against its decisions.
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) =>
      this.iamCall(() => {
        this.simulations.push(input);
        return this.simulatorClient.send(new SimulatePrincipalPolicyCommand(input));
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
