import type { Action } from '../../ssm/actions';
import type { IamUserRef } from './iam-directory';
import type { PermissionAnswer, PermissionQuestion } from './policy-simulator';

/**
 * The authorization rule of DESIGN.md, as pure functions: which permissions an action needs, and
 * the decision from what IAM said. The adapter (authorizer.ts) asks IAM and logs the decision.
 */
export interface AuthorizationRequest {
  slackUserId: string;
  action: Action;
  envPattern: string;
  application: string;
  region: string;
}

export type RefusalReason = 'no_iam_user' | 'several_iam_users' | 'not_allowed' | 'iam_error';

export type AuthorizationDecision =
  | { allowed: true; iamUser: IamUserRef; reason: 'allowed' }
  | { allowed: false; iamUser?: IamUserRef; reason: RefusalReason; detail: string };

export interface PermissionTargets {
  taskDefinitionArn: string;
  ssmDocuments: Record<Action, string>;
}

/** `arn:aws:ecs:eu-west-1:123456789012:task-definition/x:3` → partition and account of the runner. */
function partitionAndAccount(taskDefinitionArn: string): { partition: string; account: string } {
  const [, partition = 'aws', , , account = ''] = taskDefinitionArn.split(':');
  return { partition, account };
}

/** ecs:RunTask on the runner's task definition, ssm:SendCommand on the action's document in `region`. */
export function requiredPermissions(
  targets: PermissionTargets,
  action: Action,
  region: string,
): PermissionQuestion[] {
  const { partition, account } = partitionAndAccount(targets.taskDefinitionArn);
  return [
    { actionName: 'ecs:RunTask', resourceArn: targets.taskDefinitionArn },
    {
      actionName: 'ssm:SendCommand',
      resourceArn: `arn:${partition}:ssm:${region}:${account}:document/${targets.ssmDocuments[action]}`,
    },
  ];
}

/** Step 1: exactly one IAM user must carry the Slack user's id. */
export function identify(
  slackUserId: string,
  matches: readonly IamUserRef[],
): { ok: true; iamUser: IamUserRef } | { ok: false; decision: AuthorizationDecision } {
  if (matches.length === 1 && matches[0]) return { ok: true, iamUser: matches[0] };
  if (matches.length === 0)
    return {
      ok: false,
      decision: {
        allowed: false,
        reason: 'no_iam_user',
        detail: `no IAM user has the tag slack_userid=${slackUserId}`,
      },
    };
  return {
    ok: false,
    decision: {
      allowed: false,
      reason: 'several_iam_users',
      detail: `${matches.length} IAM users have the tag slack_userid=${slackUserId} (${matches
        .map((m) => m.userName)
        .sort()
        .join(', ')}); exactly one may`,
    },
  };
}

/** Step 2: every required permission must be allowed by the simulation. */
export function decide(iamUser: IamUserRef, answers: readonly PermissionAnswer[]): AuthorizationDecision {
  const denied = answers.filter((a) => a.decision !== 'allowed');
  if (answers.length > 0 && denied.length === 0) return { allowed: true, iamUser, reason: 'allowed' };
  return {
    allowed: false,
    iamUser,
    reason: 'not_allowed',
    detail: denied.length
      ? `IAM user ${iamUser.userName} may not ${denied
          .map(
            (d) =>
              `${d.actionName} on ${d.resourceArn} (${d.decision === 'explicitDeny' ? 'explicitly denied' : 'not allowed'})`,
          )
          .join(' or ')}`
      : `no permission was checked for IAM user ${iamUser.userName}`,
  };
}

export function iamErrorDecision(message: string, iamUser?: IamUserRef): AuthorizationDecision {
  return {
    allowed: false,
    reason: 'iam_error',
    detail: `IAM could not answer: ${message}`,
    ...(iamUser ? { iamUser } : {}),
  };
}

/** The fields of the one `authorization` log line every decision produces. */
export function authorizationLogFields(request: AuthorizationRequest, decision: AuthorizationDecision) {
  return {
    slackUserId: request.slackUserId,
    iamUser: decision.iamUser?.userName ?? null,
    action: request.action,
    envPattern: request.envPattern,
    application: request.application,
    region: request.region,
    allowed: decision.allowed,
    reason: decision.allowed ? 'allowed' : `${decision.reason}: ${decision.detail}`,
  };
}

/** What the refused person reads. */
export function refusalText(decision: AuthorizationDecision & { allowed: false }, action: Action): string {
  switch (decision.reason) {
    case 'no_iam_user':
      return `:no_entry: You may not run \`${action}\`: ${decision.detail}. Ask an AWS administrator to tag your IAM user.`;
    case 'several_iam_users':
      return `:no_entry: You may not run \`${action}\`: ${decision.detail}. Ask an AWS administrator to remove the extra tags.`;
    case 'not_allowed':
      return `:no_entry: You may not run \`${action}\`: ${decision.detail}.`;
    case 'iam_error':
      return `:warning: Could not check whether you may run \`${action}\` (${decision.detail}). Nothing was launched; try again in a minute.`;
  }
}
