import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';
import * as z from 'zod';

// The two calls `snowwhite doctor` makes without an SDK client of ours: EventBridge's DescribeRule
// (no @aws-sdk/client-eventbridge in package.json for one read) and Slack's auth.test (for its
// X-OAuth-Scopes header, which the Web API client does not return).

const describeRuleSchema = z.object({ State: z.string().optional() }).loose();
const awsErrorSchema = z.object({ __type: z.string().optional(), message: z.string().optional() }).loose();

/**
 * EventBridge DescribeRule, signed (SigV4) with the caller's credentials; the endpoint follows the
 * SDK's conventions (AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL). Undefined when there is no such rule.
 */
export function eventBridgeRuleState(deps: {
  credentials: Provider<AwsCredentialIdentity>;
  region: string;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}): (name: string) => Promise<string | undefined> {
  return async (name) => {
    const endpoint = new URL(
      deps.env.AWS_ENDPOINT_URL_EVENTBRIDGE ||
        deps.env.AWS_ENDPOINT_URL ||
        `https://events.${deps.region}.amazonaws.com`,
    );
    const body = JSON.stringify({ Name: name });
    const signer = new SignatureV4({
      service: 'events',
      region: deps.region,
      credentials: deps.credentials,
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.DescribeRule',
      },
      body,
    });
    const res = await (deps.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers: signed.headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const json: unknown = await res.json().catch(() => undefined);
    if (res.ok) return describeRuleSchema.parse(json).State;
    const e = awsErrorSchema.safeParse(json);
    const type = (e.success ? e.data.__type : undefined)?.split('#').pop() ?? `HTTP ${res.status}`;
    if (type === 'ResourceNotFoundException') return undefined;
    throw Object.assign(new Error(`events:DescribeRule: ${(e.success && e.data.message) || type}`), {
      name: type,
    });
  };
}

const authTestSchema = z
  .object({ ok: z.boolean(), error: z.string().optional(), team: z.string().optional() })
  .loose();

/** Slack's auth.test: whether the token works, and the scopes Slack lists for it. */
export function slackAuthTest(deps: { slackApiUrl?: string; fetch?: typeof fetch }) {
  return async (token: string) => {
    const base = deps.slackApiUrl ?? 'https://slack.com/api/';
    const res = await (deps.fetch ?? fetch)(new URL('auth.test', base.endsWith('/') ? base : `${base}/`), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      signal: AbortSignal.timeout(15_000),
    });
    const answer = authTestSchema.safeParse(await res.json().catch(() => undefined));
    if (!answer.success) return { ok: false, error: `HTTP ${res.status}`, scopes: [] };
    const scopes = (res.headers.get('x-oauth-scopes') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return {
      ok: answer.data.ok,
      ...(answer.data.error ? { error: answer.data.error } : {}),
      ...(answer.data.team ? { team: answer.data.team } : {}),
      scopes,
    };
  };
}
