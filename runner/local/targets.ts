import { hostname } from 'node:os';
import type { TargetPlan, TargetQuery, TargetSource } from '../drain/targets';

/**
 * `snowwhite --local`: the only instance is this host, in one environment named by the caller (after
 * the query by default) so the summary reads like a fleet run; there is nothing to match or to find
 * unreachable.
 */
export class LocalHostTargets implements TargetSource {
  constructor(
    private readonly environment?: string,
    private readonly host: string = hostname(),
  ) {}

  async resolve(query: TargetQuery): Promise<TargetPlan> {
    const name = this.environment ?? `${query.application}/${query.envPattern} (this host)`;
    return {
      environments: [
        {
          name,
          reachable: [{ instanceId: this.host, environment: name }],
          unreachable: [],
        },
      ],
      otherEnvironments: [],
    };
  }
}
