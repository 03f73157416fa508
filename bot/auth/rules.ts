import type { Action } from '../../ssm/actions';
import type { IamUserRef } from './iam-directory';

// The authorization rule, as pure functions: which simulations a run needs, and the decision from
// what IAM answered. The adapter (authorizer.ts) asks IAM and logs the decision.
export interface AuthorizationRequest {
  /** Absent for the command line, whose caller is an AWS principal. */
  slackUserId?: string;
  action: Action;
  envPattern: string;
  application: string;
  region: string;
}

export type RefusalReason =
  'region_not_served' | 'no_iam_user' | 'several_iam_users' | 'not_allowed' | 'missing_context' | 'iam_error';

export type AuthorizationDecision =
  | { allowed: true; iamUser: IamUserRef; reason: 'allowed' }
  | {
      allowed: false;
      iamUser?: IamUserRef;
      reason: RefusalReason;
      detail: string;
      /** Environments the principal may not send the command to (named in the refusal). */
      deniedEnvironments?: string[];
    };

export interface PermissionTargets {
  taskDefinitionArn: string;
  ssmDocuments: Record<Action, string>;
}

/**
 * The context keys the bot supplies to every simulation (the README lists them for admins). A
 * policy that tests any other key cannot be evaluated here and fails closed.
 */
export const ENV_NAME_KEY = 'ssm:resourceTag/elasticbeanstalk:environment-name';
export const ENV_ID_KEY = 'ssm:resourceTag/elasticbeanstalk:environment-id';
export const REGION_KEY = 'aws:RequestedRegion';
export const SUPPLIED_CONTEXT_KEYS = [ENV_NAME_KEY, ENV_ID_KEY, REGION_KEY] as const;

/** What a run touches in one environment: its instances as they are now. */
export interface EnvironmentTargets {
  name: string;
  id: string;
  instanceIds: readonly string[];
}

/** What one simulation call is about, to name it in a refusal. */
export type Subject =
  | { kind: 'taskDefinition' }
  | { kind: 'document'; name: string }
  | { kind: 'environment'; name: string; id: string };

/** One SimulatePrincipalPolicy call: context applies to every resource of the call. */
export interface SimulationQuestion {
  subject: Subject;
  actionName: string;
  resourceArns: string[];
  context: Record<string, string>;
}

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface SimulationAnswer {
  question: SimulationQuestion;
  /** The most restrictive decision over everything IAM answered. */
  decision: SimulatedDecision;
  /** Context keys the principal's policies test that the call did not supply. */
  missingContextKeys: string[];
}

/** `arn:aws:ecs:eu-west-1:123456789012:task-definition/x:3` → partition, region and account. */
function arnParts(arn: string): { partition: string; region: string; account: string } {
  const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
  return { partition, region, account };
}

/** Instance ARNs per call: a bound on request size; environments rarely have more. */
const INSTANCES_PER_CALL = 100;

/**
 * ecs:RunTask on the runner's task definition (in its region), ssm:SendCommand on the action's
 * document in `region`, and ssm:SendCommand on every target instance, one call per environment
 * (more for a very large one) with that environment's tags as context. An environment with no
 * instance right now is asked about `instance/*` with its tags: whatever joins it before the runner
 * looks is covered by the same answer.
 */
export function requiredQuestions(
  targets: PermissionTargets,
  action: Action,
  region: string,
  environments: readonly EnvironmentTargets[],
): SimulationQuestion[] {
  const task = arnParts(targets.taskDefinitionArn);
  const { partition, account } = task;
  const document = targets.ssmDocuments[action];
  const questions: SimulationQuestion[] = [
    {
      subject: { kind: 'taskDefinition' },
      actionName: 'ecs:RunTask',
      resourceArns: [targets.taskDefinitionArn],
      context: { [REGION_KEY]: task.region },
    },
    {
      subject: { kind: 'document', name: document },
      actionName: 'ssm:SendCommand',
      resourceArns: [`arn:${partition}:ssm:${region}:${account}:document/${document}`],
      context: { [REGION_KEY]: region },
    },
  ];
  const instanceArn = (id: string) => `arn:${partition}:ec2:${region}:${account}:instance/${id}`;
  for (const env of environments) {
    const arns = env.instanceIds.length ? env.instanceIds.map(instanceArn) : [instanceArn('*')];
    for (let i = 0; i < arns.length; i += INSTANCES_PER_CALL)
      questions.push({
        subject: { kind: 'environment', name: env.name, id: env.id },
        actionName: 'ssm:SendCommand',
        resourceArns: arns.slice(i, i + INSTANCES_PER_CALL),
        context: { [ENV_NAME_KEY]: env.name, [ENV_ID_KEY]: env.id, [REGION_KEY]: region },
      });
  }
  return questions;
}

/** Step 1: exactly one IAM user must carry the Slack user's id. */
export function identify(
  slackUserId: string,
  matches: readonly IamUserRef[],
): { ok: true; iamUser: IamUserRef } | { ok: false; decision: AuthorizationDecision & { allowed: false } } {
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

const RANK: Record<SimulatedDecision, number> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };
/** The more restrictive of two decisions. */
export const stricter = (a: SimulatedDecision, b: SimulatedDecision): SimulatedDecision =>
  RANK[b] > RANK[a] ? b : a;

const how = (d: SimulatedDecision) => (d === 'explicitDeny' ? 'explicitly denied' : 'not allowed');

function deniedText(a: SimulationAnswer): string {
  const s = a.question.subject;
  switch (s.kind) {
    case 'taskDefinition':
      return `${a.question.actionName} on ${a.question.resourceArns.join(', ')} (${how(a.decision)})`;
    case 'document':
      return `${a.question.actionName} on the document ${s.name}, ${a.question.resourceArns.join(', ')} (${how(a.decision)})`;
    case 'environment':
      return `${a.question.actionName} to the instances of ${s.name} (${how(a.decision)})`;
  }
}

/**
 * Step 2: allowed only when every answer is `allowed` and no policy tested a context key the bot
 * did not supply (such a policy cannot be evaluated here: it fails closed, naming the keys).
 */
export function decide(iamUser: IamUserRef, answers: readonly SimulationAnswer[]): AuthorizationDecision {
  const denied = answers.filter((a) => a.decision !== 'allowed');
  const missing = [...new Set(answers.flatMap((a) => a.missingContextKeys))].sort();
  if (answers.length > 0 && denied.length === 0 && missing.length === 0)
    return { allowed: true, iamUser, reason: 'allowed' };
  if (answers.length === 0)
    return {
      allowed: false,
      iamUser,
      reason: 'not_allowed',
      detail: `no permission was checked for ${iamUser.userName}`,
    };
  // One line per environment, even when a large one took several calls.
  const seen = new Set<string>();
  const parts = denied
    .filter((a) => {
      const key = a.question.subject.kind === 'environment' ? `env:${a.question.subject.id}` : deniedText(a);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(deniedText);
  const deniedEnvironments = [
    ...new Set(
      denied.flatMap((a) => (a.question.subject.kind === 'environment' ? [a.question.subject.name] : [])),
    ),
  ];
  const sentences: string[] = [];
  if (parts.length) sentences.push(`${iamUser.userName} may not ${parts.join(' or ')}`);
  if (missing.length)
    sentences.push(
      `the IAM policies of ${iamUser.userName} test ${missing.join(', ')}, which the bot cannot supply ` +
        `(it supplies ${SUPPLIED_CONTEXT_KEYS.join(', ')}), so they cannot be evaluated and count as a refusal`,
    );
  return {
    allowed: false,
    iamUser,
    reason: missing.length ? 'missing_context' : 'not_allowed',
    detail: sentences.join('; '),
    ...(deniedEnvironments.length ? { deniedEnvironments } : {}),
  };
}

export function iamErrorDecision(
  message: string,
  iamUser?: IamUserRef,
): AuthorizationDecision & { allowed: false } {
  return {
    allowed: false,
    reason: 'iam_error',
    detail: `IAM could not answer: ${message}`,
    ...(iamUser ? { iamUser } : {}),
  };
}

/** The fields of the one `authorization` log line every decision produces. */
export function authorizationLogFields(
  request: AuthorizationRequest,
  decision: AuthorizationDecision,
  environments?: readonly EnvironmentTargets[],
) {
  return {
    slackUserId: request.slackUserId ?? null,
    iamUser: decision.iamUser?.userName ?? null,
    principalArn: decision.iamUser?.arn ?? null,
    action: request.action,
    envPattern: request.envPattern,
    application: request.application,
    region: request.region,
    environments: environments?.map((e) => e.name) ?? null,
    allowed: decision.allowed,
    reason: decision.allowed ? 'allowed' : `${decision.reason}: ${decision.detail}`,
  };
}
