import * as z from 'zod';

// The contract between the command line and the bot for proving who is calling (the pattern of
// Vault's AWS IAM login): the command line signs an sts:GetCallerIdentity request it does not send,
// and the bot sends it to STS itself and believes only the ARN STS answers. Plain constants and a
// schema, no AWS client: both sides import this file.

/** The request header that carries the proof on the command line's run request. */
export const IDENTITY_PROOF_HEADER = 'x-snowwhite-identity';
/** Signed header naming the Snow White installation the proof is for (a proof for another is refused). */
export const INSTALLATION_HEADER = 'x-snowwhite-installation';
/** Signed header carrying the SHA-256 (hex) of the run request's body: the proof is for that body only. */
export const BODY_SHA256_HEADER = 'x-snowwhite-body-sha256';

/** The one STS call a proof may be: nothing else is ever sent to STS on a caller's behalf. */
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const GET_CALLER_IDENTITY_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

/** A proof older than this (by its x-amz-date) is refused. */
export const PROOF_MAX_AGE_SECONDS = 5 * 60;

/** Headers a proof may sign (and the bot forwards); a proof that signs any other is refused. */
export const PROOF_SIGNABLE_HEADERS = [
  'host',
  'content-type',
  'x-amz-date',
  'x-amz-security-token',
  INSTALLATION_HEADER,
  BODY_SHA256_HEADER,
] as const;
/** Headers a proof must sign. */
export const PROOF_REQUIRED_SIGNED_HEADERS = ['host', 'x-amz-date', INSTALLATION_HEADER, BODY_SHA256_HEADER];

/** The proof as it travels (base64 of this JSON in IDENTITY_PROOF_HEADER). */
export const identityProofSchema = z
  .object({
    v: z.literal(1),
    /** The signed request's headers, lower-case names (authorization included). */
    headers: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.string().max(4096)),
  })
  .strict();
export type IdentityProof = z.infer<typeof identityProofSchema>;

/** The largest header value accepted (session tokens are long, but not this long). */
export const MAX_PROOF_HEADER_LENGTH = 8192;

export const encodeProof = (proof: IdentityProof): string =>
  Buffer.from(JSON.stringify(proof), 'utf8').toString('base64');
