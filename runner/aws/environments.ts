import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  type ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import pLimit from 'p-limit';
import { matchesPattern } from '../drain/targets';

/** A live (not terminated) Elastic Beanstalk environment. */
export interface LiveEnvironment {
  id: string;
  name: string;
  status: string;
  health?: string;
  /** When Elastic Beanstalk last updated it (a deploy, a configuration change): "redeployed since". */
  updatedAt?: Date;
}

const GONE_STATUSES = new Set(['Terminated', 'Terminating']);

/** Every live environment of an application (all pages), sorted by name. */
export async function listLiveEnvironments(
  eb: ElasticBeanstalkClient,
  application: string,
): Promise<LiveEnvironment[]> {
  const envs: LiveEnvironment[] = [];
  let NextToken: string | undefined;
  do {
    const page = await eb.send(
      new DescribeEnvironmentsCommand({ ApplicationName: application, IncludeDeleted: false, NextToken }),
    );
    for (const e of page.Environments ?? []) {
      if (!e.EnvironmentId || !e.EnvironmentName || GONE_STATUSES.has(e.Status ?? '')) continue;
      envs.push({
        id: e.EnvironmentId,
        name: e.EnvironmentName,
        status: e.Status ?? 'Unknown',
        ...(e.Health ? { health: e.Health } : {}),
        ...(e.DateUpdated ? { updatedAt: e.DateUpdated } : {}),
      });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return envs.sort((a, b) => a.name.localeCompare(b.name));
}

/** The live environments a pattern selects, and the names of those it does not (to explain an empty match). */
export async function matchingEnvironments(
  eb: ElasticBeanstalkClient,
  query: { application: string; envPattern: string },
): Promise<{ matching: LiveEnvironment[]; others: string[] }> {
  const live = await listLiveEnvironments(eb, query.application);
  const matching = live.filter((e) => matchesPattern(e.name, query.envPattern, e.id));
  return { matching, others: live.filter((e) => !matching.includes(e)).map((e) => e.name) };
}

/** The EC2 instance ids of one environment, deduplicated and sorted. */
export async function instancesOf(eb: ElasticBeanstalkClient, environmentId: string): Promise<string[]> {
  const res = await eb.send(new DescribeEnvironmentResourcesCommand({ EnvironmentId: environmentId }));
  const ids = (res.EnvironmentResources?.Instances ?? []).map((i) => i.Id).filter((id): id is string => !!id);
  return [...new Set(ids)].sort();
}

/** An environment a run would touch, with its instance count (what the Slack prompt and the terminal list). */
export interface TargetEnvironment extends LiveEnvironment {
  instanceCount: number;
  /** The EC2 instances now (authorization asks about each). */
  instanceIds: string[];
}
export interface TargetPreview {
  environments: TargetEnvironment[];
  totalInstances: number;
  /** Live environments of the application that the pattern does not select (to spot a typo). */
  others: string[];
}

/**
 * What a run would act on, before it is launched: the bot's prompt and `snowwhite`'s preview, by the
 * runner's own lister and rule.
 */
export async function previewTargets(
  eb: ElasticBeanstalkClient,
  target: { application: string; envPattern: string },
  concurrency = 5,
): Promise<TargetPreview> {
  const { matching, others } = await matchingEnvironments(eb, target);
  const limit = pLimit(concurrency);
  const environments = await Promise.all(
    matching.map((e) =>
      limit(async () => {
        const instanceIds = await instancesOf(eb, e.id);
        return { ...e, instanceIds, instanceCount: instanceIds.length };
      }),
    ),
  );
  return { environments, totalInstances: environments.reduce((n, e) => n + e.instanceCount, 0), others };
}
