import * as z from 'zod';

// Slack's auth.test for `snowwhite doctor`, over fetch for its X-OAuth-Scopes header.

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
