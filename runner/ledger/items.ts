import type { Action } from '../../ssm/actions';
import type { InstanceOutcome, OutcomeKind } from '../drain/outcome';
import type { RunRequest } from '../request';
import {
  fleetKey,
  NOT_AWAKE,
  RECENT,
  RUN_RETENTION_SECONDS,
  runKey,
  userKey,
  type FleetItem,
  type FleetState,
  type RunItem,
} from './schema';

// Pure: the items the bot and the runner write, from what they know. Times are epoch milliseconds.

const iso = (ms: number) => new Date(ms).toISOString();
export const expiresAtFor = (nowMs: number) => Math.floor(nowMs / 1000) + RUN_RETENTION_SECONDS;

/** What a run item says about the request, whoever writes it first (the bot at launch, or the runner). */
export function runIdentity(
  request: Pick<
    RunRequest,
    'runId' | 'action' | 'envPattern' | 'application' | 'region' | 'requestedBy' | 'slack'
  >,
) {
  return {
    pk: runKey(request.runId),
    kind: 'run' as const,
    runId: request.runId,
    action: request.action,
    envPattern: request.envPattern,
    application: request.application,
    region: request.region,
    iamUserName: request.requestedBy.iamUserName,
    ...(request.requestedBy.slackUserId ? { slackUserId: request.requestedBy.slackUserId } : {}),
    ...(request.slack ? { channel: request.slack.channel, threadTs: request.slack.threadTs } : {}),
    gsiUser: userKey(request.requestedBy),
    gsiRecent: RECENT,
  };
}

/** The bot's item at launch: written once (conditional put), so a replayed launch changes nothing. */
export function launchedRunItem(
  request: Parameters<typeof runIdentity>[0],
  launch: {
    taskArn: string;
    permalink?: string;
    locked?: readonly string[];
    commandIds?: readonly string[];
    nowMs: number;
  },
): RunItem & { gsiUser: string; gsiRecent: string } {
  return {
    ...runIdentity(request),
    taskArn: launch.taskArn,
    ...(launch.permalink ? { permalink: launch.permalink } : {}),
    // Whoever ends the run (the runner, Cancel, the reconciliation) gives these locks back.
    ...(launch.locked?.length ? { locked: [...launch.locked] } : {}),
    ...(launch.commandIds?.length ? { commandIds: [...launch.commandIds] } : {}),
    state: 'launched',
    startedAt: iso(launch.nowMs),
    updatedAt: iso(launch.nowMs),
    expiresAt: expiresAtFor(launch.nowMs),
  };
}

export function countOutcomes(outcomes: readonly InstanceOutcome[]): Partial<Record<OutcomeKind, number>> {
  const counts: Partial<Record<OutcomeKind, number>> = {};
  for (const o of outcomes) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

/**
 * Pure: the state each environment was left in by a finished run, where the run changed it.
 * - quiet / stop: the action took effect on at least one instance (drained, or quiet but still busy
 *   at the deadline). Even a partial success leaves workers not taking jobs, which is exactly what a
 *   reminder is for. A stop where some instance is still busy (quiet, not stopped) counts as quiet.
 * - wake: every instance woke. A half-woken fleet stays "not awake" and keeps being reminded.
 * - status, or no instance where it took effect: nothing changes.
 */
export function fleetStatesAfter(
  action: Action,
  outcomes: readonly InstanceOutcome[],
): Array<{ environment: string; state: FleetState }> {
  if (action === 'status') return [];
  const byEnv = new Map<string, InstanceOutcome[]>();
  for (const o of outcomes) byEnv.set(o.environment, [...(byEnv.get(o.environment) ?? []), o]);
  const changes: Array<{ environment: string; state: FleetState }> = [];
  for (const [environment, list] of [...byEnv].sort(([a], [b]) => a.localeCompare(b))) {
    const drained = list.filter((o) => o.kind === 'drained').length;
    // A refused stop may have quieted first: like a deadline, the workers may take no jobs.
    const busy = list.filter((o) => o.kind === 'busy_at_deadline' || o.kind === 'refused').length;
    if (action === 'wake') {
      if (drained === list.length) changes.push({ environment, state: 'awake' });
    } else if (drained + busy > 0) {
      changes.push({ environment, state: action === 'stop' && busy === 0 ? 'stopped' : 'quiet' });
    }
  }
  return changes;
}

/** A fleet item, rewritten whole on each state change (which also resets its reminder bookkeeping). */
export function fleetItem(
  run: Pick<
    RunItem,
    | 'runId'
    | 'action'
    | 'application'
    | 'region'
    | 'iamUserName'
    | 'slackUserId'
    | 'channel'
    | 'threadTs'
    | 'permalink'
  > & { startedAt?: string | undefined },
  change: { environment: string; state: FleetState },
  nowMs: number,
): FleetItem {
  const where = { region: run.region, application: run.application, environment: change.environment };
  return {
    pk: fleetKey(where),
    kind: 'fleet',
    ...where,
    state: change.state,
    since: iso(nowMs),
    runId: run.runId,
    ...(run.startedAt ? { runStartedAt: run.startedAt } : {}),
    action: run.action,
    iamUserName: run.iamUserName,
    ...(run.slackUserId ? { slackUserId: run.slackUserId } : {}),
    ...(run.channel && run.threadTs ? { channel: run.channel, threadTs: run.threadTs } : {}),
    ...(run.permalink ? { permalink: run.permalink } : {}),
    // Only fleets not awake are in the notAwake index; awake ones expire like runs.
    ...(change.state === 'awake' ? { expiresAt: expiresAtFor(nowMs) } : { gsiNotAwake: NOT_AWAKE }),
  };
}

/**
 * Pure: what a quiet or stop that did not finish (cancelled, interrupted, dead) leaves: every
 * environment it named or locked, possibly quiet. Other actions leave nothing to undo.
 */
export function possiblyQuietAfter(
  run: Pick<RunItem, 'action' | 'environments' | 'locked'>,
): Array<{ environment: string; state: FleetState }> {
  if (run.action !== 'quiet' && run.action !== 'stop') return [];
  const names = [...new Set([...(run.environments ?? []), ...(run.locked ?? [])])].sort();
  return names.map((environment) => ({ environment, state: 'possibly_quiet' as const }));
}
