import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
  type EnvironmentStatus,
} from '@aws-sdk/client-elastic-beanstalk';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ElasticBeanstalkTargets } from '../../runner/aws/eb-targets';
import { matchesPattern } from '../../runner/drain/targets';

const eb = mockClient(ElasticBeanstalkClient);
const ssm = mockClient(SSMClient);
const source = () => new ElasticBeanstalkTargets(new ElasticBeanstalkClient({}), new SSMClient({}));

beforeEach(() => {
  eb.reset();
  ssm.reset();
});

const env = (name: string, Status: EnvironmentStatus = 'Ready') => ({
  EnvironmentId: `e-${name}`,
  EnvironmentName: name,
  Status,
});
const instances = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ Id: `i-${prefix}${String(i).padStart(3, '0')}` }));

describe('ElasticBeanstalkTargets', () => {
  it('reads every page of environments, skips terminated ones and matches case-insensitively', async () => {
    eb.on(DescribeEnvironmentsCommand)
      .resolvesOnce({ Environments: [env('MyApp-Workers-Prod'), env('myapp-web-prod')], NextToken: 'p2' })
      .resolvesOnce({
        Environments: [
          env('myapp-workers-old', 'Terminated'),
          env('myapp-WORKERS-stg'),
          env('myapp-workers-x', 'Terminating'),
        ],
      });
    eb.on(DescribeEnvironmentResourcesCommand, { EnvironmentId: 'e-MyApp-Workers-Prod' }).resolves({
      EnvironmentResources: { Instances: instances(2, 'p') },
    });
    eb.on(DescribeEnvironmentResourcesCommand, { EnvironmentId: 'e-myapp-WORKERS-stg' }).resolves({
      EnvironmentResources: { Instances: instances(1, 's') },
    });
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: ['i-p000', 'i-p001', 'i-s000'].map((InstanceId) => ({
        InstanceId,
        PingStatus: 'Online',
      })),
    });

    const plan = await source().resolve({ application: 'myapp', envPattern: 'workers' });

    expect(eb.commandCalls(DescribeEnvironmentsCommand).map((c) => c.args[0].input)).toEqual([
      { ApplicationName: 'myapp', IncludeDeleted: false, NextToken: undefined },
      { ApplicationName: 'myapp', IncludeDeleted: false, NextToken: 'p2' },
    ]);
    expect(plan.environments.map((e) => e.name)).toEqual(['MyApp-Workers-Prod', 'myapp-WORKERS-stg']);
    expect(plan.environments[0]!.reachable).toEqual([
      { instanceId: 'i-p000', environment: 'MyApp-Workers-Prod' },
      { instanceId: 'i-p001', environment: 'MyApp-Workers-Prod' },
    ]);
    expect(plan.otherEnvironments).toEqual(['myapp-web-prod']);
    expect(eb).toHaveReceivedCommandTimes(DescribeEnvironmentResourcesCommand, 2);
  });

  it('reports instances SSM does not know or cannot reach, instead of waiting on them', async () => {
    eb.on(DescribeEnvironmentsCommand).resolves({ Environments: [env('workers')] });
    eb.on(DescribeEnvironmentResourcesCommand).resolves({
      EnvironmentResources: { Instances: instances(3, 'w') },
    });
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [
        { InstanceId: 'i-w000', PingStatus: 'Online' },
        { InstanceId: 'i-w001', PingStatus: 'ConnectionLost' },
      ],
    });
    const [e] = (await source().resolve({ application: 'a', envPattern: 'work' })).environments;
    expect(e!.reachable.map((t) => t.instanceId)).toEqual(['i-w000']);
    expect(e!.unreachable).toEqual([
      { instanceId: 'i-w001', environment: 'workers', reason: 'SSM agent lost its connection' },
      {
        instanceId: 'i-w002',
        environment: 'workers',
        reason: expect.stringContaining('not registered with SSM'),
      },
    ]);
  });

  it('asks SSM about at most 50 instances per call and follows its pages', async () => {
    eb.on(DescribeEnvironmentsCommand).resolves({ Environments: [env('workers')] });
    eb.on(DescribeEnvironmentResourcesCommand).resolves({
      EnvironmentResources: { Instances: instances(120, 'w') },
    });
    ssm.on(DescribeInstanceInformationCommand).callsFake(async (input) => {
      const ids: string[] = input.Filters[0].Values;
      expect(ids.length).toBeLessThanOrEqual(50);
      const start = Number(input.NextToken ?? 0);
      const page = ids.slice(start, start + 25);
      return {
        InstanceInformationList: page.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' })),
        ...(start + 25 < ids.length ? { NextToken: String(start + 25) } : {}),
      };
    });
    const [e] = (await source().resolve({ application: 'a', envPattern: 'workers' })).environments;
    expect(e!.reachable).toHaveLength(120);
    expect(e!.unreachable).toHaveLength(0);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 5);
  });

  it('returns an empty plan, with the other environments, when nothing matches', async () => {
    eb.on(DescribeEnvironmentsCommand).resolves({ Environments: [env('web')] });
    const plan = await source().resolve({ application: 'a', envPattern: 'workers' });
    expect(plan).toEqual({ environments: [], otherEnvironments: ['web'] });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 0);
  });

  it('matches substrings regardless of case', () => {
    expect(matchesPattern('MyApp-Workers-1', 'workers')).toBe(true);
    expect(matchesPattern('myapp-web', 'workers')).toBe(false);
  });
});
