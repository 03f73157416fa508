import { SimulatePrincipalPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';

/** Asks IAM whether one principal may perform one action on one resource. */
export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface PermissionQuestion {
  actionName: string;
  resourceArn: string;
}
export interface PermissionAnswer extends PermissionQuestion {
  decision: SimulatedDecision;
}

export type PolicySimulator = (
  principalArn: string,
  question: PermissionQuestion,
) => Promise<PermissionAnswer>;

export function createPolicySimulator(iam: IAMClient): PolicySimulator {
  return async (principalArn, question) => {
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: principalArn,
        ActionNames: [question.actionName],
        ResourceArns: [question.resourceArn],
      }),
    );
    const result = out.EvaluationResults?.find((r) => r.EvalActionName === question.actionName);
    const raw = result?.EvalDecision;
    // Anything but an explicit "allowed" for this action counts as a denial.
    const decision: SimulatedDecision =
      raw === 'allowed' ? 'allowed' : raw === 'explicitDeny' ? 'explicitDeny' : 'implicitDeny';
    return { ...question, decision };
  };
}
