/**
 * API Gateway HTTP API (payload 2.0) events for a route with IAM authorization, as Lambda receives
 * them once API Gateway has verified the SigV4 signature: the caller in `requestContext.authorizer.iam`
 * — or as anyone allowed lambda:InvokeFunction can make one up.
 */
export function iamSignedEvent(o: {
  body: string;
  /** The verified caller; omitted: an event without the IAM request context. */
  userArn?: string;
  path?: string;
  accountId?: string;
  /** More request headers (the command line's identity proof). */
  headers?: Record<string, string>;
}) {
  const path = o.path ?? '/cli/runs';
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'api.example.com',
      'x-amz-date': '20260101T000000Z',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
      ...o.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      ...(o.userArn
        ? {
            authorizer: {
              iam: {
                accessKey: 'ASIATESTKEY',
                accountId: o.accountId ?? '123456789012',
                callerId: 'AROATEST:session',
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: o.userArn,
                userId: 'AROATEST:session',
              },
            },
          }
        : {}),
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.9', userAgent: 'snowwhite-cli' },
      requestId: 'req-cli',
      routeKey: `POST ${path}`,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body: o.body,
    isBase64Encoded: false,
  };
}
