import { createHmac, timingSafeEqual } from 'node:crypto';

export interface NormalizedHttpEvent {
  httpMethod: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
  /** The remaining AwsEventV1 fields Bolt's types ask for; Bolt does not read them. */
  resource: string;
  requestContext: Record<string, unknown>;
  multiValueHeaders: Record<string, string[]>;
  pathParameters: null;
  queryStringParameters: null;
  multiValueQueryStringParameters: null;
  stageVariables: null;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

export function isHttpEvent(event: unknown): boolean {
  if (!isObj(event)) return false;
  return (
    'httpMethod' in event ||
    'rawPath' in event ||
    (isObj(event.requestContext) && 'http' in event.requestContext)
  );
}

/**
 * API Gateway events (HTTP API v2 and REST v1) → the v1-like shape Bolt's AwsLambdaReceiver reads.
 * The receiver decodes base64 bodies as ASCII, needs a `headers` object, and throws on a Content-Type
 * with parameters (`; charset=utf-8`); here the body is decoded as UTF-8, headers are lower-cased
 * and the media type is reduced to its bare name.
 */
export function normalizeHttpEvent(event: unknown): NormalizedHttpEvent {
  const e = isObj(event) ? event : {};
  const headers: Record<string, string> = {};
  const addHeaders = (source: unknown, multi: boolean) => {
    if (!isObj(source)) return;
    for (const [name, value] of Object.entries(source)) {
      const v = multi && Array.isArray(value) ? value.join(',') : value;
      if (typeof v === 'string') headers[name.toLowerCase()] = v;
    }
  };
  addHeaders(e.multiValueHeaders, true);
  addHeaders(e.headers, false);
  if (headers['content-type'] !== undefined)
    headers['content-type'] = headers['content-type'].split(';')[0]!.trim().toLowerCase();

  const rawBody = typeof e.body === 'string' ? e.body : '';
  const body = e.isBase64Encoded === true ? Buffer.from(rawBody, 'base64').toString('utf8') : rawBody;
  const ctx = isObj(e.requestContext) ? e.requestContext : {};
  const http = isObj(ctx.http) ? ctx.http : {};
  const method =
    typeof e.httpMethod === 'string' ? e.httpMethod : typeof http.method === 'string' ? http.method : 'POST';
  const path = typeof e.path === 'string' ? e.path : typeof e.rawPath === 'string' ? e.rawPath : '/';
  return {
    httpMethod: method.toUpperCase(),
    path,
    headers,
    body,
    isBase64Encoded: false,
    resource: path,
    requestContext: {},
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
  };
}

/**
 * Slack's v0 request signature: HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret,
 * timestamp at most 5 minutes away. Checked before anything parses the body.
 */
export function hasValidSlackSignature(
  signingSecret: string,
  event: NormalizedHttpEvent,
  nowSeconds: number,
): boolean {
  const signature = event.headers['x-slack-signature'];
  const timestamp = event.headers['x-slack-request-timestamp'];
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${event.body}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * A refusal answered before Bolt sees the request: a slash command shows `text` to the person who
 * typed it (an ephemeral reply); any other Slack request gets only `otherwiseStatus`, with no body.
 */
export function refusalAnswer(request: NormalizedHttpEvent, text: string, otherwiseStatus: number) {
  return new URLSearchParams(request.body).has('command')
    ? {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', text }),
      }
    : { statusCode: otherwiseStatus, body: '' };
}
