import { sidekiqctlArgs, type Action } from './actions';

/** The document's one step; GetCommandInvocation needs it as PluginName to return that step's output. */
export const SIDEKIQCTL_STEP_NAME = 'sidekiqctl';
export const DEFAULT_EXECUTION_TIMEOUT = 7200;
export const MAX_EXECUTION_TIMEOUT = 172800;

export interface SsmCommandDocument {
  schemaVersion: '2.2';
  description: string;
  parameters: Record<
    string,
    { type: 'String'; description: string; default: string; allowedPattern: string }
  >;
  mainSteps: Array<{
    action: 'aws:runShellScript';
    name: string;
    precondition: { StringEquals: ['platformType', 'Linux'] };
    inputs: { timeoutSeconds: string; runCommand: string[] };
  }>;
}

const HEREDOC_END = 'SNOWWHITE_SIDEKIQCTL_EOF';
/** sidekiqctl.sh's --supervisor values; no quote or shell character can pass (it is substituted into sh). */
export const SUPERVISOR_PATTERN =
  '^$|^none$|^systemd:[A-Za-z0-9@:._-]{1,200}$|^supervisord:[A-Za-z0-9:._-]{1,200}$|^runit:/[A-Za-z0-9/._-]{1,200}$';

/** The script's flags take the document's parameters; SSM substitutes them into the shell text. */
const PARAMETER_REFERENCES = { drainTimeout: '{{drainTimeout}}', supervisor: '{{supervisor}}' };

/** A parameter reference is single-quoted: its value may be empty, and its allowedPattern admits no quote. */
const shellWord = (word: string): string => (word.includes('{{') ? `'${word}'` : word);

const DESCRIPTIONS: Record<Action, string> = {
  quiet: 'Snow White: quiet every Sidekiq process (no new jobs) and wait until the jobs in flight finish.',
  stop: 'Snow White: quiet every Sidekiq process, wait until idle, then shut it down. Never kills a busy worker.',
  wake: 'Snow White: restart quiet or stopped Sidekiq processes; leaves awake ones alone.',
  status: 'Snow White: report the busy/quiet state of every Sidekiq process; changes nothing.',
};

/**
 * The script as a document embeds it: without its whole-line comments and blank lines (a third of its
 * size), which keeps the documents well under SSM's 64 KB limit as the script grows. Lines inside a
 * heredoc are kept as they are. The script has one multi-line string (`NL`, a newline), with no
 * comment inside; a new one would need this to know about it.
 */
export function embeddedScript(scriptText: string): string {
  const out: string[] = [];
  let heredocEnd: string | undefined;
  for (const [i, line] of scriptText.replace(/\n$/, '').split('\n').entries()) {
    if (heredocEnd !== undefined) {
      out.push(line);
      if (line.replace(/^\t+/, '') === heredocEnd) heredocEnd = undefined;
      continue;
    }
    const comment = /^\s*#/.test(line);
    if (i === 0 || !(comment || line.trim() === '')) out.push(line);
    if (!comment) heredocEnd = /<<-?\s*['"]?(\w+)['"]?\s*$/.exec(line)?.[1] ?? undefined;
  }
  return `${out.join('\n')}\n`;
}

/**
 * The SSM Command document of one action: one per action, so IAM can allow one action without the
 * others. It embeds `scriptText` (ssm/sidekiqctl.sh, as `embeddedScript` gives it) itself: nothing is
 * downloaded on the instance at run time.
 */
export function sidekiqctlDocument(action: Action, scriptText: string): SsmCommandDocument {
  // SSM substitutes {{…}} anywhere in runCommand, and the heredoc must end only where we end it.
  if (scriptText.includes('{{'))
    throw new Error('sidekiqctl.sh must not contain "{{" (SSM parameter syntax)');
  if (scriptText.split('\n').includes(HEREDOC_END))
    throw new Error(`sidekiqctl.sh must not contain a line ${HEREDOC_END}`);
  const scriptLines = embeddedScript(scriptText).replace(/\n$/, '').split('\n');
  return {
    schemaVersion: '2.2',
    description: DESCRIPTIONS[action],
    parameters: {
      drainTimeout: {
        type: 'String',
        description: 'Seconds to wait for the jobs in flight to finish before giving up (nothing is killed).',
        default: '3600',
        allowedPattern: '^[1-9][0-9]{0,5}$',
      },
      supervisor: {
        type: 'String',
        description:
          'Who runs Sidekiq, when discovery is not enough: systemd:UNIT, supervisord:PROGRAM, runit:DIR or none. Empty: found per process.',
        default: '',
        allowedPattern: SUPERVISOR_PATTERN,
      },
      executionTimeout: {
        type: 'String',
        description: `Seconds before SSM stops the command (at most ${MAX_EXECUTION_TIMEOUT}); must exceed drainTimeout.`,
        default: String(DEFAULT_EXECUTION_TIMEOUT),
        allowedPattern: '^([1-9][0-9]{0,4}|1[0-6][0-9]{4}|17[0-1][0-9]{3}|172[0-7][0-9]{2}|172800)$',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: SIDEKIQCTL_STEP_NAME,
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: {
          timeoutSeconds: '{{executionTimeout}}',
          runCommand: [
            'set -eu',
            'dir=$(mktemp -d)',
            `cat > "$dir/sidekiqctl.sh" <<'${HEREDOC_END}'`,
            ...scriptLines,
            HEREDOC_END,
            'status=0',
            `sh "$dir/sidekiqctl.sh" ${sidekiqctlArgs(action, PARAMETER_REFERENCES).map(shellWord).join(' ')} || status=$?`,
            'rm -rf "$dir"',
            'exit "$status"',
          ],
        },
      },
    ],
  };
}

/** The shell text SSM would run for a document, parameters substituted (used by tests and the local executor). */
export function renderRunCommand(doc: SsmCommandDocument, parameters: Record<string, string>): string {
  const values = Object.fromEntries(
    Object.entries(doc.parameters).map(([name, p]) => [name, parameters[name] ?? p.default]),
  );
  for (const [name, value] of Object.entries(values)) {
    const pattern = doc.parameters[name]?.allowedPattern;
    if (pattern && !new RegExp(pattern).test(value))
      throw new Error(`parameter ${name} does not match ${pattern}`);
  }
  const step = doc.mainSteps[0];
  if (!step) throw new Error('document has no step');
  return step.inputs.runCommand.join('\n').replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`document uses unknown parameter {{${name}}}`);
    return v;
  });
}
