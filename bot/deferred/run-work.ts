import { describeError } from '../../runner/log';
import type { WorkDeps } from './deps';
import { newErrorId } from './error-id';
import type { Work } from './handoff';
import { runButtonWork } from './on-button';
import { runCommandWork } from './on-command';

/** Runs one piece of handed-off work. Never throws: failures are told to the person and logged. */
export async function runWork(deps: WorkDeps, work: Work): Promise<void> {
  try {
    if (work.kind === 'command') await runCommandWork(deps, work);
    else await runButtonWork(deps, work);
  } catch (err) {
    const errorId = newErrorId();
    deps.logger.error('work_failed', { kind: work.kind, errorId, error: describeError(err) });
    try {
      await deps.slack.tell(work, {
        text: `:x: Something went wrong; nothing more was done. The logs have the details (error id \`${errorId}\`).`,
      });
    } catch (tellErr) {
      deps.logger.error('tell_failed', { error: describeError(tellErr) });
    }
  }
}
