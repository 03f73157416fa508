import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { GetRoleCommand, ListUsersCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { clientTokenFor } from '../../runner/launch';
import { cliRunIdFor } from '../../bot/cli/route';
import { iamSignedEvent } from '../support/iam-signed-event';
import { ecsMock, iamMock, World, type FakeIamUser } from './world';

let world: World;
beforeEach(async () => {
  world = await World.start();
});
afterEach(() => world.stop());

const ENV_NAME = 'ssm:resourceTag/elasticbeanstalk:environment-name';
/** A team's role: may quiet and wake only environments whose name starts with `myapp-workers-s`. */
const teamRole = (name: string, pattern = 'myapp-workers-s*'): FakeIamUser & { path: string } => ({
  name,
  path: '/teams/',
  statements: [
    { effect: 'Allow', action: 'ecs:RunTask', resource: '*' },
    { effect: 'Allow', action: 'ssm:SendCommand', resource: 'arn:aws:ssm:*:*:document/snowwhite-*' },
    {
      effect: 'Allow',
      action: 'ssm:SendCommand',
      resource: 'arn:aws:ec2:*:*:instance/*',
      condition: { StringLike: { [ENV_NAME]: pattern } },
    },
  ],
});

async function post(body: unknown, userArn?: string, handler = world.handler) {
  const event = iamSignedEvent({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(userArn ? { userArn } : {}),
  });
  const res = (await handler(event, {})) as {
    statusCode: number;
    body: string;
    headers: Record<string, string>;
  };
  return {
    status: res.statusCode,
    body: JSON.parse(res.body) as Record<string, unknown>,
    headers: res.headers,
  };
}
const run = { action: 'quiet', envPattern: 'staging', application: 'MY-APP', region: 'us-east-1' };

test('an assumed role allowed on the targets launches, simulated as its role (path included)', async () => {
  world.roles.push(teamRole('payments-oncall'));
  const res = await post(
    { ...run, idempotencyKey: 'key-1' },
    'arn:aws:sts::123456789012:assumed-role/payments-oncall/alice-session',
  );
  expect(res.status).toBe(200);
  // The bot assigns the run id, from the principal and the caller's key.
  const runId = cliRunIdFor('arn:aws:sts::123456789012:assumed-role/payments-oncall', 'key-1');
  expect(res.body).toMatchObject({
    runId,
    taskArn: expect.stringContaining(':task/snowwhite/'),
    requestedBy: 'payments-oncall',
    environments: [{ name: 'myapp-workers-staging', instances: 1 }],
  });
  expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'payments-oncall' });
  const sources = new Set(
    iamMock.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input.PolicySourceArn),
  );
  expect([...sources]).toEqual(['arn:aws:iam::123456789012:role/teams/payments-oncall']);
  expect(world.launchedTasks).toBe(1);
  expect(world.runTaskInputs[0]).toMatchObject({ clientToken: clientTokenFor(runId) });
  const request = world.runRequestOf(0);
  expect(request).toMatchObject({
    runId,
    action: 'quiet',
    requestedBy: { iamUserName: 'payments-oncall' },
  });
  expect(request.slack).toBeUndefined();
  expect(request.requestedBy.slackUserId).toBeUndefined(); // a role carries no slack_userid to go by
  // A retry of the same request (another session of the role) launches nothing new.
  const again = await post(
    { ...run, idempotencyKey: 'key-1' },
    'arn:aws:sts::123456789012:assumed-role/payments-oncall/alice-session',
  );
  expect(again.body.taskArn).toBe(res.body.taskArn);
  expect(world.launchedTasks).toBe(1);
});

test('a role not allowed on every matching environment is refused, naming them; nothing launched', async () => {
  world.roles.push(teamRole('payments-oncall'));
  const res = await post(
    { ...run, envPattern: 'workers' },
    'arn:aws:sts::123456789012:assumed-role/payments-oncall/alice-session',
  );
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({
    error: 'refused',
    reason: 'not_allowed',
    deniedEnvironments: ['myapp-workers-prod'],
  });
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  expect(world.authorizationLogs().at(-1)).toMatchObject({
    allowed: false,
    slackUserId: null,
    principalArn: 'arn:aws:iam::123456789012:role/teams/payments-oncall',
  });
});

test('an IAM user caller is simulated as that user; a denied one is refused', async () => {
  world.users.push({ name: 'carol', allow: ['ecs:RunTask *'] });
  const res = await post(run, 'arn:aws:iam::123456789012:user/carol');
  expect(res.status).toBe(403);
  expect(String(res.body.detail)).toContain('ssm:SendCommand');
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
  const alice = await post(run, 'arn:aws:iam::123456789012:user/alice');
  expect(alice.status).toBe(200);
});

test('a request without the IAM request context (not signed) is rejected before anything else', async () => {
  const res = await post(run);
  expect(res.status).toBe(401);
  expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
});

test.each([
  ['the root user', 'arn:aws:iam::123456789012:root', 'root'],
  ['a federated user', 'arn:aws:sts::123456789012:federated-user/bob', 'federated'],
  ['another account', 'arn:aws:iam::999999999999:user/alice', 'account 999999999999'],
  ['an unknown role', 'arn:aws:sts::123456789012:assumed-role/ghost/s1', 'ghost'],
])('%s is refused', async (_what, arn, words) => {
  const res = await post(run, arn);
  expect(res.status).toBe(403);
  expect(String(res.body.detail)).toContain(words);
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
});

test.each([
  ['not JSON', '{"action": '],
  ['an unknown field', { ...run, slack: { channel: 'C1', threadTs: '1.2' } }],
  ['a hostile pattern', { ...run, envPattern: '<!channel>' }],
  [
    'an execution timeout too close to the drain',
    { ...run, drainTimeoutSeconds: 3600, executionTimeoutSeconds: 3700 },
  ],
])('a body with %s gets 400 naming the problem, and IAM is not asked', async (_what, body) => {
  const res = await post(body, 'arn:aws:iam::123456789012:user/alice');
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('bad_request');
  expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
});

test("an IAM user caller tagged slack_userid gets the runner's DM: the Slack id is in the run request; untagged or ambiguous, none", async () => {
  world.users.push(
    { name: 'dave', allow: ['ecs:RunTask *', 'ssm:SendCommand *'] },
    { name: 'erin', tags: { slack_userid: 'U0SHARED' }, allow: ['ecs:RunTask *', 'ssm:SendCommand *'] },
    { name: 'frank', tags: { slack_userid: 'U0SHARED' }, allow: ['ecs:RunTask *', 'ssm:SendCommand *'] },
  );
  const launch = async (user: string) => {
    const res = await post(run, `arn:aws:iam::123456789012:user/${user}`);
    expect(res.status).toBe(200);
    return world.runRequestOf(world.runTaskInputs.length - 1).requestedBy;
  };
  expect(await launch('alice')).toEqual({ iamUserName: 'alice', slackUserId: 'U0ALICE' });
  expect(await launch('dave')).toEqual({ iamUserName: 'dave' });
  // Two IAM users on one Slack id: the bot would not act for that id, so it DMs nobody either.
  expect(await launch('erin')).toEqual({ iamUserName: 'erin' });
  expect(world.logs.join('\n')).toContain('"slackUserId":"U0ALICE"');
});

test('the Slack id look-up failing costs only the DM: the run launches without it', async () => {
  world.users.push({ name: 'dave', allow: ['ecs:RunTask *', 'ssm:SendCommand *'] });
  iamMock.on(ListUsersCommand).rejects(new Error('ListUsers is down'));
  const res = await post(run, 'arn:aws:iam::123456789012:user/dave');
  expect(res.status).toBe(200);
  expect(world.runRequestOf(0).requestedBy).toEqual({ iamUserName: 'dave' });
  expect(world.logs.join('\n')).toContain('slack_user_lookup_failed');
});
