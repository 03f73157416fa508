import { randomUUID } from 'node:crypto';
import { alreadyLaunchedText, cancelledText, confirmationPrompt } from '../slack/messages';
import { checkedTargets } from './checked-targets';
import { actOnConfirmed } from './confirmed-run';
import type { WorkDeps } from './deps';
import type { ButtonWork } from './handoff';
import { bindingOf, compareBinding, MAX_PROMPT_ENVIRONMENTS, narrowPreview } from './preview-binding';
import { takeLocks, takesLocks } from './run-locks';

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
  const { previewed, v: _v, runId: _runId, ...command } = value;
  const preview = narrowPreview(checked.preview, command.instanceIds);

  // Only what the prompt showed: an environment or instance added or gone since means a new prompt.
  const change = compareBinding(previewed, preview);
  if (change) {
    deps.logger.info('confirm_refused_targets_changed', {
      runId: value.runId,
      slackUserId: work.slackUserId,
      added: change.added,
      gone: change.gone,
      changed: change.changed,
    });
    if (preview.environments.length === 0 || preview.environments.length > MAX_PROMPT_ENVIRONMENTS)
      return deps.slack.tell(work, confirmationPrompt(value, preview, undefined, change), { replace: true });
    // A new run id: a run id always stands for one set of targets.
    const fresh = { v: 1 as const, runId: randomUUID(), ...command, previewed: bindingOf(preview) };
    return deps.slack.tell(work, confirmationPrompt(fresh, preview, deps.sealButton(fresh), change), {
      replace: true,
    });
  }

  // One state-changing run per environment: taken before any command is sent or anything posted.
  const locked = preview.environments.map((e) => e.name);
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
  await actOnConfirmed(deps, {
    locked: takesLocks(value.action) ? locked : [],
    runId: value.runId,
    slackUserId: work.slackUserId,
    iamUserName: checked.iamUserName,
    command,
    preview,
    reply: work,
    replacePrompt: true,
  });
}
