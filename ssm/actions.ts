/** What sidekiqctl.sh can do; each action has its own SSM document, so IAM can allow one without the others. */
export const ACTIONS = ['quiet', 'stop', 'wake', 'status'] as const;
export type Action = (typeof ACTIONS)[number];

/** Values for the script's per-run flags; a document passes SSM parameter references such as `{{drainTimeout}}`. */
export interface ScriptArgumentValues {
  drainTimeout: string;
  match?: string;
  /** `systemd:UNIT`, `supervisord:PROGRAM`, `runit:DIR` or `none`; empty: found per process. */
  supervisor?: string;
  restartCommand?: string;
}

/** Which flags each action takes: the one table both the SSM documents and `snowwhite --local` build arguments from. */
const FLAGS: Record<Action, { timeout: boolean; supervisor: boolean; restartCommand: boolean }> = {
  quiet: { timeout: true, supervisor: false, restartCommand: false },
  stop: { timeout: true, supervisor: true, restartCommand: false },
  wake: { timeout: false, supervisor: true, restartCommand: true },
  status: { timeout: false, supervisor: false, restartCommand: false },
};

/** sidekiqctl.sh's argument list for an action (a flag with no value is left out). */
export function sidekiqctlArgs(action: Action, values: ScriptArgumentValues): string[] {
  const flags = FLAGS[action];
  const args: string[] = [action];
  if (flags.timeout) args.push('--timeout', values.drainTimeout);
  if (values.match !== undefined) args.push('--match', values.match);
  if (flags.supervisor && values.supervisor !== undefined) args.push('--supervisor', values.supervisor);
  if (flags.restartCommand && values.restartCommand !== undefined)
    args.push('--restart-command', values.restartCommand);
  return args;
}
