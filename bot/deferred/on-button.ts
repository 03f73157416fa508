import { alreadyLaunchedText, cancelledText } from '../slack/messages';
import { checkedTargets } from './checked-targets';
import type { WorkDeps } from './deps';
import type { ButtonWork } from './handoff';
import { takeLocks } from './run-locks';
import { startRun } from './start-run';

/** The slow half of a Confirm or Cancel click. */
export async function runButtonWork(deps: WorkDeps, work: ButtonWork): Promise<void> {
  const { value } = work;
  if (work.choice === 'cancel') {
    deps.logger.info('cancelled', { runId: value.runId, slackUserId: work.slackUserId });
    return deps.slack.tell(work, { text: cancelledText(value) }, { replace: true });
  }
  const done = deps.memo.get(value.runId);
  if (done?.taskArn) return deps.slack.tell(work, { text: alreadyLaunchedText(value.action) });

  // The person who clicked is authorized again, on the targets as they are now (the prompt may be
  // old; tags, policies and environments change).
  const checked = await checkedTargets(deps, { ...work, runId: value.runId }, value, true);
  if (!checked) return;
  // One state-changing run per environment: taken before anything is posted or sent.
  const locked = checked.preview.environments.map((e) => e.name);
  const owner = {
    runId: value.runId,
    action: value.action,
    region: value.region,
    application: value.application,
    iamUserName: checked.iamUserName,
    slackUserId: work.slackUserId,
    drainTimeoutSeconds: value.drainTimeoutSeconds,
  };
  if (!(await takeLocks(deps, work, owner, locked))) return;
  await startRun(deps, {
    locked: value.action === 'status' ? [] : locked,
    runId: value.runId,
    slackUserId: work.slackUserId,
    iamUserName: checked.iamUserName,
    command: value,
    preview: checked.preview,
    reply: work,
    replacePrompt: true,
  });
}
