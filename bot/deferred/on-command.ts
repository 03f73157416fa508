import { confirmationPrompt } from '../slack/messages';
import { checkedTargets } from './checked-targets';
import type { WorkDeps } from './deps';
import type { CommandWork } from './handoff';
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
  const value = { v: 1 as const, runId: work.runId, ...command };
  await deps.slack.tell(work, confirmationPrompt(value, checked.preview, deps.sealButton(value)));
}
