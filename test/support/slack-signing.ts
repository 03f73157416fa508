import { createHmac } from 'node:crypto';

/**
 * Slack's v0 request signing (https://api.slack.com/authentication/verifying-requests-from-slack),
 * and API Gateway events carrying a signed request: HTTP API (payload v2) and REST (v1).
 */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedRequestOptions {
  signingSecret: string;
  body: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  contentType?: string;
  /** Replace or drop (undefined) headers after signing. */
  headers?: Record<string, string | undefined>;
}

export function signedHeaders(o: SignedRequestOptions): Record<string, string> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string | undefined> = {
    'content-type': o.contentType ?? 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(o.signingSecret, timestamp, o.body),
    ...o.headers,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

/** API Gateway HTTP API (payload format 2.0) event: lower-case headers, rawPath, optional base64 body. */
export function httpApiEvent(o: SignedRequestOptions & { base64?: boolean; path?: string }) {
  const path = o.path ?? '/slack/events';
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: signedHeaders(o),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'Slackbot 1.0' },
      requestId: 'req',
      routeKey: `POST ${path}`,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body: o.base64 ? Buffer.from(o.body, 'utf8').toString('base64') : o.body,
    isBase64Encoded: o.base64 ?? false,
  };
}

/** API Gateway REST API (v1) event: original header case, multiValueHeaders, path and httpMethod. */
export function restApiEvent(o: SignedRequestOptions & { base64?: boolean; path?: string }) {
  const path = o.path ?? '/slack/events';
  const lower = signedHeaders(o);
  const cased: Record<string, string> = {};
  for (const [k, v] of Object.entries(lower))
    cased[k.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())] = v;
  return {
    resource: path,
    path,
    httpMethod: 'POST',
    headers: cased,
    multiValueHeaders: Object.fromEntries(Object.entries(cased).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { accountId: '123456789012', stage: 'prod', httpMethod: 'POST', path, requestId: 'req' },
    body: o.base64 ? Buffer.from(o.body, 'utf8').toString('base64') : o.body,
    isBase64Encoded: o.base64 ?? false,
  };
}

/** A slash command's form body, as Slack sends it. */
export function slashCommandBody(fields: {
  text: string;
  userId?: string;
  channelId?: string;
  responseUrl: string;
  command?: string;
  teamId?: string;
  appId?: string;
  enterpriseInstall?: boolean;
}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fields.teamId ?? 'T0TEAM',
    team_domain: 'example',
    channel_id: fields.channelId ?? 'C0OPS',
    channel_name: 'ops',
    user_id: fields.userId ?? 'U0ALICE',
    user_name: 'alice',
    command: fields.command ?? '/snowwhite',
    text: fields.text,
    api_app_id: fields.appId ?? 'A0APP',
    is_enterprise_install: fields.enterpriseInstall ? 'true' : 'false',
    response_url: fields.responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

/** A block_actions interaction body (`payload=<json>`), as Slack sends a button click. */
export function buttonClickBody(fields: {
  actionId: string;
  value: string;
  userId?: string;
  channelId?: string;
  responseUrl: string;
  /** The clicking user's workspace (Slack Connect: another one). */
  userTeamId?: string;
}): string {
  const payload = {
    type: 'block_actions',
    user: { id: fields.userId ?? 'U0ALICE', username: 'alice', team_id: fields.userTeamId ?? 'T0TEAM' },
    api_app_id: 'A0APP',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: '1700000000.000100',
      channel_id: fields.channelId ?? 'C0OPS',
      is_ephemeral: true,
    },
    trigger_id: '1.2.4',
    team: { id: 'T0TEAM', domain: 'example' },
    channel: { id: fields.channelId ?? 'C0OPS', name: 'ops' },
    response_url: fields.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'snowwhite_confirmation',
        text: { type: 'plain_text', text: 'x' },
        value: fields.value,
        action_ts: '1700000001.000200',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A button click in App Home: the container is the Home view, with no channel and no response_url. */
export function homeClickBody(fields: { actionId: string; value: string; userId?: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: fields.userId ?? 'U0ALICE', username: 'alice', team_id: 'T0TEAM' },
    api_app_id: 'A0APP',
    token: 'deprecated-verification-token',
    container: { type: 'view', view_id: 'V0HOME' },
    trigger_id: '1.2.5',
    team: { id: 'T0TEAM', domain: 'example' },
    view: { id: 'V0HOME', type: 'home', blocks: [] },
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'home_run',
        text: { type: 'plain_text', text: 'Cancel' },
        value: fields.value,
        action_ts: '1700000001.000300',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
