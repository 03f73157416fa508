import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient, ListUsersCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeDocumentCommand, DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { cliMain, doctorSlackClient } from '../../runner/cli/main';
import type { DoctorClients } from '../../runner/cli/doctor';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import { awsError } from '../support/aws-errors';
import { FakeSlack } from '../support/fake-slack';
import { captureIo } from './support/capture-io';

/**
 * `snowwhite doctor` against the fakes the other tests use: AWS SDK clients mocked at the client,
 * the fake Slack Web API for auth.test (with its scopes header), and a local EventBridge endpoint
 * that the SDK's EventBridge client calls: it checks the SigV4 signature is there and answers DescribeRule. Each check passes once and
 * fails once.
 */

const credentials = { accessKeyId: 'AKIDDOCTOR', secretAccessKey: 'doctor-secret' };
const SCOPES = ['commands', 'chat:write', 'im:write', 'files:write'];
const MANIFEST = JSON.stringify({ oauth_config: { scopes: { bot: SCOPES } } });
const TOKEN = 'xoxb-1111-2222-doctor';

let slack: FakeSlack;
let events: Server;
let eventsUrl = '';
let ruleStates: Record<string, string> = {};
const eventsCalls: Array<{ target: string; signed: boolean; body: string }> = [];

beforeAll(async () => {
  slack = await FakeSlack.start();
  events = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const signed = /^AWS4-HMAC-SHA256 Credential=AKIDDOCTOR\/\d{8}\/us-east-1\/events\/aws4_request/.test(
        String(req.headers.authorization),
      );
      eventsCalls.push({ target, signed, body });
      const name = (JSON.parse(body) as { Name: string }).Name;
      const state = ruleStates[name];
      res.writeHead(state ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          state
            ? { Name: name, State: state }
            : { __type: 'ResourceNotFoundException', message: 'Rule not found' },
        ),
      );
    });
  });
  await new Promise<void>((r) => events.listen(0, '127.0.0.1', r));
  eventsUrl = `http://127.0.0.1:${(events.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await slack.close();
  await new Promise((r) => events.close(r));
});
beforeEach(() => {
  slack.reset();
  eventsCalls.length = 0;
  ruleStates = { 'SnowWhite-Reminders': 'ENABLED' };
});

const OUTPUTS: Record<string, string> = {
  ...Object.fromEntries(Object.values(STACK_OUTPUTS).map((k) => [k, `value-of-${k}`])),
  [STACK_OUTPUTS.ssmDocumentQuiet]: 'SnowWhite-Quiet',
  [STACK_OUTPUTS.ssmDocumentStop]: 'SnowWhite-Stop',
  [STACK_OUTPUTS.ssmDocumentWake]: 'SnowWhite-Wake',
  [STACK_OUTPUTS.ssmDocumentStatus]: 'SnowWhite-Status',
  [STACK_OUTPUTS.fleetRegions]: 'us-east-1,eu-west-1',
  [STACK_OUTPUTS.slackSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack',
  [STACK_OUTPUTS.reminderRuleName]: 'SnowWhite-Reminders',
  [STACK_OUTPUTS.slackManifest]: MANIFEST,
  [STACK_OUTPUTS.cliInvokeResource]: 'arn:aws:execute-api:us-east-1:123456789012:abc123/*/POST/cli/runs',
};

function world() {
  const c = {
    cloudFormation: new CloudFormationClient({ region: 'us-east-1', credentials }),
    secretsManager: new SecretsManagerClient({ region: 'us-east-1', credentials }),
    iam: new IAMClient({ region: 'us-east-1', credentials }),
    elasticBeanstalk: new ElasticBeanstalkClient({ region: 'us-east-1', credentials }),
    ssmHome: new SSMClient({ region: 'us-east-1', credentials }),
    ssmEu: new SSMClient({ region: 'eu-west-1', credentials }),
  };
  const m = {
    cfn: mockClient(c.cloudFormation),
    secrets: mockClient(c.secretsManager),
    iam: mockClient(c.iam),
    eb: mockClient(c.elasticBeanstalk),
    ssmHome: mockClient(c.ssmHome),
    ssmEu: mockClient(c.ssmEu),
  };
  // Everything in order: the stack, the documents in both fleet regions, two instances online,
  // the secret set, the rule enabled, one IAM user per Slack id.
  m.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'SnowWhite',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  for (const ssm of [m.ssmHome, m.ssmEu])
    ssm.on(DescribeDocumentCommand).callsFake((input: { Name: string }) => ({
      Document: { Name: input.Name, Hash: `hash-${input.Name}` },
    }));
  m.eb.on(DescribeEnvironmentsCommand).resolves({
    Environments: [
      { EnvironmentName: 'my-app-workers', EnvironmentId: 'e-1', Status: 'Ready' },
      { EnvironmentName: 'my-app-web', EnvironmentId: 'e-2', Status: 'Ready' },
    ],
  });
  m.eb.on(DescribeEnvironmentResourcesCommand).callsFake((input: { EnvironmentId: string }) => ({
    EnvironmentResources: { Instances: [{ Id: input.EnvironmentId === 'e-1' ? 'i-0001' : 'i-0002' }] },
  }));
  m.ssmHome.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: [
      { InstanceId: 'i-0001', PingStatus: 'Online' },
      { InstanceId: 'i-0002', PingStatus: 'Online' },
    ],
  });
  m.secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ signingSecret: '0123456789abcdef0123', botToken: TOKEN }) });
  m.iam.on(ListUsersCommand).resolves({
    Users: ['alice', 'bob'].map((UserName) => ({
      UserName,
      Path: '/',
      UserId: UserName,
      Arn: `arn:aws:iam::123456789012:user/${UserName}`,
      CreateDate: new Date(),
    })),
  });
  m.iam.on(ListUserTagsCommand).callsFake((input: { UserName: string }) => ({
    Tags: input.UserName === 'alice' ? [{ Key: 'slack_userid', Value: 'U0ALICE01' }] : [],
  }));
  const clients: DoctorClients = {
    cloudFormation: c.cloudFormation,
    secretsManager: c.secretsManager,
    iam: c.iam,
    elasticBeanstalk: c.elasticBeanstalk,
    ssm: (region) => (region === 'eu-west-1' ? c.ssmEu : c.ssmHome),
    // The SDK's own client, signing and parsing, against the local endpoint.
    eventBridge: new EventBridgeClient({
      region: 'us-east-1',
      credentials,
      endpoint: eventsUrl,
      maxAttempts: 1,
    }),
    slack: (token) => doctorSlackClient(token, slack.apiUrl),
  };
  const doctor = async (extra: string[] = []) => {
    const { io, out, err } = captureIo();
    const code = await cliMain(
      ['doctor', '--stack-region', 'us-east-1', '--application', 'MY-APP', '--member', 'U0ALICE01', ...extra],
      {
        io,
        env: { AWS_REGION: 'us-east-1', SNOWWHITE_CONFIG: '/nonexistent/snowwhite.json' },
        clients: () => {
          throw new Error('doctor uses its own clients');
        },
        doctorClients: () => clients,
      },
    );
    return { code, lines: out().trimEnd().split('\n'), err: err() };
  };
  return { m, doctor };
}

const scopesHeader = (scopes: string[]) => () => ({
  headers: { 'x-oauth-scopes': scopes.join(',') },
  body: { ok: true, team: 'Acme', user_id: 'UBOT' },
});

test('every check passes on a stack in order: one ✔ line each, exit 0', async () => {
  const w = world();
  slack.once('auth.test', scopesHeader(SCOPES));
  const r = await w.doctor();
  expect(r.err).toBe('');
  expect(r.lines).toEqual([
    expect.stringMatching(
      /^✔ stack: SnowWhite in us-east-1 \(UPDATE_COMPLETE\), \d+ outputs; operators need execute-api:Invoke on arn:aws:execute-api:us-east-1:123456789012:abc123\/\*\/POST\/cli\/runs$/,
    ),
    '✔ documents: 4 documents in us-east-1, eu-west-1, all the same version',
    '✔ instances of MY-APP: 2 instances in 2 environments, all online in SSM',
    '✔ Slack secret: set (a signing secret and a bot token)',
    '✔ bot token: valid for workspace Acme, scopes commands, chat:write, im:write, files:write',
    '✔ reminder rule: SnowWhite-Reminders enabled',
    '✔ Slack member U0ALICE01: IAM user alice (tag slack_userid)',
    'all 7 checks passed',
  ]);
  expect(r.code).toBe(0);
  // The token went to Slack, and nowhere in the output.
  expect(slack.callsOf('auth.test')[0]?.token).toBe(TOKEN);
  expect(r.lines.join('\n')).not.toContain(TOKEN);
  expect(eventsCalls).toEqual([
    { target: 'AWSEvents.DescribeRule', signed: true, body: '{"Name":"SnowWhite-Reminders"}' },
  ]);
});

test('each check fails with what to do: exit 1', async () => {
  const w = world();
  // An older stack without the ledger output; a document missing and one stale in eu-west-1.
  w.m.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'SnowWhite',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries(OUTPUTS)
          .filter(([k]) => k !== STACK_OUTPUTS.ledgerTableName)
          .map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  w.m.ssmEu.on(DescribeDocumentCommand).callsFake((input: { Name: string }) => {
    if (input.Name === 'SnowWhite-Wake')
      throw awsError('InvalidDocument', 'The specified document does not exist.');
    return {
      Document: { Name: input.Name, Hash: input.Name === 'SnowWhite-Stop' ? 'old' : `hash-${input.Name}` },
    };
  });
  w.m.ssmHome.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: [{ InstanceId: 'i-0001', PingStatus: 'ConnectionLost' }],
  });
  slack.once('auth.test', scopesHeader(['commands', 'chat:write']));
  ruleStates = { 'SnowWhite-Reminders': 'DISABLED' };
  w.m.iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'slack_userid', Value: 'U0ALICE01' }] }); // alice and bob alike

  const r = await w.doctor();
  expect(r.code).toBe(1);
  expect(r.lines).toEqual([
    '✘ stack: SnowWhite (UPDATE_COMPLETE) lacks the outputs LedgerTableName: deploy this version of Snow White (npx cdk deploy)',
    "✘ documents: SnowWhite-Wake missing in eu-west-1; SnowWhite-Stop in eu-west-1 differ from us-east-1's: deploy SnowWhiteDocuments with the same prefix in each fleet region (README: Fleets in other regions)",
    '✘ instances of MY-APP: 2 of 2 instances not online in SSM (i-0001, i-0002): give their instance profile AmazonSSMManagedInstanceCore and let them reach SSM (README step 6)',
    '✔ Slack secret: set (a signing secret and a bot token)',
    '✘ bot token: the token lacks the scopes im:write, files:write: add them under OAuth & Permissions (or create the app from `snowwhite manifest`), reinstall the app, and put the new token in the secret',
    '✘ reminder rule: SnowWhite-Reminders is DISABLED: no reminders are sent for fleets left quiet; enable it (aws events enable-rule --name SnowWhite-Reminders)',
    '✘ Slack member U0ALICE01: 2 IAM users carry slack_userid=U0ALICE01 (alice, bob): the bot refuses them all; keep the tag on one',
    '6 of 7 checks failed',
  ]);
});

test('the placeholder secret, a refused token, a missing rule, an untagged member and a missing stack', async () => {
  const w = world();
  w.m.secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ signingSecret: 'SET_AFTER_DEPLOY', botToken: 'SET_AFTER_DEPLOY' }),
  });
  ruleStates = {};
  const r = await w.doctor(['--member', 'U0NOBODY1', '--json']);
  expect(r.code).toBe(1);
  const checks = r.lines.map(
    (l) => JSON.parse(l) as { event: string; name: string; ok: boolean; detail: string },
  );
  expect(checks.filter((c) => c.event === 'check' && !c.ok).map((c) => [c.name, c.detail])).toEqual([
    [
      'Slack secret',
      'the secret still holds the placeholder (or is not {"signingSecret": …, "botToken": "xoxb-…"}): put the Slack app\'s values in it (README, deploy step 3)',
    ],
    ['bot token', 'not checked: no bot token in the secret'],
    [
      'reminder rule',
      'SnowWhite-Reminders is missing: no reminders are sent for fleets left quiet; enable it (aws events enable-rule --name SnowWhite-Reminders)',
    ],
    [
      'Slack member U0NOBODY1',
      'no IAM user carries slack_userid=U0NOBODY1: aws iam tag-user --user-name NAME --tags Key=slack_userid,Value=U0NOBODY1 (README, deploy step 4)',
    ],
  ]);
  expect(checks.at(-1)).toEqual({ event: 'doctor', ok: false, failed: 4 });
  // The secret's values are never shown.
  expect(r.lines.join('\n')).not.toContain('SET_AFTER_DEPLOY');

  // A Slack that refuses the token.
  w.m.secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ signingSecret: '0123456789abcdef0123', botToken: TOKEN }) });
  slack.failNext('auth.test', 'invalid_auth');
  const refused = await w.doctor();
  expect(refused.lines).toContain(
    '✘ bot token: Slack refused the token (invalid_auth): copy the Bot User OAuth Token again after installing the app (README, deploy step 2)',
  );

  // A Slack that does not answer as Slack: the check fails with the status, the token still unseen.
  for (let i = 0; i < 3; i++) slack.once('auth.test', () => ({ status: 503, body: 'upstream down' }));
  const down = await w.doctor();
  expect(down.lines).toContain(
    "✘ bot token: Slack's auth.test did not answer (An HTTP protocol error occurred: statusCode = 503): the token was not checked; try again",
  );
  expect(slack.callsOf('auth.test')).toHaveLength(1 + 3); // the refusal above, then three attempts
  expect(down.lines.join('\n')).not.toContain(TOKEN);
  expect(down.code).toBe(1);

  // No stack at all: said once, the checks that need it say they were not run.
  w.m.cfn
    .on(DescribeStacksCommand)
    .rejects(awsError('ValidationError', 'Stack with id SnowWhite does not exist'));
  const none = await w.doctor();
  expect(none.lines[0]).toBe(
    '✘ stack: no stack SnowWhite in us-east-1: give --stack-region REGION where Snow White is deployed (`snowwhite setup --stack-region REGION` remembers it), or --stack NAME',
  );
  expect(none.lines).toContain('✘ Slack secret: not checked: the stack has no SlackSecretArn output');
  expect(none.code).toBe(1);
});
