import { confirmationPrompt } from '../slack/messages';
import { checkedTargets } from './checked-targets';
import type { WorkDeps } from './deps';
import type { CommandWork } from './handoff';
import { checkUnlocked } from './run-locks';
import { startRun } from './start-run';

/** The slow half of `/snowwhite <action> …`: authorize, preview, then prompt (or, for status, launch). */
export async function runCommandWork(deps: WorkDeps, work: CommandWork): Promise<void> {
  const { command } = work;
  const checked = await checkedTargets(deps, work, command, false);
  if (!checked) return;
  if (command.action === 'status')
    return startRun(deps, {
      runId: work.runId,
      slackUserId: work.slackUserId,
      iamUserName: checked.iamUserName,
      command,
      preview: checked.preview,
      reply: work,
      replacePrompt: false,
    });
  // Another run acting on the same workers: said now, not only at Confirm.
  const environments = checked.preview.environments.map((e) => e.name);
  if (!(await checkUnlocked(deps, work, command, environments))) return;
  const value = { v: 1 as const, runId: work.runId, ...command };
  await deps.slack.tell(work, confirmationPrompt(value, checked.preview, deps.sealButton(value)));
}
