import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  type ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Target } from '../drain/outcome';

/**
 * Where a run acts: the environments matching the request and, in each, the instances that can
 * run the command and those that cannot (reported, never waited on).
 *
 * `TargetSource` is the seam: Elastic Beanstalk + SSM here; the command line adds one for this host.
 */

export interface TargetQuery {
  application: string;
  envPattern: string;
}

export interface UnreachableTarget extends Target {
  reason: string;
}

export interface EnvironmentTargets {
  name: string;
  reachable: Target[];
  unreachable: UnreachableTarget[];
}

export interface TargetPlan {
  environments: EnvironmentTargets[];
  /** Live environments of the application that did not match (to explain an empty match). */
  otherEnvironments: string[];
}

export interface TargetSource {
  resolve(query: TargetQuery): Promise<TargetPlan>;
}

/** Pure: case-insensitive substring match, as the slash command documents. */
export const matchesPattern = (envName: string, pattern: string): boolean =>
  envName.toLowerCase().includes(pattern.toLowerCase());

const GONE_STATUSES = new Set(['Terminated', 'Terminating']);
/** DescribeInstanceInformation accepts at most 50 ids per InstanceIds filter. */
const SSM_FILTER_MAX = 50;

export class ElasticBeanstalkTargets implements TargetSource {
  constructor(
    private readonly eb: ElasticBeanstalkClient,
    private readonly ssm: SSMClient,
  ) {}

  async resolve(query: TargetQuery): Promise<TargetPlan> {
    const live = await this.liveEnvironments(query.application);
    const matching = live.filter((e) => matchesPattern(e.name, query.envPattern));
    const otherEnvironments = live.filter((e) => !matching.includes(e)).map((e) => e.name);

    const withInstances = await Promise.all(
      matching.map(async (env) => ({ env, instanceIds: await this.instancesOf(env.id) })),
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
    return { environments, otherEnvironments };
  }

  private async liveEnvironments(application: string): Promise<Array<{ id: string; name: string }>> {
    const envs: Array<{ id: string; name: string }> = [];
    let NextToken: string | undefined;
    do {
      const page = await this.eb.send(
        new DescribeEnvironmentsCommand({ ApplicationName: application, IncludeDeleted: false, NextToken }),
      );
      for (const e of page.Environments ?? []) {
        if (!e.EnvironmentId || !e.EnvironmentName || GONE_STATUSES.has(e.Status ?? '')) continue;
        envs.push({ id: e.EnvironmentId, name: e.EnvironmentName });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return envs.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async instancesOf(environmentId: string): Promise<string[]> {
    const res = await this.eb.send(new DescribeEnvironmentResourcesCommand({ EnvironmentId: environmentId }));
    const ids = (res.EnvironmentResources?.Instances ?? [])
      .map((i) => i.Id)
      .filter((id): id is string => !!id);
    return [...new Set(ids)].sort();
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
