import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { HttpRequest } from '@smithy/types';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  BODY_SHA256_HEADER,
  encodeProof,
  GET_CALLER_IDENTITY_BODY,
  GET_CALLER_IDENTITY_CONTENT_TYPE,
  INSTALLATION_HEADER,
} from '../identity-proof';

/** Where the SDK would send an STS call (the standard endpoint configuration, AWS_ENDPOINT_URL_STS included). */
async function stsEndpointOf(sts: STSClient): Promise<HttpRequest> {
  const command = new GetCallerIdentityCommand({});
  let resolved: HttpRequest | undefined;
  // After serialization (the endpoint is resolved), before signing: take the request, send nothing.
  command.middlewareStack.add(
    () => async () => {
      throw new EndpointCaptured();
    },
    { step: 'build', priority: 'low', name: 'snowwhiteCaptureStsEndpoint' },
  );
  command.middlewareStack.add(
    (next) => async (args) => {
      resolved = args.request as HttpRequest;
      return next(args);
    },
    { step: 'build', priority: 'high', name: 'snowwhiteReadStsEndpoint' },
  );
  try {
    await sts.send(command);
  } catch (err) {
    if (!(err instanceof EndpointCaptured)) throw err;
  }
  if (!resolved) throw new Error('could not resolve the STS endpoint');
  return resolved;
}
class EndpointCaptured extends Error {}

/**
 * The command line's proof of who it is, for one run request (the header value of
 * IDENTITY_PROOF_HEADER): an sts:GetCallerIdentity request signed with the caller's own credentials
 * for the STS endpoint of the stack's region, never sent from here. Its signed headers name the
 * installation and carry the SHA-256 of `body`, so the bot accepts it only for this installation
 * and this very request; STS, asked by the bot, says whose credentials signed it.
 */
export async function signIdentityProof(
  sts: STSClient,
  installationId: string,
  body: string,
  now: Date = new Date(),
): Promise<string> {
  const endpoint = await stsEndpointOf(sts);
  const host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname;
  const signer = new SignatureV4({
    service: 'sts',
    region: await sts.config.region(),
    credentials: sts.config.credentials,
    sha256: Sha256,
    // STS needs no x-amz-content-sha256 header; the proof signs only what the bot forwards.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: endpoint.port } : {}),
      path: endpoint.path,
      headers: {
        host,
        'content-type': GET_CALLER_IDENTITY_CONTENT_TYPE,
        [INSTALLATION_HEADER]: installationId,
        [BODY_SHA256_HEADER]: createHash('sha256').update(body, 'utf8').digest('hex'),
      },
      query: {},
      body: GET_CALLER_IDENTITY_BODY,
    },
    { signingDate: now },
  );
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return encodeProof({ v: 1, headers });
}
