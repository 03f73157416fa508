import { refusalText } from '../auth/rules';
import type { ButtonWork } from './handoff';
import { describeError } from '../../runner/log';
import { previewTargets } from './preview';
import { alreadyLaunchedText, cancelledText, noTargetsText } from '../slack/messages';
import { startRun } from './start-run';
import type { WorkDeps } from './run-work';

/** The slow half of a Confirm or Cancel click. */
export async function runButtonWork(deps: WorkDeps, work: ButtonWork): Promise<void> {
  const { value } = work;
  if (work.choice === 'cancel') {
    deps.logger.info('cancelled', { runId: value.runId, slackUserId: work.slackUserId });
    return deps.slack.tell(work, { text: cancelledText(value) }, { replace: true });
  }
  const done = deps.memo.get(value.runId);
  if (done?.taskArn) return deps.slack.tell(work, { text: alreadyLaunchedText(value.action) });

  // The person who clicked is authorized again (the prompt may be old; tags and policies change).
  const decision = await deps.authorize({ slackUserId: work.slackUserId, ...value });
  if (!decision.allowed)
    return deps.slack.tell(work, { text: refusalText(decision, value.action) }, { replace: true });

  let preview;
  try {
    preview = await previewTargets(deps.elasticBeanstalk(value.region), value);
  } catch (err) {
    return deps.slack.tell(work, {
      text: `:x: Could not list the environments of *${value.application}* in ${value.region} (${describeError(err)}). Nothing was launched; press Confirm again to retry.`,
    });
  }
  if (preview.environments.length === 0)
    return deps.slack.tell(work, { text: noTargetsText(value) }, { replace: true });
  await startRun(deps, {
    runId: value.runId,
    slackUserId: work.slackUserId,
    iamUserName: decision.iamUser.userName,
    command: value,
    preview,
    reply: work,
    replacePrompt: true,
  });
}
