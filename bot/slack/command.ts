import * as z from 'zod';
import { actionSchema, applicationNameSchema, envPatternSchema, regionSchema } from '../../runner/request';
import { ACTIONS, type Action } from '../../ssm/actions';

/**
 * Parses the text after `/snowwhite` (grammar in DESIGN.md). Pure: never throws, whatever the text.
 */
export interface RunCommand {
  kind: 'run';
  action: Action;
  envPattern: string;
  application: string;
  region: z.output<typeof regionSchema>;
}
/** `history [application]`: the last runs, only to the asker. */
export interface HistoryCommand {
  kind: 'history';
  application?: string;
}
export type Command = { kind: 'help' } | RunCommand | HistoryCommand;
export type CommandParse = { ok: true; command: Command } | { ok: false; problems: string[] };

const runCommandSchema = z.object({
  action: actionSchema,
  envPattern: envPatternSchema,
  application: applicationNameSchema,
  region: regionSchema,
});

/** Longest piece of user input echoed back in a reply. */
const ECHO_LIMIT = 40;

/** Quotes user input for a Slack reply: shortened, with mrkdwn control characters neutralised. */
export function echo(input: string): string {
  const short = [...input].length > ECHO_LIMIT ? `${[...input].slice(0, ECHO_LIMIT).join('')}…` : input;
  return `"${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, "'")}"`;
}

export function parseCommand(text: unknown): CommandParse {
  if (typeof text !== 'string') return { ok: false, problems: ['the command text is missing'] };
  const words = text.split(/\s+/u).filter((w) => w !== '');
  const [first, ...rest] = words;
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
  if (parsed.success) return { ok: true, command: { kind: 'run', ...parsed.data } };
  const given: Record<string, string> = { envPattern, application, region };
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    if (field === 'region') return `${echo(region)} is not an AWS region (for example us-east-1, eu-west-1)`;
    return `${echo(given[field] ?? '')}: ${issue.message}`;
  });
  return { ok: false, problems };
}
