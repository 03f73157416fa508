import * as z from 'zod';
import {
  applicationNameSchema,
  commandFieldsShape,
  MAX_DRAIN_TIMEOUT_SECONDS,
  parseDuration,
  regionSchema,
} from '../../runner/request';
import { formatDuration } from '../../runner/slack/text';
import { ACTIONS, type Action } from '../../ssm/actions';

export interface RunCommand {
  kind: 'run';
  action: Action;
  envPattern: string;
  application: string;
  region: z.output<typeof regionSchema>;
  /** `--timeout 4h`: how long the drain waits for busy workers (absent: the runner's default). */
  drainTimeoutSeconds?: number;
}
/** `history [application]`: the last runs, only to the asker. */
export interface HistoryCommand {
  kind: 'history';
  application?: string;
}
export type Command = { kind: 'help' } | RunCommand | HistoryCommand;
export type CommandParse = { ok: true; command: Command } | { ok: false; problems: string[] };

const runCommandSchema = z.object(commandFieldsShape);

/** Longest piece of user input echoed back in a reply. */
const ECHO_LIMIT = 40;

/** Quotes user input for a Slack reply: shortened, with mrkdwn control characters neutralised. */
export function echo(input: string): string {
  const short = [...input].length > ECHO_LIMIT ? `${[...input].slice(0, ECHO_LIMIT).join('')}…` : input;
  return `"${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, "'")}"`;
}

/**
 * Parses the text after `/snowwhite` (grammar in the usage, usage.ts). Pure: never throws, whatever the text.
 */
export function parseCommand(text: unknown): CommandParse {
  if (typeof text !== 'string') return { ok: false, problems: ['the command text is missing'] };
  const words = text.split(/\s+/u).filter((w) => w !== '');
  const [first, ...afterVerb] = words;
  const timeout = takeTimeout(afterVerb);
  if (!timeout.ok) return { ok: false, problems: [timeout.problem] };
  const rest = timeout.rest;
  if (first === undefined) return { ok: true, command: { kind: 'help' } };
  const verb = first.toLowerCase();
  if (verb === 'help') {
    return rest.length === 0
      ? { ok: true, command: { kind: 'help' } }
      : { ok: false, problems: ['help takes no arguments'] };
  }
  if (verb === 'history') {
    if (rest.length > 1)
      return {
        ok: false,
        problems: [`history takes at most 1 word after it (<eb-application>), got ${rest.length}`],
      };
    const [application] = rest;
    if (application === undefined) return { ok: true, command: { kind: 'history' } };
    const parsed = applicationNameSchema.safeParse(application);
    return parsed.success
      ? { ok: true, command: { kind: 'history', application: parsed.data } }
      : {
          ok: false,
          problems: [`${echo(application)}: ${parsed.error.issues[0]?.message ?? 'not an application name'}`],
        };
  }
  if (!(ACTIONS as readonly string[]).includes(verb)) {
    return {
      ok: false,
      problems: [`${echo(first)} is not an action: use one of ${[...ACTIONS, 'history', 'help'].join(', ')}`],
    };
  }
  if (rest.length !== 3) {
    const missing = ['<env-pattern>', '<eb-application>', '<region>'].slice(rest.length).join(' ');
    return {
      ok: false,
      problems: [
        rest.length < 3
          ? `${verb} needs 3 words after it, got ${rest.length}: missing ${missing}`
          : `${verb} takes exactly 3 words after it (<env-pattern> <eb-application> <region>), got ${rest.length}`,
      ],
    };
  }
  const [envPattern = '', application = '', region = ''] = rest;
  const parsed = runCommandSchema.safeParse({
    action: verb,
    envPattern,
    application,
    region: region.toLowerCase(),
  });
  if (parsed.success)
    return {
      ok: true,
      command: {
        kind: 'run',
        ...parsed.data,
        ...(timeout.seconds !== undefined ? { drainTimeoutSeconds: timeout.seconds } : {}),
      },
    };
  const given: Record<string, string> = { envPattern, application, region };
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    if (field === 'region') return `${echo(region)} is not an AWS region (for example us-east-1, eu-west-1)`;
    return `${echo(given[field] ?? '')}: ${issue.message}`;
  });
  return { ok: false, problems };
}

/** Takes `--timeout <duration>` (anywhere after the action) out of the words. */
function takeTimeout(
  words: string[],
): { ok: true; rest: string[]; seconds?: number } | { ok: false; problem: string } {
  const at = words.findIndex(
    (w) => w.toLowerCase() === '--timeout' || w.toLowerCase().startsWith('--timeout='),
  );
  if (at < 0) return { ok: true, rest: words };
  const word = words[at]!;
  const inline = word.includes('=');
  const given = inline ? word.slice(word.indexOf('=') + 1) : words[at + 1];
  if (given === undefined || given === '')
    return { ok: false, problem: '--timeout needs a duration, for example 90s, 15m or 4h' };
  const seconds = parseDuration(given);
  if (seconds === undefined)
    return {
      ok: false,
      problem: `${echo(given)} is not a duration: use seconds, minutes or hours, for example 90s, 15m or 4h`,
    };
  if (seconds < 1 || seconds > MAX_DRAIN_TIMEOUT_SECONDS)
    return {
      ok: false,
      problem: `--timeout must be between 1s and ${formatDuration(MAX_DRAIN_TIMEOUT_SECONDS * 1000)} (${MAX_DRAIN_TIMEOUT_SECONDS} seconds)`,
    };
  if (words.slice(at + (inline ? 1 : 2)).some((w) => w.toLowerCase().startsWith('--timeout')))
    return { ok: false, problem: '--timeout is given twice' };
  return { ok: true, rest: [...words.slice(0, at), ...words.slice(at + (inline ? 1 : 2))], seconds };
}
