import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  type ElasticBeanstalkClient,
  type EnvironmentDescription,
} from '@aws-sdk/client-elastic-beanstalk';
import pLimit from 'p-limit';
import { matchesPattern } from '../../runner/aws/eb-targets';
import { withThrottlingRetry } from '../throttling';

/**
 * The targets a run would touch: the application's environments whose name contains the pattern
 * (case-insensitive), with their instance counts.
 */
export interface TargetEnvironment {
  name: string;
  id: string;
  status: string;
  health?: string;
  instanceCount: number;
}
export interface TargetPreview {
  environments: TargetEnvironment[];
  totalInstances: number;
}

/** Pure: which of the described environments the pattern selects (terminated ones never), by the runner's own rule. */
export function matchEnvironments(
  environments: readonly EnvironmentDescription[],
  envPattern: string,
): EnvironmentDescription[] {
  return environments
    .filter((e) => e.EnvironmentName && e.EnvironmentId)
    .filter((e) => e.Status !== 'Terminated' && e.Status !== 'Terminating')
    .filter((e) => matchesPattern(e.EnvironmentName!, envPattern))
    .sort((a, b) => a.EnvironmentName!.localeCompare(b.EnvironmentName!));
}

export async function previewTargets(
  eb: ElasticBeanstalkClient,
  target: { application: string; envPattern: string },
  concurrency = 5,
): Promise<TargetPreview> {
  const all: EnvironmentDescription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await withThrottlingRetry(() =>
      eb.send(
        new DescribeEnvironmentsCommand({
          ApplicationName: target.application,
          IncludeDeleted: false,
          NextToken: nextToken,
        }),
      ),
    );
    all.push(...(page.Environments ?? []));
    nextToken = page.NextToken;
  } while (nextToken);

  const limit = pLimit(concurrency);
  const environments = await Promise.all(
    matchEnvironments(all, target.envPattern).map((e) =>
      limit(async () => {
        const res = await withThrottlingRetry(() =>
          eb.send(new DescribeEnvironmentResourcesCommand({ EnvironmentId: e.EnvironmentId })),
        );
        return {
          name: e.EnvironmentName!,
          id: e.EnvironmentId!,
          status: e.Status ?? 'Unknown',
          ...(e.Health ? { health: e.Health } : {}),
          instanceCount: res.EnvironmentResources?.Instances?.length ?? 0,
        };
      }),
    ),
  );
  return { environments, totalInstances: environments.reduce((n, e) => n + e.instanceCount, 0) };
}
