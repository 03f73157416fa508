import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';
import * as z from 'zod';
import { runIdSchema, type RunRequest } from '../request';

export interface SignedRouteDeps {
  credentials: Provider<AwsCredentialIdentity>;
  /** The region of the stack's API. */
  region: string;
  fetch?: typeof fetch;
}

const launchedSchema = z.object({
  runId: runIdSchema,
  taskArn: z.string(),
  requestedBy: z.string(),
  environments: z.array(z.object({ name: z.string(), instances: z.number() })),
});
export type LaunchedThroughBot = z.infer<typeof launchedSchema>;

const refusalSchema = z
  .object({
    error: z.string(),
    reason: z.string().optional(),
    detail: z.string().optional(),
    problems: z.array(z.string()).optional(),
    errorId: z.string().optional(),
  })
  .loose();

export class BotRefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BotRefusedError';
  }
}

/**
 * The command line's way in: a run request POSTed to the stack's `/cli/runs` route, signed (SigV4,
 * service `execute-api`) with the caller's own credentials. API Gateway checks the signature and
 * `execute-api:Invoke`; the bot then authorizes the caller like a Slack user and launches the runner
 * itself, so the caller needs neither ecs:RunTask nor iam:PassRole.
 */
export async function requestRunThroughBot<T = LaunchedThroughBot>(
  url: string,
  request:
    | (Pick<RunRequest, 'runId' | 'action' | 'envPattern' | 'application' | 'region'> &
        Partial<Pick<RunRequest, 'drainTimeoutSeconds' | 'executionTimeoutSeconds'>>)
    // `snowwhite history` (runner/cli/history.ts) asks on the same route, with its own answer.
    | { history: true; application?: string },
  deps: SignedRouteDeps,
  answerSchema: z.ZodType<T> = launchedSchema as unknown as z.ZodType<T>,
): Promise<T> {
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.hostname !== '127.0.0.1' && target.hostname !== 'localhost')
    throw new Error(`the command-line route must be https: ${url}`);
  // The bot assigns run ids: ours only makes a retried request launch nothing twice.
  const body = JSON.stringify(
    'history' in request
      ? request
      : (({ runId: idempotencyKey, ...rest }) => ({ ...rest, idempotencyKey }))(request),
  );
  const signer = new SignatureV4({
    service: 'execute-api',
    region: deps.region,
    credentials: deps.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query: {},
    headers: { host: target.host, 'content-type': 'application/json' },
    body,
  });
  const res = await (deps.fetch ?? fetch)(url, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(35_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) {
    const launched = answerSchema.safeParse(json);
    if (launched.success) return launched.data;
    throw new Error(`the bot answered ${res.status} without a run: ${text.slice(0, 200)}`);
  }
  const refusal = refusalSchema.safeParse(json);
  if (!refusal.success)
    // API Gateway's own answers (a missing execute-api:Invoke right, a bad signature) are {"message": …}.
    throw new BotRefusedError(res.status, `${res.status}: ${text.slice(0, 300)}`);
  const r = refusal.data;
  const what = [r.detail, ...(r.problems ?? [])].filter(Boolean).join('; ');
  throw new BotRefusedError(
    res.status,
    `${r.error}${r.reason ? ` (${r.reason})` : ''}: ${what}${r.errorId ? ` [error id ${r.errorId}]` : ''}`,
  );
}
