import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Target, TargetPlan, TargetQuery, TargetSource, UnreachableTarget } from '../drain/targets';
import { instancesOf, matchingEnvironments } from './environments';
import { pingStatuses, unreachableReason } from './reachability';

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
    const online = await pingStatuses(
      this.ssm,
      withInstances.flatMap((e) => e.instanceIds),
    );

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
            reason: unreachableReason(ping),
          });
      }
      return { name: env.name, reachable, unreachable };
    });
    return { environments, otherEnvironments: others };
  }
}
