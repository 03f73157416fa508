import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials the local STS knows, and the identity each one is. */
export interface KnownCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
}

export interface StsCall {
  headers: IncomingHttpHeaders;
  body: string;
  answered: 'identity' | string;
}

/** How far a signature's x-amz-date may be from now, as STS allows (15 minutes). */
const STS_SKEW_MS = 15 * 60_000;

const xmlError = (code: string, message: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>local</RequestId></ErrorResponse>`;

/**
 * A small STS on loopback that answers sts:GetCallerIdentity only for a request SigV4-signed with
 * known test credentials: it signs the request again with @smithy/signature-v4 (same headers, same
 * date, the key's secret) and compares, as STS does, so a forged, altered or re-addressed request is
 * refused with STS's own error codes.
 */
export async function localSts(
  known: KnownCredentials[],
  region = 'us-east-1',
): Promise<{ url: string; host: string; calls: StsCall[]; close: () => Promise<void> }> {
  const calls: StsCall[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      void verify(req.method ?? 'GET', req.url ?? '/', req.headers, body).then(
        (out) => {
          calls.push({ headers: req.headers, body, answered: out.status === 200 ? 'identity' : out.code });
          res.writeHead(out.status, { 'content-type': 'text/xml' });
          res.end(out.body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });

  async function verify(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: string,
  ): Promise<{ status: number; code: string; body: string }> {
    const fail = (status: number, code: string, message: string) => ({
      status,
      code,
      body: xmlError(code, message),
    });
    const form = new URLSearchParams(body);
    if (form.get('Action') !== 'GetCallerIdentity')
      return fail(400, 'InvalidAction', 'only GetCallerIdentity here');
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        String(headers.authorization ?? ''),
      );
    if (!auth) return fail(403, 'IncompleteSignature', 'missing or malformed Authorization');
    const [, keyId, , signedRegion, signedHeaderList, signature] = auth;
    const creds = known.find((k) => k.accessKeyId === keyId);
    if (!creds)
      return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (signedRegion !== region)
      return fail(403, 'SignatureDoesNotMatch', 'wrong region in the credential scope');
    if (creds.sessionToken !== undefined && headers['x-amz-security-token'] !== creds.sessionToken)
      return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const date = String(headers['x-amz-date'] ?? '');
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!m) return fail(403, 'IncompleteSignature', 'no x-amz-date');
    const signedAt = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    if (Math.abs(Date.now() - signedAt.getTime()) > STS_SKEW_MS)
      return fail(403, 'SignatureDoesNotMatch', 'Signature expired');
    const names = signedHeaderList!.split(';');
    const signedHeaders: Record<string, string> = {};
    for (const name of names) {
      const value = headers[name];
      if (value === undefined) return fail(403, 'SignatureDoesNotMatch', `signed header ${name} is missing`);
      signedHeaders[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const [path = '/', query = ''] = url.split('?');
    const signer = new SignatureV4({
      service: 'sts',
      region,
      sha256: Sha256,
      applyChecksum: names.includes('x-amz-content-sha256'),
      credentials: {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}),
      },
    });
    const host = signedHeaders.host ?? '';
    const again = await signer.sign(
      {
        method,
        protocol: 'http:',
        hostname: host.split(':')[0] ?? '',
        path,
        query: Object.fromEntries(new URLSearchParams(query)),
        headers: signedHeaders,
        body,
      },
      { signingDate: signedAt },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(again.headers.authorization ?? ''))?.[1];
    if (expected !== signature)
      return fail(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    const account = creds.arn.split(':')[4] ?? '';
    return {
      status: 200,
      code: 'ok',
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${creds.arn}</Arn><UserId>${creds.accessKeyId}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
