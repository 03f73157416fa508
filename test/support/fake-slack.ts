import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Slack's Web API (reached through SLACK_API_URL) and for `response_url`s.
 * Records every call; answers like Slack does by default; can be told to fail or rate-limit.
 */
export interface SlackCall {
  /**
   * Web API method (`chat.postMessage`), `response_url:<id>` for response URL posts, or
   * `upload:<file id>` for a file's bytes posted to the URL files.getUploadURLExternal gave
   * (`args.content` holds them as text).
   */
  method: string;
  args: Record<string, unknown>;
  /** The bearer token the caller used, if any. */
  token?: string;
  /** What the fake answered (body), once answered: e.g. the `ts` of a posted message. */
  reply?: unknown;
}

export type FakeReply = { status?: number; headers?: Record<string, string>; body: unknown };
type Responder = (args: Record<string, unknown>, call: SlackCall) => FakeReply | Record<string, unknown>;

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private readonly responders = new Map<string, Responder[]>();
  private tsCounter = 0;
  private fileCounter = 0;
  /** File id → the bytes uploaded for it. */
  readonly uploads = new Map<string, string>();
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** Base URL for SLACK_API_URL / Bolt's `slackApiUrl` (ends with `/api/`). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  static async start(): Promise<FakeSlack> {
    const holder: { fake?: FakeSlack } = {};
    const server = createServer((req, res) => {
      void holder.fake!.handle(req).then(({ status = 200, headers = {}, body }) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlack(server, `http://127.0.0.1:${port}`);
    holder.fake = fake;
    return fake;
  }

  responseUrl(id: string): string {
    return `${this.baseUrl}/response/${encodeURIComponent(id)}`;
  }

  /** Answers the next call to `method` with `responder` (once per call to `once`). */
  once(method: string, responder: Responder): this {
    const queue = this.responders.get(method) ?? [];
    queue.push(responder);
    this.responders.set(method, queue);
    return this;
  }

  /** The next `times` calls to `method` answer `{ ok: false, error }`. */
  failNext(method: string, error = 'internal_error', times = 1): this {
    for (let i = 0; i < times; i++) this.once(method, () => ({ ok: false, error }));
    return this;
  }

  /** The next `times` calls to `method` answer HTTP 429 with Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds = 1, times = 1): this {
    for (let i = 0; i < times; i++)
      this.once(method, () => ({
        status: 429,
        headers: { 'retry-after': String(retryAfterSeconds) },
        body: { ok: false, error: 'ratelimited' },
      }));
    return this;
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  reset(): void {
    this.calls.length = 0;
    this.uploads.clear();
    this.responders.clear();
  }

  /** Resolves once `predicate` holds for the recorded calls, or rejects after `timeoutMs`. */
  async waitFor(predicate: (calls: SlackCall[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.calls)) {
      if (Date.now() > deadline) throw new Error(`fake Slack: condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<FakeReply> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    if (url.pathname.startsWith('/upload/')) {
      // Slack's upload URL takes the raw bytes (no form fields) and answers with plain text.
      const fileId = decodeURIComponent(url.pathname.slice(8));
      const call: SlackCall = { method: `upload:${fileId}`, args: { content: raw } };
      this.calls.push(call);
      this.uploads.set(fileId, raw);
      return { body: `OK - ${Buffer.byteLength(raw)}` };
    }
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (args.token as string | undefined);
    let method: string;
    if (url.pathname.startsWith('/api/')) method = url.pathname.slice(5);
    else if (url.pathname.startsWith('/response/'))
      method = `response_url:${decodeURIComponent(url.pathname.slice(10))}`;
    else return { status: 404, body: { ok: false, error: 'unknown_path' } };
    const call: SlackCall = { method, args, ...(token ? { token } : {}) };
    this.calls.push(call);
    const responder = this.responders.get(method)?.shift();
    const answer = responder ? responder(args, call) : this.defaultAnswer(method, args);
    const reply = isReply(answer) ? answer : { body: answer };
    call.reply = reply.body;
    return reply;
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `1700000000.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private defaultAnswer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0TEAM', user: 'snowwhite' };
      case 'chat.postMessage': {
        const ts = this.nextTs();
        return { ok: true, channel: args.channel, ts, message: { ts, text: args.text } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink':
        return {
          ok: true,
          channel: args.channel,
          permalink: `https://example.slack.com/archives/${String(args.channel)}/p${String(args.message_ts).replace('.', '')}`,
        };
      case 'files.getUploadURLExternal': {
        this.fileCounter += 1;
        const fileId = `F${String(this.fileCounter).padStart(6, '0')}`;
        return { ok: true, file_id: fileId, upload_url: `${this.baseUrl}/upload/${fileId}` };
      }
      case 'files.completeUploadExternal': {
        const files = (Array.isArray(args.files) ? args.files : []) as Array<{ id?: string; title?: string }>;
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'conversations.open': {
        const users = String(args.users ?? '');
        return { ok: true, channel: { id: `D${users.replace(/^[UW]/, '')}` } };
      }
      default:
        return { ok: true };
    }
  }
}

function isReply(x: unknown): x is FakeReply {
  return typeof x === 'object' && x !== null && 'body' in x && !('ok' in x);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Slack clients send form-encoded bodies with JSON-encoded structured fields, or plain JSON. */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = /^[[{]/.test(value) ? tryJson(value) : value;
  }
  return args;
}

function tryJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
