import { listLiveEnvironments, type LiveEnvironment } from '../../runner/aws/environments';
import type { FleetItem } from '../../runner/ledger/schema';
import { describeError } from '../../runner/log';
import type { WorkDeps } from '../deferred/deps';
import type { EnvironmentNow } from './reminders';

/**
 * What Elastic Beanstalk says now of each fleet's environment: one DescribeEnvironments per
 * (region, application) among `fleets`, in parallel. A failed look-up is logged and reads `unknown`
 * (the fleet is then shown and reminded about as the ledger has it).
 */
export async function environmentsNow(
  deps: Pick<WorkDeps, 'elasticBeanstalk' | 'logger'>,
  fleets: readonly FleetItem[],
  why: string,
): Promise<(fleet: FleetItem) => EnvironmentNow> {
  const keyOf = (f: FleetItem) => `${f.region}\n${f.application}`;
  const lookups = new Map<string, Promise<LiveEnvironment[] | undefined>>();
  for (const f of fleets) {
    if (lookups.has(keyOf(f))) continue;
    lookups.set(
      keyOf(f),
      listLiveEnvironments(deps.elasticBeanstalk(f.region), f.application).catch((err: unknown) => {
        deps.logger.warn(`${why}_lookup_failed`, {
          region: f.region,
          application: f.application,
          error: describeError(err),
        });
        return undefined;
      }),
    );
  }
  const live = new Map<string, LiveEnvironment[] | undefined>();
  for (const [key, p] of lookups) live.set(key, await p);
  return (f) => {
    const list = live.get(keyOf(f));
    if (!list) return 'unknown';
    const env = list.find((e) => e.name === f.environment);
    if (!env) return 'gone';
    return env.updatedAt ? { updatedAt: env.updatedAt } : {};
  };
}
