import { hostname } from 'node:os';
import type { TargetPlan, TargetQuery, TargetSource } from '../drain/targets';

/**
 * `snowwhite --local`: the only instance is this host. The environment is named after the query
 * so the summary reads like a fleet run; there is nothing to match or to find unreachable.
 */
export class LocalHostTargets implements TargetSource {
  constructor(private readonly host: string = hostname()) {}

  async resolve(query: TargetQuery): Promise<TargetPlan> {
    return {
      environments: [
        {
          name: `${query.application}/${query.envPattern} (this host)`,
          reachable: [
            { instanceId: this.host, environment: `${query.application}/${query.envPattern} (this host)` },
          ],
          unreachable: [],
        },
      ],
      otherEnvironments: [],
    };
  }
}
