import { confirmationPrompt, instancesGoneText, tooManyEnvironmentsText } from '../slack/messages';
import { checkedTargets } from './checked-targets';
import type { WorkDeps } from './deps';
import type { CommandWork } from './handoff';
import { bindingOf, MAX_PROMPT_ENVIRONMENTS, narrowPreview } from './preview-binding';
import { checkUnlocked } from './run-locks';
import { answerStatus } from './status-answer';

/** The slow half of `/snowwhite <action> …`: authorize, preview, then prompt (or, for status, answer). */
export async function runCommandWork(deps: WorkDeps, work: CommandWork): Promise<void> {
  const { command } = work;
  const startedAt = deps.clock.now();
  const checked = await checkedTargets(deps, work, command, false);
  if (!checked) return;
  // A Retry names instances: the prompt, the binding and the commands are about those alone.
  const preview = narrowPreview(checked.preview, command.instanceIds);
  if (preview.environments.length === 0)
    return deps.slack.tell(work, { text: instancesGoneText(command.action) });
  if (command.action === 'status')
    return answerStatus(deps, { work, iamUserName: checked.iamUserName, preview, startedAt });
  if (preview.environments.length > MAX_PROMPT_ENVIRONMENTS)
    return deps.slack.tell(work, { text: tooManyEnvironmentsText(command, preview.environments.length) });
  // Another run acting on the same workers: said now, not only at Confirm.
  const environments = preview.environments.map((e) => e.name);
  if (!(await checkUnlocked(deps, work, command, environments))) return;
  const value = { v: 1 as const, runId: work.runId, ...command, previewed: bindingOf(preview) };
  await deps.slack.tell(work, confirmationPrompt(value, preview, deps.sealButton(value)));
}
