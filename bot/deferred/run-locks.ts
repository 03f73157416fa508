import { lockTtlSeconds, type LockOwner } from '../../runner/ledger/locks';
import { describeError } from '../../runner/log';
import { DEFAULT_EXECUTION_TIMEOUT_SECONDS, executionTimeoutFor } from '../../runner/request';
import type { Action } from '../../ssm/actions';
import { lockedText } from '../memory/lock-text';
import type { ReplyTarget } from '../slack/out';
import type { WorkDeps } from './deps';

/** Only runs that change workers take locks; `status` is never blocked. */
export const takesLocks = (action: Action): boolean => action !== 'status';

/** The run's SSM execution timeout, which bounds how long its locks hold. */
export const executionTimeoutOf = (drainTimeoutSeconds: number | undefined): number =>
  drainTimeoutSeconds === undefined
    ? DEFAULT_EXECUTION_TIMEOUT_SECONDS
    : executionTimeoutFor(drainTimeoutSeconds);

/**
 * At the prompt: refuses (tells the person, returns false) when another run holds any of these
 * environments. Takes nothing: the lock is taken at Confirm. A failed read is told too: a run that
 * cannot see the locks does not go ahead blind.
 */
export async function checkUnlocked(
  deps: WorkDeps,
  who: ReplyTarget & { runId: string },
  what: { action: Action; region: string; application: string },
  environments: readonly string[],
): Promise<boolean> {
  if (!deps.locks || !takesLocks(what.action)) return true;
  try {
    const held = await deps.locks.heldByOthers({ ...what, runId: who.runId }, environments, deps.nowMs());
    const first = held[0];
    if (!first) return true;
    deps.logger.info('run_locked_out', { runId: who.runId, stage: 'prompt', heldBy: first.runId });
    await deps.slack.tell(who, { text: lockedText(first, first.environment, what.action, 'prompt') });
    return false;
  } catch (err) {
    deps.logger.warn('lock_check_failed', { runId: who.runId, error: describeError(err) });
    await deps.slack.tell(who, {
      text: ':x: Could not check whether another run holds these environments (the ledger did not answer). Nothing was done; try again.',
    });
    return false;
  }
}

/**
 * At Confirm: takes every environment of the run, or tells the person who holds one (and returns
 * false). The prompt stays either way, so Confirm can be pressed again once the other run is over.
 */
export async function takeLocks(
  deps: WorkDeps,
  who: ReplyTarget,
  owner: LockOwner & { drainTimeoutSeconds?: number | undefined },
  environments: readonly string[],
): Promise<boolean> {
  if (!deps.locks || !takesLocks(owner.action)) return true;
  try {
    const res = await deps.locks.acquire(owner, environments, {
      nowMs: deps.nowMs(),
      ttlSeconds: lockTtlSeconds(executionTimeoutOf(owner.drainTimeoutSeconds)),
    });
    if (res.ok) return true;
    deps.logger.info('run_locked_out', {
      runId: owner.runId,
      stage: 'confirm',
      environment: res.environment,
      heldBy: res.holder?.runId,
    });
    await deps.slack.tell(who, { text: lockedText(res.holder, res.environment, owner.action, 'confirm') });
    return false;
  } catch (err) {
    deps.logger.warn('lock_take_failed', { runId: owner.runId, error: describeError(err) });
    await deps.slack.tell(who, {
      text: ':x: Could not lock these environments for the run (the ledger did not answer). Nothing was launched; press Confirm again.',
    });
    return false;
  }
}

/** Gives the run's locks back; a failure is logged (the locks then expire on their own). */
export async function releaseLocks(
  deps: Pick<WorkDeps, 'locks' | 'logger'>,
  owner: { runId: string; region: string; application: string },
  environments: readonly string[],
): Promise<void> {
  if (!deps.locks || environments.length === 0) return;
  try {
    await deps.locks.release(owner, environments);
  } catch (err) {
    deps.logger.error('lock_release_failed', { runId: owner.runId, error: describeError(err) });
  }
}
