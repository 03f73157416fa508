import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Target, TargetPlan, TargetQuery, TargetSource, UnreachableTarget } from '../drain/targets';
import { instancesOf, matchingEnvironments } from './environments';

/** DescribeInstanceInformation accepts at most 50 ids per InstanceIds filter. */
const SSM_FILTER_MAX = 50;

/** Targets on AWS: the matching Elastic Beanstalk environments' instances, split by whether SSM can reach them. */
export class ElasticBeanstalkTargets implements TargetSource {
  constructor(
    private readonly eb: ElasticBeanstalkClient,
    private readonly ssm: SSMClient,
  ) {}

  async resolve(query: TargetQuery): Promise<TargetPlan> {
    const { matching, others } = await matchingEnvironments(this.eb, query);
    const withInstances = await Promise.all(
      matching.map(async (env) => ({ env, instanceIds: await instancesOf(this.eb, env.id) })),
    );
    const online = await this.onlineInSsm(withInstances.flatMap((e) => e.instanceIds));

    const environments = withInstances.map(({ env, instanceIds }) => {
      const reachable: Target[] = [];
      const unreachable: UnreachableTarget[] = [];
      for (const instanceId of instanceIds) {
        const ping = online.get(instanceId);
        if (ping === 'Online') reachable.push({ instanceId, environment: env.name });
        else
          unreachable.push({
            instanceId,
            environment: env.name,
            reason:
              ping === undefined
                ? 'not registered with SSM (no agent, or no instance profile allowing SSM)'
                : `SSM agent ${ping === 'ConnectionLost' ? 'lost its connection' : `is ${ping}`}`,
          });
      }
      return { name: env.name, reachable, unreachable };
    });
    return { environments, otherEnvironments: others };
  }

  /** PingStatus by instance id; ids SSM does not know are absent. */
  private async onlineInSsm(instanceIds: string[]): Promise<Map<string, string>> {
    const status = new Map<string, string>();
    for (let i = 0; i < instanceIds.length; i += SSM_FILTER_MAX) {
      const chunk = instanceIds.slice(i, i + SSM_FILTER_MAX);
      let NextToken: string | undefined;
      do {
        const page = await this.ssm.send(
          new DescribeInstanceInformationCommand({
            Filters: [{ Key: 'InstanceIds', Values: chunk }],
            MaxResults: 50,
            NextToken,
          }),
        );
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId) status.set(info.InstanceId, info.PingStatus ?? 'Unknown');
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return status;
  }
}
