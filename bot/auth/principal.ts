import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { IamUserRef } from './iam-directory';

export type CallerKind =
  | { kind: 'user'; name: string; arn: string }
  | { kind: 'role'; name: string; session: string }
  | { kind: 'unsupported'; why: string };

/** Pure: what an ARN from `requestContext.authorizer.iam.userArn` names. */
export function parseCallerArn(callerArn: string, account: string): CallerKind {
  const m = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(.+)$/.exec(callerArn);
  if (!m) return { kind: 'unsupported', why: 'not an IAM or STS principal ARN' };
  const [, , service, callerAccount, resource = ''] = m;
  if (callerAccount !== account)
    return { kind: 'unsupported', why: `the caller is in account ${callerAccount}, not ${account}` };
  const user = /^user\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/.exec(resource);
  if (service === 'iam' && user?.[1]) return { kind: 'user', name: user[1], arn: callerArn };
  const role = /^assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/.exec(resource);
  if (service === 'sts' && role?.[1] && role[2]) return { kind: 'role', name: role[1], session: role[2] };
  return {
    kind: 'unsupported',
    why: 'only IAM users and assumed roles can be authorized (not the root user or a federated user)',
  };
}

/**
 * Pure: the principal an ARN stands for, as a key (per-caller limits): an assumed role's session
 * name is the caller's choice, so every session of a role counts as the role.
 */
export const principalKeyOf = (callerArn: string): string =>
  callerArn.replace(/^(arn:[\w-]+:sts::\d{12}:assumed-role\/[^/]+)\/.*$/, '$1');

/**
 * The IAM principal to simulate for a caller API Gateway verified (SigV4, `AWS_IAM` route): an IAM
 * user as itself, an assumed role as its role. The simulator needs the role's own ARN, path included,
 * which an assumed-role ARN leaves out: IAM's GetRole gives it.
 */
export async function principalOf(iam: IAMClient, caller: CallerKind): Promise<IamUserRef> {
  if (caller.kind === 'user') return { userName: caller.name, arn: caller.arn };
  if (caller.kind === 'unsupported') throw new Error(caller.why);
  const role = await iam.send(new GetRoleCommand({ RoleName: caller.name }));
  const arn = role.Role?.Arn;
  if (!arn) throw new Error(`IAM returned no ARN for role ${caller.name}`);
  return { userName: caller.name, arn };
}
