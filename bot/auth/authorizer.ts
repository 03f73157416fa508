import type { IamDirectory } from './iam-directory';
import { describeError, type Logger } from '../../runner/log';
import type { PolicySimulator } from './policy-simulator';
import {
  authorizationLogFields,
  decide,
  iamErrorDecision,
  identify,
  requiredPermissions,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type PermissionTargets,
} from './rules';

/** Slack user → IAM user → policy simulation; one JSON log line per decision; never throws. */
export type Authorizer = (request: AuthorizationRequest) => Promise<AuthorizationDecision>;

export function createAuthorizer(deps: {
  directory: IamDirectory;
  simulate: PolicySimulator;
  targets: PermissionTargets;
  logger: Logger;
}): Authorizer {
  return async (request) => {
    const decision = await decideFor(request);
    deps.logger.info('authorization', authorizationLogFields(request, decision));
    return decision;
  };

  async function decideFor(request: AuthorizationRequest): Promise<AuthorizationDecision> {
    let matches;
    try {
      matches = await deps.directory.usersFor(request.slackUserId);
    } catch (err) {
      return iamErrorDecision(describeError(err));
    }
    const identity = identify(request.slackUserId, matches);
    if (!identity.ok) return identity.decision;
    try {
      const questions = requiredPermissions(deps.targets, request.action, request.region);
      const answers = await Promise.all(questions.map((q) => deps.simulate(identity.iamUser.arn, q)));
      return decide(identity.iamUser, answers);
    } catch (err) {
      return iamErrorDecision(describeError(err), identity.iamUser);
    }
  }
}
