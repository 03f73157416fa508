import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { ecsMock, operator, World } from './world';

// Authorization decided by an IAM evaluator nobody here wrote: SimulatePrincipalPolicy is answered by a
// local IAM endpoint whose decisions @cloud-copilot/iam-simulate computes from each test's policies,
// written as an administrator would write them. The bot's reading of those answers must agree.

let world: World;
beforeEach(async () => {
  world = await World.start();
});
afterEach(() => world.stop());

const ENV_NAME = 'ssm:resourceTag/elasticbeanstalk:environment-name';
const ENV_ID = 'ssm:resourceTag/elasticbeanstalk:environment-id';
const everything = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

async function ask(text: string, userId = 'U0ALICE') {
  const { responseId } = await world.slash(text, { userId });
  await world.playHandoffs();
  return { responseId, text: String(world.lastResponse(responseId)?.text) };
}
const prompted = (responseId: string) => {
  try {
    return world.confirmValue(responseId).length > 0;
  } catch {
    return false;
  }
};

test('a permissions boundary narrows an administrator: status allowed, quiet refused naming the document', async () => {
  world.users = [
    {
      name: 'alice',
      tags: { slack_userid: 'U0ALICE' },
      policies: [everything],
      boundary: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*' },
          {
            Effect: 'Allow',
            Action: 'ssm:SendCommand',
            Resource: ['arn:aws:ssm:*:*:document/snowwhite-status', 'arn:aws:ec2:*:*:instance/*'],
          },
        ],
      },
    },
  ];
  await ask('status workers MY-APP us-east-1');
  // status needs no Confirm, and the bot answers it itself: the status command went out, no runner.
  expect(world.ssm.sent.length).toBeGreaterThan(0);
  expect(world.ssm.sent.every((c) => c.documentName === 'snowwhite-status')).toBe(true);
  expect(world.launchedTasks).toBe(0);
  const quiet = await ask('quiet workers MY-APP us-east-1');
  expect(prompted(quiet.responseId)).toBe(false);
  expect(quiet.text).toContain('the document snowwhite-quiet');
  expect(world.authorizationLogs().at(-1)).toMatchObject({
    allowed: false,
    reason: expect.stringMatching(/^not_allowed/),
  });
});

test('an explicit deny by environment id (a context key the bot sends) beats an allow on everything', async () => {
  world.users = [
    {
      name: 'alice',
      tags: { slack_userid: 'U0ALICE' },
      policies: [
        everything,
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: 'ssm:SendCommand',
              Resource: 'arn:aws:ec2:*:*:instance/*',
              Condition: { StringEquals: { [ENV_ID]: 'e-myapp-workers-prod' } },
            },
          ],
        },
      ],
    },
  ];
  const both = await ask('quiet workers MY-APP us-east-1');
  expect(prompted(both.responseId)).toBe(false);
  expect(both.text).toContain('`myapp-workers-prod`');
  expect(both.text).not.toContain('`myapp-workers-staging`');
  expect(prompted((await ask('quiet staging MY-APP us-east-1')).responseId)).toBe(true);
});

test("a team's policy by environment-name pattern and region: its own environments only, in its region only", async () => {
  world.users = [
    {
      name: 'alice',
      tags: { slack_userid: 'U0ALICE' },
      policies: [
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'ecs:RunTask',
              Resource: 'arn:aws:ecs:*:*:task-definition/snowwhite-runner:*',
            },
            { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: 'arn:aws:ssm:*:*:document/snowwhite-*' },
            {
              Effect: 'Allow',
              Action: 'ssm:SendCommand',
              Resource: 'arn:aws:ec2:*:*:instance/*',
              Condition: {
                StringLike: { [ENV_NAME]: 'myapp-workers-s*' },
                StringEquals: { 'aws:RequestedRegion': 'us-east-1' },
              },
            },
          ],
        },
      ],
    },
  ];
  expect(prompted((await ask('quiet staging MY-APP us-east-1')).responseId)).toBe(true);
  const prod = await ask('quiet prod MY-APP us-east-1');
  expect(prod.text).toContain('`myapp-workers-prod`');
  const elsewhere = await ask('quiet staging MY-APP eu-west-1');
  expect(prompted(elsewhere.responseId)).toBe(false);
  expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
});

test('a NotAction deny outside Snow White leaves it alone; a NotResource deny on documents refuses', async () => {
  world.users = [
    {
      ...operator('alice', 'U0ALICE'),
      policies: [
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', NotAction: ['ssm:*', 'ecs:*'], Resource: '*' }],
        },
      ],
    },
  ];
  expect(prompted((await ask('quiet staging MY-APP us-east-1')).responseId)).toBe(true);
  world.users = [
    {
      ...operator('alice', 'U0ALICE'),
      policies: [
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: 'ssm:SendCommand',
              NotResource: ['arn:aws:ssm:*:*:document/snowwhite-status', 'arn:aws:ec2:*:*:instance/*'],
            },
          ],
        },
      ],
    },
  ];
  // Policies are simulated afresh on every request (only the tag index is cached).
  const stop = await ask('stop staging MY-APP us-east-1');
  expect(prompted(stop.responseId)).toBe(false);
  expect(stop.text).toContain('explicitly denied');
});
