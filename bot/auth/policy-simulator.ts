import {
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type IAMClient,
  type ResourceSpecificResult,
} from '@aws-sdk/client-iam';
import { stricter, type SimulatedDecision, type SimulationAnswer, type SimulationQuestion } from './rules';

/** Asks IAM one question (one SimulatePrincipalPolicy call, every page) about one principal. */
export type PolicySimulator = (
  principalArn: string,
  question: SimulationQuestion,
) => Promise<SimulationAnswer>;

const asDecision = (raw: string | undefined): SimulatedDecision =>
  raw === 'allowed' ? 'allowed' : raw === 'explicitDeny' ? 'explicitDeny' : 'implicitDeny';

/**
 * Read robustly: the most restrictive of every result and every resource-specific result, on every
 * page, with permissions boundaries and SCPs counted even where the top-level decision would not
 * show them; an unknown or absent decision, or no result at all, is a denial. Results are never
 * matched by EvalResourceName (IAM may answer with `*` or a resource pattern).
 */
export function foldResults(
  results: readonly EvaluationResult[],
): Pick<SimulationAnswer, 'decision' | 'missingContextKeys'> {
  let decision: SimulatedDecision = results.length ? 'allowed' : 'implicitDeny';
  const missing = new Set<string>();
  const fold = (
    raw: string | undefined,
    r: Pick<
      EvaluationResult | ResourceSpecificResult,
      'MissingContextValues' | 'PermissionsBoundaryDecisionDetail'
    >,
  ) => {
    decision = stricter(decision, asDecision(raw));
    if (r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary === false)
      decision = stricter(decision, 'implicitDeny');
    for (const key of r.MissingContextValues ?? []) missing.add(key);
  };
  for (const r of results) {
    fold(r.EvalDecision, r);
    if (r.OrganizationsDecisionDetail?.AllowedByOrganizations === false)
      decision = stricter(decision, 'implicitDeny');
    for (const rs of r.ResourceSpecificResults ?? []) fold(rs.EvalResourceDecision, rs);
  }
  return { decision, missingContextKeys: [...missing].sort() };
}

export function createPolicySimulator(iam: IAMClient): PolicySimulator {
  return async (principalArn, question) => {
    const results: EvaluationResult[] = [];
    let marker: string | undefined;
    let complete = true;
    do {
      const out = await iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: principalArn,
          ActionNames: [question.actionName],
          ResourceArns: question.resourceArns,
          ContextEntries: Object.entries(question.context).map(([name, value]) => ({
            ContextKeyName: name,
            ContextKeyValues: [value],
            ContextKeyType: 'string',
          })),
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      results.push(...(out.EvaluationResults ?? []));
      // Truncated without a marker: the rest cannot be read, so the answer is incomplete.
      if (out.IsTruncated && !out.Marker) complete = false;
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    const folded = foldResults(results);
    return {
      question,
      ...folded,
      decision: complete ? folded.decision : stricter(folded.decision, 'implicitDeny'),
    };
  };
}
