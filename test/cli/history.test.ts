import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { STSClient } from '@aws-sdk/client-sts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { cliMain, type CliClients } from '../../runner/cli/main';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import { captureIo } from './support/capture-io';

/**
 * `snowwhite history` from the terminal: a signed request to the stack's command-line route (a local
 * server standing in for API Gateway and the bot, answering as bot/cli/history.ts does), printed one
 * run per line, or as one JSON object.
 */

const received: Array<{ authorization: string; body: string }> = [];
let reply: { status: number; body: unknown } = { status: 200, body: { runs: [] } };
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ authorization: String(req.headers.authorization), body });
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cli/runs`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => (received.length = 0));

async function history(argv: string[]) {
  const cfn = new CloudFormationClient({ region: 'us-east-1' });
  mockClient(cfn)
    .on(DescribeStacksCommand)
    .resolves({
      Stacks: [
        {
          StackName: 'SnowWhite',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: STACK_OUTPUTS.cliRunsUrl, OutputValue: url }],
        },
      ],
    });
  const sts = new STSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDHIST', secretAccessKey: 's' },
  });
  const { io, out, err } = captureIo();
  const code = await cliMain(['history', ...argv], {
    io,
    env: { AWS_REGION: 'us-east-1', SNOWWHITE_CONFIG: '/nonexistent/snowwhite.json' },
    clients: () => ({ cloudFormation: cfn, sts }) as unknown as CliClients,
  });
  return { code, out: out(), err: err() };
}

const RUN = {
  runId: 'run-b',
  action: 'quiet',
  envPattern: 'workers',
  application: 'MY-APP',
  region: 'us-east-1',
  requestedBy: 'alice',
  state: 'finished',
  startedAt: '2026-03-02T10:00:00.000Z',
  endedAt: '2026-03-02T10:03:05.000Z',
  exitCode: 2,
  counts: { drained: 3, busy_at_deadline: 1 },
};

test('one line per run, newest first, asked with a signed request naming the application', async () => {
  reply = {
    status: 200,
    body: {
      runs: [
        RUN,
        {
          ...RUN,
          runId: 'run-a',
          state: 'running',
          endedAt: undefined,
          exitCode: undefined,
          counts: undefined,
          requestedBy: 'bob\x1b[2J',
        },
      ],
    },
  };
  const r = await history(['MY-APP']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out.split('\n')).toEqual([
    '2026-03-02 10:00  quiet workers MY-APP us-east-1  by alice: finished in 3m 5s, exit 2 (3 drained, 1 busy at deadline)  [run-b]',
    '2026-03-02 10:00  quiet workers MY-APP us-east-1  by bob?[2J: running  [run-a]',
    '',
  ]);
  expect(JSON.parse(received[0]!.body)).toEqual({ history: true, application: 'MY-APP' });
  expect(received[0]!.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDHIST\/\d{8}\/us-east-1\/execute-api\//,
  );
});

test('--json: one object; a refusal is one line and exit 4', async () => {
  reply = { status: 200, body: { runs: [RUN] } };
  const json = await history(['--json']);
  expect(JSON.parse(json.out)).toEqual({ event: 'history', runs: [RUN] });
  expect(JSON.parse(received[0]!.body)).toEqual({ history: true });

  reply = {
    status: 403,
    body: { error: 'refused', reason: 'unsupported_principal', detail: 'role x is not listed' },
  };
  const refused = await history([]);
  expect(refused.code).toBe(4);
  expect(refused.err).toBe('snowwhite: refused (unsupported_principal): role x is not listed\n');
});
