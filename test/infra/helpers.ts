import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** An App whose cloud assembly goes to a fresh temporary folder; call `cleanup` when done. */
export function tempApp(options: { bundle?: boolean; context?: Record<string, unknown> } = {}): {
  app: App;
  outdir: string;
  cleanup: () => void;
} {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowwhite-cdk-'));
  const app = new App({
    outdir,
    context: {
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
      ...options.context,
    },
  });
  return { app, outdir, cleanup: () => fs.rmSync(outdir, { recursive: true, force: true }) };
}

/** Unacknowledged cdk-nag AwsSolutions findings, as `RuleId @ construct path` lines. */
export function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(scope).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.length
      ? v.violatingResources.map((r) => `${v.ruleName} @ ${r.resourceLogicalId ?? r.templatePath}`)
      : [v.ruleName],
  );
}

/** Every `Validations.acknowledge` made under `scope`: rule id and reason. */
export function acknowledgments(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
      // Validations.acknowledge records `{ [ruleId]: reason }` under this metadata key.
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every IAM policy statement in a template: identity policies, inline role policies, managed policies. */
export function allStatements(template: { Resources?: Record<string, unknown> }): Statement[] {
  const out: Statement[] = [];
  for (const raw of Object.values(template.Resources ?? {})) {
    const r = raw as { Type: string; Properties?: Record<string, unknown> };
    const docs: unknown[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      docs.push(r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role')
      for (const p of (r.Properties?.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? [])
        docs.push(p.PolicyDocument);
    for (const doc of docs) out.push(...((doc as { Statement: Statement[] }).Statement ?? []));
  }
  return out;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The statements of the one AWS::IAM::Policy attached to `roleLogicalId` (and optionally named like `policyIdPart`). */
export function policyStatementsForRole(
  template: { Resources?: Record<string, unknown> },
  roleLogicalId: string,
  policyIdPart = 'DefaultPolicy',
): Statement[] {
  const matches = Object.entries(template.Resources ?? {}).filter(([id, raw]) => {
    const r = raw as { Type: string; Properties?: { Roles?: Array<{ Ref?: string }> } };
    return (
      r.Type === 'AWS::IAM::Policy' &&
      id.includes(policyIdPart) &&
      (r.Properties?.Roles ?? []).some((role) => role.Ref === roleLogicalId)
    );
  });
  if (matches.length !== 1)
    throw new Error(`expected one ${policyIdPart} policy for ${roleLogicalId}, found ${matches.length}`);
  const [, policy] = matches[0] as [string, { Properties: { PolicyDocument: { Statement: Statement[] } } }];
  return policy.Properties.PolicyDocument.Statement;
}

export const logicalId = (stack: Stack, construct: IConstruct): string => {
  const child = construct.node.defaultChild ?? construct;
  return stack.getLogicalId(child as Parameters<Stack['getLogicalId']>[0]);
};
