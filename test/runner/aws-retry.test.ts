import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListCommandInvocationsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { createAwsClients } from '../../runner/aws/clients';
import { isThrottlingError } from '../../runner/aws/errors';
import type { InstanceOutcome } from '../../runner/drain/outcome';
import { SsmExecutor } from '../../runner/aws/ssm-executor/executor';
import { ElasticBeanstalkTargets } from '../../runner/aws/eb-targets';
import { SIDEKIQCTL_STEP_NAME } from '../../ssm/documents';
import { drainedJson } from './support/ssm-fleet';

/**
 * aws-sdk-client-mock replaces `send`, so the SDK's retry middleware never runs under it. To prove
 * the runner's real clients absorb throttling — and never re-send a SendCommand that may have
 * created a command — they talk HTTP to a tiny local AWS endpoint that throttles or fails the first
 * calls (SSM: JSON protocol; Elastic Beanstalk: query/XML protocol).
 */

interface Seen {
  service: 'ssm' | 'eb';
  action: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
/** How many upcoming calls per action answer "throttled". */
const throttle = new Map<string, number>();
/** How many upcoming SendCommands create their command, then answer 500 (the answer is lost). */
let failAfterCreating = 0;
/** Commands the endpoint created, as SSM would list them. */
const created: Array<{ CommandId: string; Comment?: string; DocumentName?: string; InstanceIds?: string[] }> =
  [];

/** The SSM actions the Run Command path uses, answered from `created`. */
function ssmAnswer(action: string, body: string): { status: number; json: unknown } {
  const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
  if (action === 'SendCommand') {
    const command = {
      CommandId: `cmd-${created.length + 1}`,
      Comment: input.Comment as string,
      DocumentName: input.DocumentName as string,
      InstanceIds: input.InstanceIds as string[],
      RequestedDateTime: Date.now() / 1000,
    };
    created.push(command);
    if (failAfterCreating > 0) {
      failAfterCreating -= 1;
      return { status: 500, json: { __type: 'InternalServerError', message: 'lost after creating' } };
    }
    return { status: 200, json: { Command: command } };
  }
  if (action === 'ListCommands') return { status: 200, json: { Commands: created } };
  if (action === 'ListCommandInvocations') {
    const cmd = created.find((c) => c.CommandId === input.CommandId);
    return {
      status: 200,
      json: {
        CommandInvocations: (cmd?.InstanceIds ?? []).map((InstanceId) => ({
          CommandId: cmd!.CommandId,
          InstanceId,
          Status: 'Success',
          StatusDetails: 'Success',
          CommandPlugins: [
            { Name: SIDEKIQCTL_STEP_NAME, Status: 'Success', ResponseCode: 0, Output: drainedJson(0) },
          ],
        })),
      },
    };
  }
  if (action === 'DescribeInstanceInformation')
    return {
      status: 200,
      json: { InstanceInformationList: [{ InstanceId: 'i-0aaa', PingStatus: 'Online' }] },
    };
  return { status: 200, json: { CommandInvocations: [] } };
}

const ebXml = (action: string, result: string) =>
  `<${action}Response xmlns="http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const service = target.startsWith('AmazonSSM.') ? 'ssm' : 'eb';
      const action =
        service === 'ssm'
          ? target.slice('AmazonSSM.'.length)
          : (new URLSearchParams(body).get('Action') ?? '');
      seen.push({ service, action });
      const left = throttle.get(action) ?? 0;
      if (left > 0) {
        throttle.set(action, left - 1);
        if (service === 'ssm') {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        } else {
          res.writeHead(400, { 'content-type': 'text/xml' });
          res.end(
            '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>',
          );
        }
        return;
      }
      if (service === 'ssm') {
        const { status, json } = ssmAnswer(action, body);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        action === 'DescribeEnvironments'
          ? ebXml(
              action,
              '<Environments><member><EnvironmentName>app-workers</EnvironmentName><EnvironmentId>e-1</EnvironmentId><Status>Ready</Status></member></Environments>',
            )
          : ebXml(
              action,
              '<EnvironmentResources><Instances><member><Id>i-0aaa</Id></member></Instances></EnvironmentResources>',
            ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  throttle.clear();
  failAfterCreating = 0;
  created.length = 0;
});

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' };

describe("the runner's AWS clients (adaptive retry mode)", () => {
  it('absorb throttling on the first Elastic Beanstalk and SSM calls', async () => {
    throttle.set('DescribeEnvironments', 1);
    throttle.set('DescribeInstanceInformation', 1);
    const clients = createAwsClients('us-east-1', { endpoint, credentials });
    const plan = await new ElasticBeanstalkTargets(clients.elasticBeanstalk, clients.ssm).resolve({
      application: 'app',
      envPattern: 'workers',
    });
    expect(plan.environments[0]!.reachable).toEqual([{ instanceId: 'i-0aaa', environment: 'app-workers' }]);
    expect(seen.map((s) => s.action)).toEqual([
      'DescribeEnvironments',
      'DescribeEnvironments',
      'DescribeEnvironmentResources',
      'DescribeInstanceInformation',
      'DescribeInstanceInformation',
    ]);
    clients.ssm.destroy();
    clients.elasticBeanstalk.destroy();
  }, 20_000);

  it('surface a recognisable throttling error once the attempts are used up', async () => {
    throttle.set('ListCommandInvocations', 5);
    const clients = createAwsClients('us-east-1', { endpoint, credentials, maxAttempts: 2 });
    const err = await clients.ssm
      .send(new ListCommandInvocationsCommand({ CommandId: 'c' }))
      .catch((e: unknown) => e);
    expect(isThrottlingError(err)).toBe(true);
    expect(seen).toHaveLength(2);
    clients.ssm.destroy();
    clients.elasticBeanstalk.destroy();
  }, 20_000);

  it('send SendCommand once when its answer is a 500 after SSM created the command; the runner adopts it', async () => {
    failAfterCreating = 1;
    const clients = createAwsClients('us-east-1', { endpoint, credentials });
    const executor = new SsmExecutor(clients.ssm, {
      sendCommandClient: clients.ssmSendCommand!,
      documentName: () => 'SnowWhite-Quiet',
      pollDelay: () => 5,
      lookupDelaysMs: [0],
    });
    const outcomes: InstanceOutcome[] = [];
    const dispatched: string[] = [];
    await executor.execute(
      {
        runId: 'run-7',
        action: 'quiet',
        targets: [{ instanceId: 'i-0aaa', environment: 'app-workers' }],
        drainTimeoutSeconds: 60,
        executionTimeoutSeconds: 120,
        deadline: Date.now() + 30_000,
      },
      {
        dispatched: (id) => dispatched.push(id),
        running: () => undefined,
        finished: (o) => outcomes.push(o),
      },
      new AbortController().signal,
    );
    // Exactly one command exists: the SDK did not re-send it, and the runner followed that one.
    expect(seen.filter((s) => s.action === 'SendCommand')).toHaveLength(1);
    expect(created.map((c) => c.CommandId)).toEqual(['cmd-1']);
    expect(dispatched).toEqual(['cmd-1']);
    expect(outcomes.map((o) => o.kind)).toEqual(['drained']);
    expect(seen.map((s) => s.action).slice(0, 2)).toEqual(['SendCommand', 'ListCommands']);
    clients.ssm.destroy();
    clients.ssmSendCommand!.destroy();
    clients.elasticBeanstalk.destroy();
  }, 20_000);

  it('still retry a throttled SendCommand (SSM refused it before doing anything)', async () => {
    throttle.set('SendCommand', 1);
    const clients = createAwsClients('us-east-1', { endpoint, credentials });
    const res = await clients.ssmSendCommand!.send(
      new SendCommandCommand({ DocumentName: 'SnowWhite-Quiet', InstanceIds: ['i-0aaa'] }),
    );
    expect(res.Command?.CommandId).toBe('cmd-1');
    expect(seen.map((s) => s.action)).toEqual(['SendCommand', 'SendCommand']);
    expect(created).toHaveLength(1);
    clients.ssm.destroy();
    clients.ssmSendCommand!.destroy();
    clients.elasticBeanstalk.destroy();
  }, 20_000);

  it('surface the original 500 of a SendCommand they did not retry', async () => {
    failAfterCreating = 1;
    const clients = createAwsClients('us-east-1', { endpoint, credentials });
    const err = await clients
      .ssmSendCommand!.send(new SendCommandCommand({ DocumentName: 'd', InstanceIds: ['i-0aaa'] }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InternalServerError', message: 'lost after creating' });
    expect(err).toMatchObject({ $metadata: { httpStatusCode: 500, attempts: 1 } });
    clients.ssm.destroy();
    clients.ssmSendCommand!.destroy();
    clients.elasticBeanstalk.destroy();
  }, 20_000);
});
