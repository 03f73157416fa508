/** One instance a run acts on. */
export interface Target {
  instanceId: string;
  /** The Elastic Beanstalk environment (or any group name) the instance belongs to. */
  environment: string;
}

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
  /**
   * Work already handed over for the reachable targets (SSM commands the bot sent): the executor
   * follows these instead of starting anything.
   */
  sent?: SentWork[];
}

/** One unit of work already started (an SSM command id) and the instances it runs on. */
export interface SentWork {
  handle: string;
  instanceIds: readonly string[];
}

/**
 * Where a run acts: the environments matching the request and, in each, the instances that can run
 * the command and those that cannot (reported, never waited on). Elastic Beanstalk + SSM on AWS;
 * this host for `snowwhite --local`.
 */
export interface TargetSource {
  resolve(query: TargetQuery): Promise<TargetPlan>;
}

/**
 * The one environment-matching rule, as the slash command documents: `=NAME[,NAME…]` selects exactly
 * the environments named (name case-insensitive, or id), anything else is a case-insensitive part of
 * the name.
 */
export function matchesPattern(envName: string, pattern: string, envId?: string): boolean {
  if (pattern.startsWith('=')) {
    const wanted = pattern.slice(1).split(',');
    return wanted.some(
      (w) => w.toLowerCase() === envName.toLowerCase() || (envId !== undefined && w === envId),
    );
  }
  return envName.toLowerCase().includes(pattern.toLowerCase());
}

/** Pure: the plan narrowed to `instanceIds` (a Retry); environments left with none are dropped. */
export function onlyInstances(plan: TargetPlan, instanceIds: readonly string[] | undefined): TargetPlan {
  if (!instanceIds) return plan;
  const wanted = new Set(instanceIds);
  const environments = plan.environments
    .map((e) => ({
      ...e,
      reachable: e.reachable.filter((t) => wanted.has(t.instanceId)),
      unreachable: e.unreachable.filter((t) => wanted.has(t.instanceId)),
    }))
    .filter((e) => e.reachable.length + e.unreachable.length > 0);
  return { ...plan, environments };
}
