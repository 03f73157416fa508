import type { Action } from '../../ssm/actions';

/** Slack failed after RunTask: the runner runs all the same, and this says so (with Cancel below it). */
export const launchedDespiteText = (action: Action, runId: string, errorId: string) =>
  `:warning: A Snow White runner *was launched* for your \`${action}\` (run \`${runId}\`), but Slack failed while announcing it (error id \`${errorId}\`). It is running: follow it in App Home, or cancel it here.`;
