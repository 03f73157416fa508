import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import { createAwsClients } from '../../runner/aws-clients';
import { isThrottlingError } from '../../runner/aws-errors';
import { ElasticBeanstalkTargets } from '../../runner/targets';

/**
 * aws-sdk-client-mock replaces `send`, so the SDK's retry middleware never runs under it. To prove
 * the runner's real clients absorb throttling, they talk HTTP to a tiny local AWS endpoint that
 * throttles the first calls (SSM: JSON protocol; Elastic Beanstalk: query/XML protocol).
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
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify(
            action === 'DescribeInstanceInformation'
              ? { InstanceInformationList: [{ InstanceId: 'i-0aaa', PingStatus: 'Online' }] }
              : { CommandInvocations: [] },
          ),
        );
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
});
