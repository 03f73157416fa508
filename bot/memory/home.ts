import { MAX_EXECUTION_TIMEOUT_SECONDS } from '../../runner/request';
import { DEFAULT_DEADLINE_MARGIN_SECONDS } from '../../runner/drain/run';
import { describeError } from '../../runner/log';
import { identify } from '../auth/rules';
import type { WorkDeps } from '../deferred/deps';
import type { HomeWork } from '../deferred/handoff';
import type { FleetItem } from '../../runner/ledger/schema';
import { environmentsNow } from './fleet-environments';
import { redeployedSince } from './reminders';
import { homeView, type HomeState } from './view';

/** A run started longer ago than this has ended, whatever its item says (its runner was lost). */
export const IN_PROGRESS_WINDOW_SECONDS =
  MAX_EXECUTION_TIMEOUT_SECONDS + DEFAULT_DEADLINE_MARGIN_SECONDS + 600;

const RECENT_RUNS = 10;
const MY_RUNS = 5;

/**
 * App Home: four Queries (no Scan) and one DescribeEnvironments per application with a fleet not
 * awake, then views.publish; a ledger failure still publishes a view that says so.
 */
export async function publishHome(deps: WorkDeps, work: HomeWork): Promise<void> {
  const nowMs = deps.nowMs();
  const state = await homeStateFor(deps, work, nowMs);
  await deps.slack.publishHome(work.slackUserId, homeView(state, nowMs));
  deps.logger.info('home_published', { slackUserId: work.slackUserId, view: state.kind });
}

/**
 * The person first, as at every door: only a Slack user mapped to exactly one IAM user sees the
 * fleets and runs (names of environments, who ran what); anyone else sees how to get mapped.
 */
async function homeStateFor(deps: WorkDeps, work: HomeWork, nowMs: number): Promise<HomeState> {
  let users;
  try {
    users = await deps.directory.usersFor(work.slackUserId);
  } catch (err) {
    deps.logger.warn('home_refused', { slackUserId: work.slackUserId, error: describeError(err) });
    return { kind: 'identity-unknown' };
  }
  const identity = identify(work.slackUserId, users);
  if (!identity.ok) {
    deps.logger.info('home_refused', { slackUserId: work.slackUserId, reason: identity.decision.reason });
    return { kind: 'not-mapped', slackUserId: work.slackUserId, detail: identity.decision.detail };
  }
  let state: HomeState;
  if (!deps.ledger) state = { kind: 'not-configured' };
  else {
    const ledger = deps.ledger;
    try {
      const [fleets, inProgress, mine, recent] = await Promise.all([
        ledger.notAwakeFleets(),
        ledger.runsInProgress(nowMs, IN_PROGRESS_WINDOW_SECONDS),
        ledger.runsOf(work.slackUserId, MY_RUNS),
        ledger.recentRuns(RECENT_RUNS),
      ]);
      fleets.sort((a, b) => a.since.localeCompare(b.since));
      state = {
        kind: 'ok',
        data: { fleets, redeployedAt: await redeployedFleets(deps, fleets), inProgress, mine, recent },
      };
    } catch (err) {
      deps.logger.warn('home_read_failed', { slackUserId: work.slackUserId, error: describeError(err) });
      state = { kind: 'unavailable' };
    }
  }
  return state;
}

/**
 * The fleets whose environment was redeployed since Snow White left them quiet or stopped, read from
 * Elastic Beanstalk each time Home opens rather than written to the ledger as awake: the ledger keeps
 * what Snow White did, and a configuration update also moves DateUpdated without always restarting
 * the workers, so "awake" would be a guess recorded as a fact, and the fleet would leave Home for good.
 */
async function redeployedFleets(deps: WorkDeps, fleets: FleetItem[]): Promise<Record<string, string>> {
  const now = await environmentsNow(deps, fleets, 'home');
  const out: Record<string, string> = {};
  for (const f of fleets) {
    const at = redeployedSince(f, now(f));
    if (at) out[f.pk] = at.toISOString();
  }
  return out;
}
