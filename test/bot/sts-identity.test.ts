import { STSClient } from '@aws-sdk/client-sts';
import { checkProof, createCallerIdentityVerifier, createProofStsClient } from '../../bot/cli/sts-identity';
import { encodeProof, identityProofSchema, INSTALLATION_HEADER } from '../../runner/identity-proof';
import { signIdentityProof } from '../../runner/cli/sts-proof';
import { localSts } from '../support/local-sts';

const INSTALLATION = 'arn:aws:cloudformation:us-east-1:123456789012:stack/SnowWhite/abc#SnowWhite';
const ALICE = {
  accessKeyId: 'AKIDALICE0000001',
  secretAccessKey: 'alice-secret',
  arn: 'arn:aws:iam::123456789012:user/alice',
};
const ROLE = {
  accessKeyId: 'ASIAROLE00000001',
  secretAccessKey: 'role-secret',
  sessionToken: 'role-session-token',
  arn: 'arn:aws:sts::123456789012:assumed-role/ci/job-1',
};
const BODY = JSON.stringify({
  action: 'quiet',
  envPattern: 'workers',
  application: 'MY-APP',
  region: 'us-east-1',
});

let sts: Awaited<ReturnType<typeof localSts>>;
beforeAll(async () => {
  sts = await localSts([ALICE, ROLE]);
});
afterAll(() => sts.close());

/** The command line's STS client: the caller's credentials, the same standard endpoint configuration. */
const callerSts = (
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  endpoint = sts.url,
) => new STSClient({ region: 'us-east-1', endpoint, credentials: creds });

/** The bot's proof client, pointed at the local STS (as AWS_ENDPOINT_URL_STS would in a container). */
const botVerifier = (nowMs = () => Date.now(), endpoint = sts.url) =>
  createCallerIdentityVerifier({
    sts: createProofStsClient({ region: 'us-east-1', endpoint }),
    installationId: INSTALLATION,
    nowMs,
  });

test("a proof signed by the command line's own code is accepted as the ARN STS answers (IAM user and role session)", async () => {
  const verify = botVerifier();
  expect(await verify(await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY), BODY)).toEqual({
    ok: true,
    arn: ALICE.arn,
  });
  expect(await verify(await signIdentityProof(callerSts(ROLE), INSTALLATION, BODY), BODY)).toEqual({
    ok: true,
    arn: ROLE.arn,
  });
  // What reached STS: exactly the caller's GetCallerIdentity, signed by the caller, nothing of the bot's.
  const last = sts.calls.at(-1)!;
  expect(last.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
  expect(String(last.headers.authorization)).toContain(`Credential=${ROLE.accessKeyId}/`);
  expect(last.headers['x-amz-security-token']).toBe(ROLE.sessionToken);
  expect(last.headers[INSTALLATION_HEADER]).toBe(INSTALLATION);
});

test('the same proof twice is refused the second time (replay)', async () => {
  const verify = botVerifier();
  const proof = await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY);
  expect((await verify(proof, BODY)).ok).toBe(true);
  expect(await verify(proof, BODY)).toEqual({
    ok: false,
    status: 401,
    reason: 'identity proof was already used',
  });
});

test('a proof for another installation or another body is refused before STS is asked', async () => {
  const verify = botVerifier();
  const before = sts.calls.length;
  const other = await signIdentityProof(callerSts(ALICE), 'another-installation', BODY);
  expect(await verify(other, BODY)).toMatchObject({
    ok: false,
    reason: expect.stringContaining('another Snow White installation'),
  });
  const proof = await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY);
  const changed = BODY.replace('quiet', 'stop');
  expect(await verify(proof, changed)).toMatchObject({
    ok: false,
    reason: expect.stringContaining('another request body'),
  });
  expect(sts.calls).toHaveLength(before);
});

test('a stale proof (older than 5 minutes) and one dated in the future are refused', async () => {
  const proof = await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY);
  const sixMinutesLater = botVerifier(() => Date.now() + 6 * 60_000);
  expect(await sixMinutesLater(proof, BODY)).toMatchObject({
    ok: false,
    status: 401,
    reason: expect.stringContaining('stale'),
  });
  const fourMinutesLater = botVerifier(() => Date.now() + 4 * 60_000);
  expect((await fourMinutesLater(proof, BODY)).ok).toBe(true);
  const future = botVerifier(() => Date.now() - 10 * 60_000);
  expect(await future(await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY), BODY)).toMatchObject({
    ok: false,
    reason: expect.stringContaining('future'),
  });
});

test('a proof signed for another host is refused and never sent: the bot sends only to its own STS endpoint', async () => {
  const elsewhere = await localSts([ALICE]);
  try {
    const verify = botVerifier();
    const before = { ours: sts.calls.length, theirs: elsewhere.calls.length };
    const proof = await signIdentityProof(callerSts(ALICE, elsewhere.url), INSTALLATION, BODY);
    expect(await verify(proof, BODY)).toMatchObject({
      ok: false,
      status: 401,
      reason: `identity proof is signed for ${elsewhere.host}, not this bot's STS endpoint ${sts.host}`,
    });
    expect(sts.calls).toHaveLength(before.ours);
    expect(elsewhere.calls).toHaveLength(before.theirs);
  } finally {
    await elsewhere.close();
  }
});

test('forged proofs are refused by STS: a made-up signature, an unknown key, a header changed after signing', async () => {
  const verify = botVerifier();
  const wrongSecret = await signIdentityProof(
    callerSts({ ...ALICE, secretAccessKey: 'guessed' }),
    INSTALLATION,
    BODY,
  );
  expect(await verify(wrongSecret, BODY)).toMatchObject({
    ok: false,
    status: 401,
    reason: expect.stringContaining('SignatureDoesNotMatch'),
  });
  const unknown = await signIdentityProof(
    callerSts({ accessKeyId: 'AKIDNOBODY000001', secretAccessKey: 'x' }),
    INSTALLATION,
    BODY,
  );
  expect(await verify(unknown, BODY)).toMatchObject({
    ok: false,
    reason: expect.stringContaining('InvalidClientTokenId'),
  });

  // A role session's proof whose session token was swapped after signing: STS refuses it.
  const roleProof = identityProofSchema.parse(
    JSON.parse(
      Buffer.from(await signIdentityProof(callerSts(ROLE), INSTALLATION, BODY), 'base64').toString('utf8'),
    ),
  );
  const tampered = encodeProof({
    ...roleProof,
    headers: { ...roleProof.headers, 'x-amz-security-token': 'another-session-token' },
  });
  expect(await verify(tampered, BODY)).toMatchObject({
    ok: false,
    status: 401,
    reason: expect.stringContaining('STS refused the identity proof'),
  });
});

test.each([
  ['no proof', undefined, 'no identity proof'],
  ['not base64 JSON', '%%%', 'not base64 JSON'],
  ['a proof of another shape', Buffer.from(JSON.stringify({ v: 2 })).toString('base64'), 'malformed'],
  [
    'a signature for another service',
    encodeProof({
      v: 1,
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDALICE0000001/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
    }),
    'not a SigV4 signature for STS',
  ],
  [
    'a signature leaving the installation unsigned',
    encodeProof({
      v: 1,
      headers: {
        host: 'sts.us-east-1.amazonaws.com',
        [INSTALLATION_HEADER]: INSTALLATION,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDALICE0000001/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
    }),
    'does not sign x-snowwhite-installation, x-snowwhite-body-sha256',
  ],
  [
    'a signature over a header it may not carry',
    encodeProof({
      v: 1,
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDALICE0000001/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-forwarded-host, Signature=${'0'.repeat(64)}`,
      },
    }),
    'signs headers it may not: x-forwarded-host',
  ],
])('checkProof refuses %s', (_what, header, words) => {
  const checked = checkProof(header, BODY, INSTALLATION, Date.now());
  expect(checked).toMatchObject({ ok: false, reason: expect.stringContaining(words) });
});

test('when the record of used proofs cannot be written, the proof is refused (a replay cannot be ruled out)', async () => {
  const verify = createCallerIdentityVerifier({
    sts: createProofStsClient({ region: 'us-east-1', endpoint: sts.url }),
    installationId: INSTALLATION,
    nowMs: Date.now,
    used: {
      firstUse: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    },
  });
  const before = sts.calls.length;
  expect(await verify(await signIdentityProof(callerSts(ALICE), INSTALLATION, BODY), BODY)).toEqual({
    ok: false,
    status: 503,
    reason: "could not record the proof's use: ProvisionedThroughputExceededException",
  });
  expect(sts.calls).toHaveLength(before);
});
