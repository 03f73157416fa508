import type { Action } from '../../ssm/actions';
import { describeError } from '../../runner/log';
import type { IamUserRef } from '../auth/iam-directory';
import { authorizationLogFields, type AuthorizationDecision } from '../auth/rules';
import { regionRefusal } from '../doors/region';
import { escapeMrkdwn, noTargetsText, refusalText } from '../slack/messages';
import type { ReplyTarget } from '../slack/out';
import type { WorkDeps } from './deps';
import { previewTargets, type TargetPreview } from '../../runner/aws/environments';

export interface RunWhat {
  action: Action;
  envPattern: string;
  application: string;
  region: string;
}

export type RunCheck =
  | { ok: true; iamUser: IamUserRef; preview: TargetPreview }
  | { ok: false; kind: 'refused'; decision: AuthorizationDecision & { allowed: false } }
  | { ok: false; kind: 'lookup_failed'; error: string }
  | { ok: false; kind: 'no_targets' };

/**
 * The one door every request to act goes through, typed, clicked (prompt, summary, App Home,
 * reminder), Cancel, or signed by the command line, with the checks in one order:
 * 1. the workspace and app (Slack: bot/slack/workspace.ts) or the installation and STS proof
 *    (command line: bot/cli/sts-identity.ts), before the request becomes work;
 * 2. the fleet regions (bot/doors/region.ts), and 3. the per-person limit, both at the door (the
 *    acknowledgement, or the command line's route), so a refusal costs nothing;
 * then here, in the slow half: the regions again (a signed hand-off may outlive a change of the
 * stack), 4. the person — the Slack user's one tagged IAM user, or the command line's principal as
 * STS vouched — and 5. the simulation on the targets as they are now.
 */
export async function checkRun(
  deps: WorkDeps,
  who: { runId: string } & ({ slackUserId: string } | { principal: IamUserRef }),
  what: RunWhat,
): Promise<RunCheck> {
  const request = { ...what, ...('slackUserId' in who ? { slackUserId: who.slackUserId } : {}) };
  const region = regionRefusal(deps.fleetRegions, what.region);
  if (region) {
    deps.logger.info('authorization', authorizationLogFields(request, region));
    return { ok: false, kind: 'refused', decision: region };
  }
  let iamUser: IamUserRef;
  if ('principal' in who) iamUser = who.principal;
  else {
    const identity = await deps.authorize.identify({ ...what, slackUserId: who.slackUserId });
    if (!identity.ok) return { ok: false, kind: 'refused', decision: identity.decision };
    iamUser = identity.iamUser;
  }
  let preview: TargetPreview;
  try {
    preview = await previewTargets(deps.elasticBeanstalk(what.region), what);
  } catch (err) {
    deps.logger.warn('preview_failed', { runId: who.runId, error: describeError(err) });
    return { ok: false, kind: 'lookup_failed', error: describeError(err) };
  }
  if (preview.environments.length === 0) return { ok: false, kind: 'no_targets' };
  const decision = await deps.authorize.permits(request, iamUser, preview.environments);
  if (!decision.allowed) return { ok: false, kind: 'refused', decision };
  return { ok: true, iamUser, preview };
}

/**
 * checkRun for Slack: returns the targets, or tells the person why not (and returns undefined).
 * `fromPrompt`: a click on the prompt, whose refusal or empty match replaces it, and whose failed
 * look-up keeps it so Confirm can be pressed again.
 */
export async function checkedTargets(
  deps: WorkDeps,
  who: ReplyTarget & { runId: string },
  what: RunWhat,
  fromPrompt: boolean,
): Promise<{ iamUserName: string; preview: TargetPreview } | undefined> {
  const checked = await checkRun(deps, { runId: who.runId, slackUserId: who.slackUserId }, what);
  if (checked.ok) return { iamUserName: checked.iamUser.userName, preview: checked.preview };
  switch (checked.kind) {
    case 'refused':
      await deps.slack.tell(
        who,
        { text: refusalText(checked.decision, what.action) },
        { replace: fromPrompt },
      );
      return undefined;
    case 'lookup_failed':
      await deps.slack.tell(who, {
        text: `:x: Could not list the environments of *${escapeMrkdwn(what.application)}* in ${what.region} (${escapeMrkdwn(checked.error)}). Nothing was launched${fromPrompt ? '; press Confirm again to retry' : ''}.`,
      });
      return undefined;
    case 'no_targets':
      await deps.slack.tell(who, { text: noTargetsText(what) }, { replace: fromPrompt });
      return undefined;
  }
}
