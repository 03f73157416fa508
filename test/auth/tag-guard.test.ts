import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';

// The README's tag-guard policy, read from the README itself and evaluated by an IAM evaluator nobody
// here wrote (@cloud-copilot/iam-simulate): what it promises is what it does.

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const block = /<!-- tag-guard-policy -->\s*```json\n([\s\S]*?)```/.exec(README)?.[1];
const guard = JSON.parse(block ?? 'null') as object;

const ACCOUNT = '123456789012';
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/SnowWhiteIdentityAdmin`;
const DEVELOPER = `arn:aws:iam::${ACCOUNT}:user/mallory`;
/** What a developer with broad IAM rights holds. */
const iamStar = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] };

const fullAwsAccess = {
  name: 'FullAWSAccess',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

async function decision(
  principal: string,
  action: string,
  user: string,
  context: Record<string, string | string[]>,
  as: 'identity' | 'scp' = 'identity',
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource: `arn:aws:iam::${ACCOUNT}:user/${user}`, accountId: ACCOUNT },
        // AWS sets aws:PrincipalArn on every request; the evaluator takes it from the context.
        contextVariables: { 'aws:PrincipalArn': principal, ...context },
      },
      identityPolicies: [
        { name: 'iam-star', policy: iamStar },
        ...(as === 'identity' ? [{ name: 'tag-guard', policy: guard }] : []),
      ],
      serviceControlPolicies:
        as === 'scp'
          ? [
              { orgIdentifier: 'r-root', policies: [fullAwsAccess] },
              // Every level must allow: the account keeps FullAWSAccess next to the guard.
              { orgIdentifier: ACCOUNT, policies: [fullAwsAccess, { name: 'tag-guard', policy: guard }] },
            ]
          : [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const mapped = { 'iam:ResourceTag/slack_userid': 'U0ADMIN' };

test('the README has the policy', () => {
  expect(guard).toMatchObject({ Version: '2012-10-17' });
});

describe.each(['identity', 'scp'] as const)('as an %s policy', (as) => {
  test('a developer with iam:* cannot add, change (any case) or remove slack_userid, nor create a user with it', async () => {
    expect(await decision(DEVELOPER, 'iam:TagUser', 'admin', { 'aws:TagKeys': ['slack_userid'] }, as)).toBe(
      'ExplicitlyDenied',
    );
    expect(
      await decision(DEVELOPER, 'iam:TagUser', 'bob', { 'aws:TagKeys': ['team', 'Slack_UserId'] }, as),
    ).toBe('ExplicitlyDenied');
    expect(
      await decision(DEVELOPER, 'iam:UntagUser', 'alice', { 'aws:TagKeys': ['slack_userid'], ...mapped }, as),
    ).toBe('ExplicitlyDenied');
    expect(await decision(DEVELOPER, 'iam:CreateUser', 'eve', { 'aws:TagKeys': ['slack_userid'] }, as)).toBe(
      'ExplicitlyDenied',
    );
  });

  test('a developer cannot retag a mapped user at all, but may tag unmapped users with other tags', async () => {
    expect(
      await decision(DEVELOPER, 'iam:TagUser', 'alice', { 'aws:TagKeys': ['team'], ...mapped }, as),
    ).toBe('ExplicitlyDenied');
    expect(await decision(DEVELOPER, 'iam:TagUser', 'bob', { 'aws:TagKeys': ['team'] }, as)).toBe('Allowed');
    expect(await decision(DEVELOPER, 'iam:CreateAccessKey', 'bob', {}, as)).toBe('Allowed');
  });

  test('the named admin role may', async () => {
    expect(
      await decision(ADMIN, 'iam:TagUser', 'alice', { 'aws:TagKeys': ['slack_userid'], ...mapped }, as),
    ).toBe('Allowed');
    expect(
      await decision(ADMIN, 'iam:UntagUser', 'alice', { 'aws:TagKeys': ['slack_userid'], ...mapped }, as),
    ).toBe('Allowed');
  });
});
