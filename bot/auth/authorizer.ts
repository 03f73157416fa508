import pLimit from 'p-limit';
import type { IamDirectory, IamUserRef } from './iam-directory';
import { describeError, type Logger } from '../../runner/log';
import type { PolicySimulator } from './policy-simulator';
import {
  authorizationLogFields,
  decide,
  iamErrorDecision,
  identify,
  requiredQuestions,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type EnvironmentTargets,
  type PermissionTargets,
} from './rules';

/**
 * Two steps, because the targets are looked up between them: who the Slack user is in IAM (cheap,
 * cached; refuses before Elastic Beanstalk is asked anything), then whether that principal may do
 * what the run touches. Each refusal or final decision writes one `authorization` log line; never throws.
 */
export interface Authorizer {
  identify(
    request: AuthorizationRequest & { slackUserId: string },
  ): Promise<
    { ok: true; iamUser: IamUserRef } | { ok: false; decision: AuthorizationDecision & { allowed: false } }
  >;
  permits(
    request: AuthorizationRequest,
    principal: IamUserRef,
    environments: readonly EnvironmentTargets[],
  ): Promise<AuthorizationDecision>;
}

/** Simulation calls in flight at once for one decision. */
const SIMULATION_CONCURRENCY = 5;

export function createAuthorizer(deps: {
  directory: IamDirectory;
  simulate: PolicySimulator;
  targets: PermissionTargets;
  logger: Logger;
}): Authorizer {
  const log = (
    request: AuthorizationRequest,
    decision: AuthorizationDecision,
    environments?: readonly EnvironmentTargets[],
  ) => deps.logger.info('authorization', authorizationLogFields(request, decision, environments));

  return {
    async identify(request) {
      let found;
      try {
        found = identify(request.slackUserId, await deps.directory.usersFor(request.slackUserId));
      } catch (err) {
        found = { ok: false as const, decision: iamErrorDecision(describeError(err)) };
      }
      if (!found.ok) log(request, found.decision);
      return found;
    },
    async permits(request, principal, environments) {
      let decision: AuthorizationDecision;
      try {
        const questions = requiredQuestions(deps.targets, request.action, request.region, environments);
        const limit = pLimit(SIMULATION_CONCURRENCY);
        const answers = await Promise.all(questions.map((q) => limit(() => deps.simulate(principal.arn, q))));
        decision = decide(principal, answers);
      } catch (err) {
        decision = iamErrorDecision(describeError(err), principal);
      }
      log(request, decision, environments);
      return decision;
    },
  };
}
