import type { FleetItem } from '../../runner/ledger/schema';

/**
 * When a fleet left quiet or stopped is reminded of: once it has been not awake for `afterSeconds`,
 * then at most once per `everySeconds`.
 */
export interface ReminderPolicy {
  afterSeconds: number;
  everySeconds: number;
}

export const DEFAULT_REMINDER_POLICY: ReminderPolicy = { afterSeconds: 7200, everySeconds: 14400 };

const ms = (iso: string) => Date.parse(iso);

/** Fleets due by time alone; only these need their environment looked up. */
export function reminderCandidates(
  fleets: readonly FleetItem[],
  nowMs: number,
  policy: ReminderPolicy,
): FleetItem[] {
  return fleets.filter(
    (f) =>
      f.state !== 'awake' &&
      nowMs - ms(f.since) >= policy.afterSeconds * 1000 &&
      (f.lastReminderAt === undefined || nowMs - ms(f.lastReminderAt) >= policy.everySeconds * 1000),
  );
}

/** What Elastic Beanstalk says of a fleet's environment now. */
export type EnvironmentNow = { updatedAt?: Date } | 'gone' | 'unknown';

export type SkipReason = 'redeployed' | 'gone' | 'unknown';

/**
 * When Elastic Beanstalk updated the fleet's environment after Snow White left it quiet or stopped
 * (a deploy restarts Procfile processes, so its workers are probably awake), else undefined.
 */
export function redeployedSince(fleet: FleetItem, env: EnvironmentNow): Date | undefined {
  if (typeof env === 'string' || !env.updatedAt) return undefined;
  return env.updatedAt.getTime() > ms(fleet.since) ? env.updatedAt : undefined;
}

/**
 * Pure: which of the fleets due get a reminder now: none whose environment Elastic Beanstalk updated
 * since (a deploy restarts its Procfile processes: the workers are awake again) or that is gone.
 */
export function decideReminders(
  candidates: readonly FleetItem[],
  environmentNow: (fleet: FleetItem) => EnvironmentNow,
): { remind: FleetItem[]; skip: Array<{ fleet: FleetItem; reason: SkipReason }> } {
  const remind: FleetItem[] = [];
  const skip: Array<{ fleet: FleetItem; reason: SkipReason }> = [];
  for (const fleet of candidates) {
    const env = environmentNow(fleet);
    if (env === 'gone' || env === 'unknown') skip.push({ fleet, reason: env });
    else if (redeployedSince(fleet, env)) skip.push({ fleet, reason: 'redeployed' });
    else remind.push(fleet);
  }
  return { remind, skip };
}
