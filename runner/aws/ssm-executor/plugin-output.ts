import type { CommandInvocation, CommandPlugin } from '@aws-sdk/client-ssm';
import { SIDEKIQCTL_STEP_NAME } from '../../../ssm/documents';
import type { FinishedRun } from '../../drain/outcome';

/** The runShellScript plugin's output puts stderr after this line. */
const STDERR_MARKER = '----------ERROR-------';
/** SSM cuts a plugin's Output in a ListCommandInvocations listing at this many characters. */
export const PLUGIN_OUTPUT_LIMIT = 2_500;

/** Pure: runShellScript's combined Output → [stdout, stderr]. */
export function splitPluginOutput(output: string | undefined): [string, string] {
  if (!output) return ['', ''];
  const at = output.indexOf(STDERR_MARKER);
  if (at < 0) return [output, ''];
  return [output.slice(0, at), output.slice(at + STDERR_MARKER.length)];
}

/**
 * Pure: runShellScript's combined Output for a script's stdout and stderr, as SSM builds it —
 * stdout, then stderr after the marker line, cut at PLUGIN_OUTPUT_LIMIT characters.
 */
export function joinPluginOutput(stdout: string, stderr: string): string {
  return `${stdout}${stderr ? `\n${STDERR_MARKER}\n${stderr}` : ''}`.slice(0, PLUGIN_OUTPUT_LIMIT);
}

/** Pure: the sidekiqctl step's plugin in a listed invocation (the first plugin if none has its name). */
export function stepPlugin(inv: CommandInvocation): CommandPlugin | undefined {
  return inv.CommandPlugins?.find((p) => p.Name === SIDEKIQCTL_STEP_NAME) ?? inv.CommandPlugins?.[0];
}

/** Pure: a finished invocation as its listing shows it, the plugin's output split into stdout and stderr. */
export function listedRun(inv: CommandInvocation, plugin: CommandPlugin | undefined): FinishedRun {
  const [stdout, stderr] = splitPluginOutput(plugin?.Output);
  return {
    status: inv.Status ?? 'Failed',
    ...(inv.StatusDetails ? { statusDetails: inv.StatusDetails } : {}),
    ...(plugin?.ResponseCode !== undefined ? { exitCode: plugin.ResponseCode } : {}),
    stdout,
    stderr,
  };
}
