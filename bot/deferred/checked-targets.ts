import type { Action } from '../../ssm/actions';
import { describeError } from '../../runner/log';
import { refusalText } from '../auth/rules';
import { escapeMrkdwn, noTargetsText } from '../slack/messages';
import type { ReplyTarget } from '../slack/out';
import type { WorkDeps } from './deps';
import { previewTargets, type TargetPreview } from './preview';

export interface RunWhat {
  action: Action;
  envPattern: string;
  application: string;
  region: string;
}

/**
 * The steps every request to act goes through, typed or clicked: authorize the person, then find the
 * targets as they are now. Returns them, or tells the person why not (and returns undefined).
 * `fromPrompt`: a click on the prompt, whose refusal or empty match replaces it, and whose failed
 * look-up keeps it so Confirm can be pressed again.
 */
export async function checkedTargets(
  deps: WorkDeps,
  who: ReplyTarget & { runId: string },
  what: RunWhat,
  fromPrompt: boolean,
): Promise<{ iamUserName: string; preview: TargetPreview } | undefined> {
  const decision = await deps.authorize({ slackUserId: who.slackUserId, ...what });
  if (!decision.allowed) {
    await deps.slack.tell(who, { text: refusalText(decision, what.action) }, { replace: fromPrompt });
    return undefined;
  }
  let preview: TargetPreview;
  try {
    preview = await previewTargets(deps.elasticBeanstalk(what.region), what);
  } catch (err) {
    deps.logger.warn('preview_failed', { runId: who.runId, error: describeError(err) });
    await deps.slack.tell(who, {
      text: `:x: Could not list the environments of *${escapeMrkdwn(what.application)}* in ${what.region} (${escapeMrkdwn(describeError(err))}). Nothing was launched${fromPrompt ? '; press Confirm again to retry' : ''}.`,
    });
    return undefined;
  }
  if (preview.environments.length === 0) {
    await deps.slack.tell(who, { text: noTargetsText(what) }, { replace: fromPrompt });
    return undefined;
  }
  return { iamUserName: decision.iamUser.userName, preview };
}
