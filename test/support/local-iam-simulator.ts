import { runSimulation, type RunSimulationResults } from '@cloud-copilot/iam-simulate';
import { localAwsEndpoint } from './local-aws-endpoint';

/** An IAM policy document, as JSON. */
export type PolicyDocument = { Version: string; Statement: object[] };

/** What IAM holds for one principal (user or role): the policies the simulation reads. */
export interface SimulatedPrincipal {
  identityPolicies: PolicyDocument[];
  /** The permissions boundary, if any. */
  boundary?: PolicyDocument;
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `Name.member.1`, `Name.member.2`, … of a query-protocol form. */
function members(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${name}.member.${i}`); i++) out.push(form.get(`${name}.member.${i}`)!);
  return out;
}

const DECISION = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny',
} as const;

interface StatementAnalysis {
  actionMatch?: boolean;
  resourceMatch?: boolean;
  explain?: { conditions?: { conditionKeyValue?: string }[] };
}

/**
 * The condition keys the statements that apply to this action and resource test and the request did
 * not supply: what IAM's simulator answers in MissingContextValues (it looks nothing up itself).
 */
function missingKeys(result: RunSimulationResults, supplied: Set<string>): string[] {
  if (result.resultType !== 'single') return [];
  const analysis = result.result.analysis as unknown as Record<
    string,
    | {
        allowStatements?: StatementAnalysis[];
        denyStatements?: StatementAnalysis[];
        unmatchedStatements?: StatementAnalysis[];
      }
    | undefined
  >;
  const missing = new Set<string>();
  for (const part of [analysis.identityAnalysis, analysis.permissionBoundaryAnalysis])
    for (const s of [
      ...(part?.allowStatements ?? []),
      ...(part?.denyStatements ?? []),
      ...(part?.unmatchedStatements ?? []),
    ]) {
      if (!s.actionMatch || !s.resourceMatch) continue;
      for (const c of s.explain?.conditions ?? [])
        if (c.conditionKeyValue && !supplied.has(c.conditionKeyValue.toLowerCase()))
          missing.add(c.conditionKeyValue);
    }
  return [...missing].sort();
}

/**
 * A local IAM endpoint (query protocol, XML) that answers SimulatePrincipalPolicy with decisions
 * computed by @cloud-copilot/iam-simulate — an IAM evaluator nobody here wrote — from each principal's
 * identity policies and permissions boundary, with the request's context entries: explicit denies,
 * boundaries and conditions are that evaluator's reading, not ours. Like IAM, it pages its results
 * (at most `pageSize` per page, Marker to go on) and reports the context keys a relevant statement
 * tests that the call did not supply. Any other action answers 400.
 */
export async function localIamSimulator(
  principalOf: (arn: string) => SimulatedPrincipal | undefined,
  options: { pageSize?: () => number } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  return localAwsEndpoint(async (form) => {
    const fail = (status: number, code: string, message: string) => ({
      status,
      body: `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>`,
    });
    if (form.get('Action') !== 'SimulatePrincipalPolicy')
      return fail(400, 'InvalidAction', 'not simulated here');
    const source = form.get('PolicySourceArn') ?? '';
    const principal = principalOf(source);
    if (!principal) return fail(404, 'NoSuchEntity', `no such user or role: ${source}`);
    const context: Record<string, string | string[]> = {};
    for (let i = 1; form.has(`ContextEntries.member.${i}.ContextKeyName`); i++) {
      const values = members(form, `ContextEntries.member.${i}.ContextKeyValues`);
      context[form.get(`ContextEntries.member.${i}.ContextKeyName`)!] =
        values.length === 1 ? values[0]! : values;
    }
    const supplied = new Set(Object.keys(context).map((k) => k.toLowerCase()));
    const account = source.split(':')[4] ?? '';
    const resources = members(form, 'ResourceArns');
    const pairs = members(form, 'ActionNames').flatMap((action) =>
      (resources.length ? resources : ['*']).map((resource) => ({ action, resource })),
    );
    const start = Number(form.get('Marker') ?? 0);
    const size = options.pageSize?.() ?? 100;
    const page = pairs.slice(start, start + size);
    const results: string[] = [];
    for (const { action, resource } of page) {
      const result = await runSimulation(
        {
          request: {
            principal: source,
            action,
            resource: { resource, accountId: account },
            contextVariables: context,
          },
          identityPolicies: principal.identityPolicies.map((policy, i) => ({
            name: `policy-${i + 1}`,
            policy,
          })),
          ...(principal.boundary
            ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: principal.boundary }] }
            : {}),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (result.resultType === 'error') return fail(400, 'MalformedPolicyDocument', result.errors.message);
      const decision = DECISION[result.overallResult];
      const boundary =
        result.resultType === 'single'
          ? result.result.analysis.permissionBoundaryAnalysis?.result
          : undefined;
      const missing = missingKeys(result, supplied);
      results.push(
        `<member><EvalActionName>${xmlEscape(action)}</EvalActionName><EvalResourceName>${xmlEscape(resource)}</EvalResourceName><EvalDecision>${decision}</EvalDecision>` +
          `<MissingContextValues>${missing.map((k) => `<member>${xmlEscape(k)}</member>`).join('')}</MissingContextValues>` +
          (principal.boundary
            ? `<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>${boundary === 'Allowed'}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>`
            : '') +
          '<MatchedStatements/></member>',
      );
    }
    const next = start + size;
    const truncated = next < pairs.length;
    return {
      status: 200,
      body:
        `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>` +
        `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<Marker>${next}</Marker>` : ''}` +
        `<EvaluationResults>${results.join('')}</EvaluationResults></SimulatePrincipalPolicyResult>` +
        `<ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`,
    };
  });
}
