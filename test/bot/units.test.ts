import { RunTaskCommand } from '@aws-sdk/client-ecs';
import {
  IAMClient,
  ListUserTagsCommand,
  ListUsersCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { parseCommand } from '../../bot/slack/command';
import { createIamDirectory } from '../../bot/auth/iam-directory';
import { decide, identify, requiredQuestions, type SimulationAnswer } from '../../bot/auth/rules';
import { createPolicySimulator, foldResults } from '../../bot/auth/policy-simulator';
import {
  buildRunTaskInput,
  clientTokenFor,
  ecsTagValue,
  launchRunner,
  RunnerLaunchError,
  startedByFor,
  type LaunchSettings,
} from '../../runner/launch';
import { createLogger } from '../../runner/log';
import { matchingEnvironments } from '../../runner/aws/environments';
import { awsRetryConfig } from '../../runner/aws/clients';
import { localAwsEndpoint } from '../support/local-aws-endpoint';
import { openButtonValue, sealButtonValue } from '../../bot/slack/buttons';
import { awsError } from '../support/aws-errors';
import { runRequestInput } from '../support/run-request';
import { botClients, ecsMock, iamMock, World, type FakeIamUser } from './world';
import { DescribeEnvironmentsCommand, ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { mockClient } from 'aws-sdk-client-mock';

describe('parseCommand --timeout', () => {
  it('takes seconds, minutes or hours, anywhere after the action', () => {
    for (const [text, seconds] of [
      ['quiet workers MY-APP us-east-1 --timeout 4h', 14_400],
      ['quiet --timeout 90 workers MY-APP us-east-1', 90],
      ['STOP workers MY-APP us-east-1 --TIMEOUT=15M', 900],
      ['quiet workers MY-APP us-east-1 --timeout 30s', 30],
    ] as const)
      expect(parseCommand(text)).toMatchObject({ ok: true, command: { drainTimeoutSeconds: seconds } });
    const plain = parseCommand('quiet workers MY-APP us-east-1');
    expect(plain.ok && plain.command).not.toHaveProperty('drainTimeoutSeconds');
  });

  it('says what is wrong with a bad timeout', () => {
    expect(parseCommand('quiet workers MY-APP us-east-1 --timeout')).toEqual({
      ok: false,
      problems: ['--timeout needs a duration, for example 90s, 15m or 4h'],
    });
    expect(parseCommand('quiet workers MY-APP us-east-1 --timeout 4d')).toEqual({
      ok: false,
      problems: ['"4d" is not a duration: use seconds, minutes or hours, for example 90s, 15m or 4h'],
    });
    expect(parseCommand('quiet workers MY-APP us-east-1 --timeout 48h')).toEqual({
      ok: false,
      problems: ['--timeout must be between 1s and 47h 50m (172200 seconds)'],
    });
    expect(parseCommand('quiet workers MY-APP us-east-1 --timeout 0')).toMatchObject({ ok: false });
    expect(parseCommand('quiet workers MY-APP us-east-1 --timeout <!channel>')).toEqual({
      ok: false,
      problems: [
        '"&lt;!channel&gt;" is not a duration: use seconds, minutes or hours, for example 90s, 15m or 4h',
      ],
    });
  });
});

describe('parseCommand', () => {
  test('a valid command, action and region case-insensitive, application case kept', () => {
    expect(parseCommand('  QUIET  Workers  My-App  EU-WEST-1 ')).toEqual({
      ok: true,
      command: {
        kind: 'run',
        action: 'quiet',
        envPattern: 'Workers',
        application: 'My-App',
        region: 'eu-west-1',
      },
    });
  });
  test('several problems at once are all named', () => {
    const r = parseCommand('stop ** a/b nowhere-1');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toHaveLength(3);
  });
  test('long input is echoed shortened', () => {
    const r = parseCommand(`quiet ${'x'.repeat(500)} APP us-east-1`);
    expect(!r.ok && r.problems[0]!.length).toBeLessThan(200);
  });
  test('non-string input', () => {
    expect(parseCommand(undefined)).toEqual({ ok: false, problems: ['the command text is missing'] });
  });
});

describe('IAM tag index', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.start();
  });
  afterEach(async () => {
    await world.stop();
  });
  const iam = () => botClients.iam;

  test('pages through ListUsers, reads tags with bounded concurrency, finds the one tagged user', async () => {
    world.users = Array.from({ length: 250 }, (_, i): FakeIamUser => ({
      name: `u${i}`,
      tags: i === 207 ? { slack_userid: 'U0X' } : { other: 'x' },
    }));
    world.iamDelayMs = 5;
    const dir = createIamDirectory({ iam: iam(), cacheSeconds: 60, concurrency: 4 });
    expect((await dir.usersFor('U0X')).map((u) => u.userName)).toEqual(['u207']);
    expect(iamMock.commandCalls(ListUsersCommand)).toHaveLength(3);
    expect(iamMock.commandCalls(ListUserTagsCommand)).toHaveLength(250);
    expect(world.iamMaxInFlight).toBe(4);
  });

  test('throttled calls are retried by the SDK retry strategy, not fatal', async () => {
    // aws-sdk-client-mock replaces `send`, so retries only run against a real endpoint (IAM: query/XML).
    const users = Array.from({ length: 8 }, (_, i) => `u${i}`);
    let throttles = 4;
    const calls: string[] = [];
    const endpoint = await localAwsEndpoint((form) => {
      calls.push(form.get('Action') ?? '');
      if (throttles > 0) {
        throttles--;
        return { status: 400, body: iamXml.error('Throttling', 'Rate exceeded') };
      }
      if (form.get('Action') === 'ListUsers') return { status: 200, body: iamXml.listUsers(users) };
      const name = form.get('UserName') ?? '';
      return { status: 200, body: iamXml.listUserTags({ slack_userid: `U0${name.toUpperCase()}` }) };
    });
    try {
      const real = new IAMClient({
        region: 'us-east-1',
        endpoint: endpoint.url,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
        ...awsRetryConfig(),
      });
      const dir = createIamDirectory({ iam: real, cacheSeconds: 60, concurrency: 2 });
      expect((await dir.usersFor('U0U7')).map((u) => u.userName)).toEqual(['u7']);
      expect(throttles).toBe(0);
      expect(calls).toHaveLength(1 + users.length + 4); // 1 ListUsers + 8 ListUserTags, plus the 4 throttled
    } finally {
      await endpoint.close();
    }
  });

  test('non-throttling errors fail the look-up and are not cached', async () => {
    const dir = createIamDirectory({ iam: iam(), cacheSeconds: 60 });
    iamMock.on(ListUsersCommand).rejectsOnce(awsError('AccessDenied', 'denied', 403));
    await expect(dir.usersFor('U0ALICE')).rejects.toThrow('denied');
    await world.stop();
    world = await World.start(); // restores the fake IAM
    expect(await dir.usersFor('U0ALICE')).toHaveLength(1);
  });

  test('cached for cacheSeconds; concurrent look-ups share one build; rebuilt after expiry', async () => {
    let now = 1_000_000;
    const dir = createIamDirectory({ iam: iam(), cacheSeconds: 60, now: () => now });
    await Promise.all([dir.usersFor('U0ALICE'), dir.usersFor('U0BOB'), dir.usersFor('U0ALICE')]);
    expect(iamMock.commandCalls(ListUsersCommand)).toHaveLength(1);
    world.users.push({ name: 'bob', tags: { slack_userid: 'U0BOB' } });
    now += 59_000;
    expect(await dir.usersFor('U0BOB')).toHaveLength(0);
    now += 2_000;
    expect(await dir.usersFor('U0BOB')).toHaveLength(1);
    expect(iamMock.commandCalls(ListUsersCommand)).toHaveLength(2);
  });
});

describe('authorization decision', () => {
  const alice = { userName: 'alice', arn: 'arn:aws:iam::1:user/alice' };
  const targets = {
    taskDefinitionArn: 'arn:aws-cn:ecs:cn-north-1:210987654321:task-definition/r:2',
    ssmDocuments: { quiet: 'dq', stop: 'ds', wake: 'dw', status: 'dst' },
  };
  test('questions: RunTask (its region), the document (the command region), each environment with its tags', () => {
    const qs = requiredQuestions(targets, 'stop', 'cn-northwest-1', [
      { name: 'w-blue', id: 'e-b', instanceIds: ['i-1', 'i-2'] },
      { name: 'w-green', id: 'e-g', instanceIds: [] },
    ]);
    expect(qs).toEqual([
      {
        subject: { kind: 'taskDefinition' },
        actionName: 'ecs:RunTask',
        resourceArns: ['arn:aws-cn:ecs:cn-north-1:210987654321:task-definition/r:2'],
        context: { 'aws:RequestedRegion': 'cn-north-1' },
      },
      {
        subject: { kind: 'document', name: 'ds' },
        actionName: 'ssm:SendCommand',
        resourceArns: ['arn:aws-cn:ssm:cn-northwest-1:210987654321:document/ds'],
        context: { 'aws:RequestedRegion': 'cn-northwest-1' },
      },
      {
        subject: { kind: 'environment', name: 'w-blue', id: 'e-b' },
        actionName: 'ssm:SendCommand',
        resourceArns: [
          'arn:aws-cn:ec2:cn-northwest-1:210987654321:instance/i-1',
          'arn:aws-cn:ec2:cn-northwest-1:210987654321:instance/i-2',
        ],
        context: {
          'ssm:resourceTag/elasticbeanstalk:environment-name': 'w-blue',
          'ssm:resourceTag/elasticbeanstalk:environment-id': 'e-b',
          'aws:RequestedRegion': 'cn-northwest-1',
        },
      },
      {
        subject: { kind: 'environment', name: 'w-green', id: 'e-g' },
        actionName: 'ssm:SendCommand',
        resourceArns: ['arn:aws-cn:ec2:cn-northwest-1:210987654321:instance/*'],
        context: expect.objectContaining({ 'ssm:resourceTag/elasticbeanstalk:environment-name': 'w-green' }),
      },
    ]);
    const big = requiredQuestions(targets, 'quiet', 'cn-north-1', [
      { name: 'huge', id: 'e-h', instanceIds: Array.from({ length: 250 }, (_, i) => `i-${i}`) },
    ]);
    expect(big.slice(2).map((q) => q.resourceArns.length)).toEqual([100, 100, 50]);
  });
  test('identify: one, none, several', () => {
    expect(identify('U1', [alice])).toEqual({ ok: true, iamUser: alice });
    expect(identify('U1', [])).toMatchObject({ ok: false, decision: { reason: 'no_iam_user' } });
    expect(identify('U1', [alice, { ...alice, userName: 'al' }])).toMatchObject({
      ok: false,
      decision: { reason: 'several_iam_users' },
    });
  });
  const answer = (
    decision: SimulationAnswer['decision'],
    subject: SimulationAnswer['question']['subject'] = { kind: 'taskDefinition' },
    missingContextKeys: string[] = [],
  ): SimulationAnswer => ({
    question: { subject, actionName: 'ssm:SendCommand', resourceArns: ['arn:r'], context: {} },
    decision,
    missingContextKeys,
  });
  test('decide: all allowed, one denied, nothing checked, missing context, denied environments named once', () => {
    expect(decide(alice, [answer('allowed')]).allowed).toBe(true);
    expect(decide(alice, [answer('allowed'), answer('implicitDeny')]).allowed).toBe(false);
    expect(decide(alice, []).allowed).toBe(false);
    const missing = decide(alice, [answer('allowed', undefined, ['aws:SourceIp'])]);
    expect(missing).toMatchObject({ allowed: false, reason: 'missing_context' });
    expect(missing.allowed || missing.detail).toContain('aws:SourceIp');
    const blue = { kind: 'environment' as const, name: 'w-blue', id: 'e-b' };
    const d = decide(alice, [
      answer('allowed'),
      answer('implicitDeny', blue),
      answer('implicitDeny', blue),
      answer('allowed', { kind: 'environment', name: 'w-green', id: 'e-g' }),
    ]);
    expect(d).toMatchObject({ allowed: false, reason: 'not_allowed', deniedEnvironments: ['w-blue'] });
    expect(d.allowed || d.detail.match(/w-blue/g)).toHaveLength(1);
  });
});

describe('reading simulation answers', () => {
  test('the most restrictive of results and resource-specific results; boundaries and SCPs count', () => {
    expect(foldResults([])).toEqual({ decision: 'implicitDeny', missingContextKeys: [] });
    expect(foldResults([{ EvalActionName: 'a', EvalDecision: 'allowed' }]).decision).toBe('allowed');
    expect(
      foldResults([
        {
          EvalActionName: 'a',
          EvalResourceName: '*',
          EvalDecision: 'allowed',
          ResourceSpecificResults: [
            { EvalResourceName: 'arn:1', EvalResourceDecision: 'allowed' },
            { EvalResourceName: 'arn:2', EvalResourceDecision: 'explicitDeny', MissingContextValues: ['k'] },
          ],
        },
      ]),
    ).toEqual({ decision: 'explicitDeny', missingContextKeys: ['k'] });
    expect(
      foldResults([
        {
          EvalActionName: 'a',
          EvalDecision: 'allowed',
          PermissionsBoundaryDecisionDetail: { AllowedByPermissionsBoundary: false },
        },
      ]).decision,
    ).toBe('implicitDeny');
    expect(
      foldResults([
        {
          EvalActionName: 'a',
          EvalDecision: 'allowed',
          OrganizationsDecisionDetail: { AllowedByOrganizations: false },
        },
      ]).decision,
    ).toBe('implicitDeny');
    expect(foldResults([{ EvalActionName: 'a', EvalDecision: 'somethingNew' as never }]).decision).toBe(
      'implicitDeny',
    );
  });

  test('follows Marker pages: a denial on the last page counts; truncated without a marker is a denial', async () => {
    const iam = new IAMClient({ region: 'us-east-1' });
    const mock = mockClient(iam);
    const q = {
      subject: { kind: 'taskDefinition' as const },
      actionName: 'ssm:SendCommand',
      resourceArns: ['arn:1', 'arn:2'],
      context: { 'aws:RequestedRegion': 'us-east-1' },
    };
    mock
      .on(SimulatePrincipalPolicyCommand)
      .resolvesOnce({
        EvaluationResults: [{ EvalActionName: 'ssm:SendCommand', EvalDecision: 'allowed' }],
        IsTruncated: true,
        Marker: 'm1',
      })
      .resolvesOnce({
        EvaluationResults: [{ EvalActionName: 'ssm:SendCommand', EvalDecision: 'implicitDeny' }],
        IsTruncated: false,
      });
    const simulate = createPolicySimulator(iam);
    expect((await simulate('arn:p', q)).decision).toBe('implicitDeny');
    const calls = mock.commandCalls(SimulatePrincipalPolicyCommand);
    expect(calls[1]!.args[0].input.Marker).toBe('m1');
    expect(calls[0]!.args[0].input.ContextEntries).toEqual([
      { ContextKeyName: 'aws:RequestedRegion', ContextKeyValues: ['us-east-1'], ContextKeyType: 'string' },
    ]);
    mock.reset();
    mock.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [{ EvalActionName: 'ssm:SendCommand', EvalDecision: 'allowed' }],
      IsTruncated: true,
    });
    expect((await simulate('arn:p', q)).decision).toBe('implicitDeny');
    mock.restore();
  });
});

describe('launch', () => {
  beforeEach(() => ecsMock.reset()); // no ECS calls left over from another test
  const launch: LaunchSettings = {
    cluster: 'c',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/r:1',
    containerName: 'runner',
    subnetIds: ['subnet-1'],
    securityGroupIds: ['sg-1'],
    assignPublicIp: 'ENABLED',
  };
  // A user name ECS tags cannot carry as it is; no drain timeout, so the default is filled in.
  const request = runRequestInput({ requestedBy: { iamUserName: 'first.last+ops@example.com,x' } });

  test('startedBy is at most 36 of [A-Za-z0-9_/-] for any IAM user name', () => {
    for (const name of ['alice', 'first.last+ops@example.com', 'a=b,c', 'x'.repeat(64)]) {
      expect(startedByFor(name)).toMatch(/^[A-Za-z0-9_/-]{1,36}$/);
    }
    expect(startedByFor('first.last')).toBe('snowwhite/first_last');
  });

  test('client token: deterministic per run id, different across runs, within ECS limits', () => {
    expect(clientTokenFor('a')).toBe(clientTokenFor('a'));
    expect(clientTokenFor('a')).not.toBe(clientTokenFor('b'));
    expect(clientTokenFor('a')).toMatch(/^[\x21-\x7e]{1,64}$/);
  });

  test('tag values keep only what ECS accepts', () => {
    expect(ecsTagValue('first.last+ops@example.com,x')).toBe('first.last+ops@example.com_x');
  });

  test('buildRunTaskInput is deterministic (idempotent retries need identical parameters)', () => {
    const a = buildRunTaskInput(launch, request, { clientToken: 't' });
    const b = buildRunTaskInput(
      launch,
      { ...request, requestedBy: { ...request.requestedBy } },
      { clientToken: 't' },
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.overrides!.containerOverrides![0]!.environment).toEqual([
      { name: 'RUN_REQUEST', value: expect.stringContaining('"drainTimeoutSeconds":3600') },
    ]);
  });

  test('an invalid request is refused before ECS is called', async () => {
    await expect(
      launchRunner(botClients.ecs, launch, { ...request, runId: 'bad id!' }, { clientToken: 't' }),
    ).rejects.toThrow();
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  });

  test('ECS failures and conflicts become RunnerLaunchError', async () => {
    const ecs = botClients.ecs;
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'RESOURCE:ENI', arn: 'x' }] })
      .rejectsOnce(awsError('ConflictException', 'conflict'));
    await expect(launchRunner(ecs, launch, request, { clientToken: 't' })).rejects.toThrow('RESOURCE:ENI');
    const err = await launchRunner(ecs, launch, request, { clientToken: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerLaunchError);
    expect((err as RunnerLaunchError).kind).toBe('conflict');
  });
});

describe('small pieces', () => {
  test('environments match case-insensitively; terminated ones never', async () => {
    const eb = new ElasticBeanstalkClient({ region: 'us-east-1' });
    mockClient(eb)
      .on(DescribeEnvironmentsCommand)
      .resolves({
        Environments: [
          { EnvironmentName: 'A-Workers', EnvironmentId: 'e1', Status: 'Ready' },
          { EnvironmentName: 'b-workers', EnvironmentId: 'e2', Status: 'Terminated' },
          { EnvironmentName: 'web', EnvironmentId: 'e3', Status: 'Ready' },
        ],
      });
    const { matching, others } = await matchingEnvironments(eb, { application: 'A', envPattern: 'WORKERS' });
    expect(matching.map((e) => e.name)).toEqual(['A-Workers']);
    expect(others).toEqual(['web']);
  });
  test('button values: signed round-trip; expired after 15 minutes; altered, re-dated, unsigned or foreign values rejected', () => {
    const v = {
      v: 1 as const,
      runId: 'abcdefgh-1',
      action: 'stop' as const,
      envPattern: 'w',
      application: 'A',
      region: 'us-east-1' as const,
      previewed: ['e-abcdef1234:2:0123456789ab'],
    };
    const now = 1_800_000_000;
    const sealed = sealButtonValue(v, 'secret-1234', now);
    expect(openButtonValue(sealed, 'secret-1234', now + 60)).toEqual({ ok: true, value: v });
    expect(openButtonValue(sealed, 'secret-1234', now + 15 * 60 + 1)).toEqual({
      ok: false,
      reason: 'expired',
      runId: v.runId,
    });
    expect(openButtonValue(sealed, 'another-secret', now)).toMatchObject({ ok: false, reason: 'forged' });
    const altered = sealed.replace('"stop"', '"quiet"');
    expect(altered).not.toBe(sealed);
    expect(openButtonValue(altered, 'secret-1234', now)).toMatchObject({ ok: false, reason: 'forged' });
    // The previewed targets are signed too: a value naming other environments is a forgery.
    const otherTargets = sealed.replace('e-abcdef1234:2:', 'e-abcdef9999:2:');
    expect(openButtonValue(otherTargets, 'secret-1234', now)).toMatchObject({ ok: false, reason: 'forged' });
    const later = JSON.stringify({ ...JSON.parse(sealed), iat: now + 3600 });
    expect(openButtonValue(later, 'secret-1234', now + 3600)).toMatchObject({ reason: 'forged' });
    expect(openButtonValue(JSON.stringify(v), 'secret-1234', now)).toMatchObject({ reason: 'invalid' });
    expect(openButtonValue('{"v":1}', 'secret-1234', now)).toMatchObject({ reason: 'invalid' });
    expect(openButtonValue('not json', 'secret-1234', now)).toMatchObject({ reason: 'invalid' });
    expect(openButtonValue(42, 'secret-1234', now)).toMatchObject({ reason: 'invalid' });
    expect(() => sealButtonValue({ ...v, region: 'mars-1' as never }, 'secret-1234', now)).toThrow();
  });
  test('the logger redacts registered secrets and anything shaped like a Slack token', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.addSecret('s3cr3t-signing');
    log.with({ runId: 'r1' }).error('x', { error: new Error('failed with s3cr3t-signing and xoxb-123-abc') });
    expect(lines[0]).not.toMatch(/s3cr3t-signing|xoxb-123/);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      event: 'x',
      runId: 'r1',
      error: { message: 'failed with [redacted] and [redacted]' },
    });
  });
});

/** IAM's query-protocol answers, as much of them as the tag index reads. */
const iamXml = {
  wrap: (action: string, result: string) =>
    `<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
  listUsers: (names: string[]) =>
    iamXml.wrap(
      'ListUsers',
      `<IsTruncated>false</IsTruncated><Users>${names
        .map(
          (n) =>
            `<member><UserName>${n}</UserName><Arn>arn:aws:iam::123456789012:user/${n}</Arn><UserId>AID${n}</UserId><Path>/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>`,
        )
        .join('')}</Users>`,
    ),
  listUserTags: (tags: Record<string, string>) =>
    iamXml.wrap(
      'ListUserTags',
      `<IsTruncated>false</IsTruncated><Tags>${Object.entries(tags)
        .map(([k, v]) => `<member><Key>${k}</Key><Value>${v}</Value></member>`)
        .join('')}</Tags>`,
    ),
  error: (code: string, message: string) =>
    `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
};
