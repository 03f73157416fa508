import { refusalText } from '../auth/rules';
import type { CommandWork } from './handoff';
import { describeError } from '../../runner/log';
import { previewTargets } from './preview';
import { confirmationPrompt, noTargetsText } from '../slack/messages';
import { startRun } from './start-run';
import type { WorkDeps } from './run-work';

/** The slow half of `/snowwhite <action> …`: authorize, preview, then prompt (or, for status, launch). */
export async function runCommandWork(deps: WorkDeps, work: CommandWork): Promise<void> {
  const { command } = work;
  const decision = await deps.authorize({ slackUserId: work.slackUserId, ...command });
  if (!decision.allowed) return deps.slack.tell(work, { text: refusalText(decision, command.action) });

  let preview;
  try {
    preview = await previewTargets(deps.elasticBeanstalk(command.region), command);
  } catch (err) {
    deps.logger.warn('preview_failed', { runId: work.runId, error: describeError(err) });
    return deps.slack.tell(work, {
      text: `:x: Could not list the environments of *${command.application}* in ${command.region} (${describeError(err)}). Nothing was launched.`,
    });
  }
  if (preview.environments.length === 0) return deps.slack.tell(work, { text: noTargetsText(command) });

  if (command.action === 'status')
    return startRun(deps, {
      runId: work.runId,
      slackUserId: work.slackUserId,
      iamUserName: decision.iamUser.userName,
      command,
      preview,
      reply: work,
      replacePrompt: false,
    });
  await deps.slack.tell(work, confirmationPrompt({ v: 1, runId: work.runId, ...command }, preview));
}
