import type { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import pLimit from 'p-limit';
import { instancesOf, matchingEnvironments } from '../../runner/aws/environments';

/** An environment a run would touch, with its instance count (what the prompt lists). */
export interface TargetEnvironment {
  name: string;
  id: string;
  status: string;
  health?: string;
  instanceCount: number;
  /** The EC2 instances now (authorization asks about each). */
  instanceIds: string[];
}
export interface TargetPreview {
  environments: TargetEnvironment[];
  totalInstances: number;
}

/** The application's live environments whose name contains the pattern, by the runner's own lister and rule. */
export async function previewTargets(
  eb: ElasticBeanstalkClient,
  target: { application: string; envPattern: string },
  concurrency = 5,
): Promise<TargetPreview> {
  const { matching } = await matchingEnvironments(eb, target);
  const limit = pLimit(concurrency);
  const environments = await Promise.all(
    matching.map((e) =>
      limit(async () => {
        const instanceIds = await instancesOf(eb, e.id);
        return { ...e, instanceIds, instanceCount: instanceIds.length };
      }),
    ),
  );
  return { environments, totalInstances: environments.reduce((n, e) => n + e.instanceCount, 0) };
}
