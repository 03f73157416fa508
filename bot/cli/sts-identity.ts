import { createHash } from 'node:crypto';
import {
  GetCallerIdentityCommand,
  STSClient,
  type GetCallerIdentityCommandInput,
  type GetCallerIdentityCommandOutput,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { FinalizeRequestMiddleware, HttpRequest } from '@smithy/types';
import { awsRetryConfig } from '../../runner/aws/clients';
import {
  BODY_SHA256_HEADER,
  GET_CALLER_IDENTITY_BODY,
  identityProofSchema,
  INSTALLATION_HEADER,
  MAX_PROOF_HEADER_LENGTH,
  PROOF_MAX_AGE_SECONDS,
  PROOF_REQUIRED_SIGNED_HEADERS,
  PROOF_SIGNABLE_HEADERS,
  type IdentityProof,
} from '../../runner/identity-proof';
import { describeError } from '../../runner/log';
import type { UsedProofs } from './proof-replay';

/** A proof dated this far in the future is refused (clocks differ a little, never by minutes). */
const CLOCK_SKEW_SECONDS = 60;

export type ProofCheck =
  | { ok: true; proof: IdentityProof; host: string; signature: string; signedAtMs: number }
  | { ok: false; reason: string };

const refuse = (reason: string): ProofCheck => ({ ok: false, reason });

/** `20260101T000000Z` → epoch milliseconds. */
function amzDateMs(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

/**
 * Pure: whether a proof header may be sent to STS for a run request with body `rawBody` at this
 * installation: well formed, signing exactly the allowed headers (the required ones among them),
 * naming this installation and this body, and fresh. What STS must still say: whose signature it is.
 */
export function checkProof(
  header: string | undefined,
  rawBody: string,
  installationId: string,
  nowMs: number,
): ProofCheck {
  if (!header) return refuse('no identity proof (the command line signs one; this request has none)');
  if (header.length > MAX_PROOF_HEADER_LENGTH) return refuse('identity proof too large');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return refuse('identity proof is not base64 JSON');
  }
  const parsed = identityProofSchema.safeParse(json);
  if (!parsed.success) return refuse('identity proof is malformed');
  const proof = parsed.data;
  const h = proof.headers;
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{1,128})\/(\d{8})\/([a-z0-9-]+)\/sts\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      h.authorization ?? '',
    );
  if (!auth) return refuse('identity proof is not a SigV4 signature for STS');
  const signedHeaders = auth[4]!.split(';');
  const unexpected = signedHeaders.filter((n) => !(PROOF_SIGNABLE_HEADERS as readonly string[]).includes(n));
  if (unexpected.length) return refuse(`identity proof signs headers it may not: ${unexpected.join(', ')}`);
  const unsigned = PROOF_REQUIRED_SIGNED_HEADERS.filter((n) => !signedHeaders.includes(n));
  if (unsigned.length) return refuse(`identity proof does not sign ${unsigned.join(', ')}`);
  if (h[INSTALLATION_HEADER] !== installationId)
    return refuse('identity proof is for another Snow White installation');
  const bodyHash = createHash('sha256').update(rawBody, 'utf8').digest('hex');
  if (h[BODY_SHA256_HEADER] !== bodyHash) return refuse('identity proof is for another request body');
  const signedAtMs = amzDateMs(h['x-amz-date'] ?? '');
  if (signedAtMs === undefined) return refuse('identity proof has no valid x-amz-date');
  const age = (nowMs - signedAtMs) / 1000;
  if (age > PROOF_MAX_AGE_SECONDS)
    return refuse(`identity proof is stale (${Math.round(age)} s old; at most ${PROOF_MAX_AGE_SECONDS} s)`);
  if (age < -CLOCK_SKEW_SECONDS) return refuse('identity proof is dated in the future');
  const host = h.host;
  if (!host) return refuse('identity proof has no host');
  return { ok: true, proof, host, signature: auth[5]!, signedAtMs };
}

/** What the bot may believe about a command-line caller, or why it believes nothing. */
export type CallerIdentity = { ok: true; arn: string } | { ok: false; status: 401 | 503; reason: string };

export interface CallerIdentityVerifier {
  (proofHeader: string | undefined, rawBody: string): Promise<CallerIdentity>;
}

/**
 * The client that carries proofs to STS. Its own credentials sign nothing that is sent (the caller's
 * signature replaces its own), so it holds none of the bot's; its endpoint is the SDK's standard
 * configuration (region, AWS_ENDPOINT_URL_STS), never anything from the request.
 */
export const createProofStsClient = (config: Pick<STSClientConfig, 'region' | 'endpoint'> = {}): STSClient =>
  new STSClient({
    ...awsRetryConfig(),
    ...config,
    credentials: { accessKeyId: 'SNOWWHITEPROOFONLY', secretAccessKey: 'replaced-by-the-callers-signature' },
  });

/**
 * Checks a command line's identity proof (checkProof), then sends the signed request to this bot's
 * own STS endpoint — only when the proof was signed for that very host — and answers the ARN STS
 * gives. A proof is used once: a replay within its five minutes is refused, in this container by
 * memory and in every container through `used` (the ledger table) when there is one.
 */
export function createCallerIdentityVerifier(deps: {
  sts: STSClient;
  installationId: string | undefined;
  nowMs: () => number;
  /** Proofs used in any container (the ledger table); without it, only this container's are known. */
  used?: UsedProofs;
}): CallerIdentityVerifier {
  const seen = new Map<string, number>();
  return async (proofHeader, rawBody) => {
    if (!deps.installationId)
      return {
        ok: false,
        status: 503,
        reason: 'SNOWWHITE_INSTALLATION_ID is not set: no proof can be checked',
      };
    const now = deps.nowMs();
    const checked = checkProof(proofHeader, rawBody, deps.installationId, now);
    if (!checked.ok) return { ok: false, status: 401, reason: checked.reason };
    for (const [signature, until] of seen) if (until < now) seen.delete(signature);
    if (seen.has(checked.signature))
      return { ok: false, status: 401, reason: 'identity proof was already used' };
    // Taken before STS is asked, so two copies sent at once cannot both pass.
    const usableUntilMs = checked.signedAtMs + (PROOF_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS) * 1000;
    seen.set(checked.signature, usableUntilMs);
    if (deps.used) {
      let first: boolean;
      try {
        first = await deps.used.firstUse(checked.signature, usableUntilMs / 1000);
      } catch (err) {
        // A replay cannot be ruled out: refuse rather than guess.
        return { ok: false, status: 503, reason: `could not record the proof's use: ${describeError(err)}` };
      }
      if (!first) return { ok: false, status: 401, reason: 'identity proof was already used' };
    }

    const command = new GetCallerIdentityCommand({});
    let hostMismatch: string | undefined;
    // After the SDK signed with its placeholder credentials: the caller's signed request, as signed.
    const callersSignature: FinalizeRequestMiddleware<
      GetCallerIdentityCommandInput,
      GetCallerIdentityCommandOutput
    > = (next) => async (args) => {
      const request = args.request as HttpRequest;
      const ours = request.port ? `${request.hostname}:${request.port}` : request.hostname;
      if (checked.host !== ours) {
        hostMismatch = `identity proof is signed for ${checked.host}, not this bot's STS endpoint ${ours}`;
        throw new Error(hostMismatch);
      }
      const headers: Record<string, string> = {};
      for (const name of [...PROOF_SIGNABLE_HEADERS, 'authorization'])
        if (checked.proof.headers[name] !== undefined) headers[name] = checked.proof.headers[name];
      headers['content-length'] = String(Buffer.byteLength(GET_CALLER_IDENTITY_BODY));
      request.headers = headers;
      request.body = GET_CALLER_IDENTITY_BODY;
      return next(args);
    };
    command.middlewareStack.addRelativeTo(callersSignature, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'snowwhiteCallerSignature',
    });
    let arn: string | undefined;
    try {
      arn = (await deps.sts.send(command)).Arn;
    } catch (err) {
      if (hostMismatch) return { ok: false, status: 401, reason: hostMismatch };
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // STS refusing the signature is the caller's problem; STS unreachable or failing is ours.
      if (status !== undefined && status >= 400 && status < 500)
        return { ok: false, status: 401, reason: `STS refused the identity proof: ${describeError(err)}` };
      return { ok: false, status: 503, reason: `STS could not be asked: ${describeError(err)}` };
    }
    if (!arn) return { ok: false, status: 503, reason: 'STS answered without an ARN' };
    return { ok: true, arn };
  };
}
