import { describeError } from '../../runner/log';
import type { WorkDeps } from './deps';
import { newErrorId } from '../../runner/error-id';
import type { Work } from './handoff';
import { runButtonWork } from './on-button';
import { answerCanceller, runCancelWork } from './cancel-run';
import { runCommandWork } from './on-command';
import { answerHistory } from '../memory/history';
import { publishHome } from '../memory/home';

/** Runs one piece of handed-off work. Never throws: failures are told to the person and logged. */
export async function runWork(deps: WorkDeps, work: Work): Promise<void> {
  try {
    // A request button is the clicker typing the command: the same door, the same prompt.
    if (work.kind === 'command' || work.kind === 'request') await runCommandWork(deps, work);
    else if (work.kind === 'button') await runButtonWork(deps, work);
    else if (work.kind === 'cancel') await runCancelWork(deps, work);
    else if (work.kind === 'home') await publishHome(deps, work);
    else await answerHistory(deps, work);
  } catch (err) {
    const errorId = newErrorId();
    deps.logger.error('work_failed', { kind: work.kind, errorId, error: describeError(err) });
    // The Home tab has nobody to tell through a response URL; the failure is logged.
    if (work.kind === 'home') return;
    try {
      const text = `:x: Something went wrong; nothing more was done. The logs have the details (error id \`${errorId}\`).`;
      if (work.kind === 'cancel') await answerCanceller(deps, work, { text });
      else await deps.slack.tell(work, { text });
    } catch (tellErr) {
      deps.logger.error('tell_failed', { error: describeError(tellErr) });
    }
  }
}
