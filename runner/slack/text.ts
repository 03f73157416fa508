import {
  EXIT_BUSY,
  EXIT_OK,
  EXIT_REFUSED,
  OUTCOME_KINDS,
  type InstanceOutcome,
  type OutcomeKind,
  type SidekiqProcess,
} from '../drain/outcome';
import type { Interruption, ProgressSnapshot, RunSummary } from '../drain/reporter';
import type { RunRequest } from '../request';
import type { KnownBlock } from '@slack/web-api';
import type { RunLinks } from './links';
import {
  CANCEL_RUN_ACTION_ID,
  encodeButtonValue,
  MAX_BUTTON_VALUE_CHARS,
  REQUEST_ACTION_ID,
  type CancelRunButtonValue,
  type RequestButtonValue,
} from './buttons';
import { exactTargets, instanceIdSchema, MAX_INSTANCE_IDS } from '../request';
import type { Action } from '../../ssm/actions';
import { escapeMrkdwn } from './mrkdwn';

// Pure: the words and bars people read (Slack mrkdwn; plain variants for a terminal and files).
// Every message fits Slack's advised 4,000 characters at any fleet size: counts per environment,
// instances that need attention first, and a complete list to attach when not everything fits.

const DOING: Record<Action, string> = {
  quiet: 'Quieting',
  stop: 'Stopping',
  wake: 'Waking',
  status: 'Checking',
};

const DONE_LABEL: Record<Action, string> = {
  quiet: 'drained',
  stop: 'drained and stopped',
  wake: 'awake',
  status: 'reported',
};

export function kindLabel(action: Action, kind: OutcomeKind): string {
  switch (kind) {
    case 'drained':
      return DONE_LABEL[action];
    case 'busy_at_deadline':
      return 'still busy at the deadline';
    case 'refused':
      return 'refused';
    case 'script_missing':
      return 'script not found';
    case 'no_sidekiq':
      return 'no Sidekiq found';
    case 'unreachable':
      return 'not reachable by SSM';
    case 'failed':
      return 'failed';
    case 'timed_out':
      return 'timed out';
    case 'unknown':
      return 'result unknown';
  }
}

const KIND_ICON: Record<OutcomeKind, string> = {
  drained: ':white_check_mark:',
  busy_at_deadline: ':hourglass:',
  refused: ':no_entry:',
  script_missing: ':x:',
  no_sidekiq: ':grey_question:',
  unreachable: ':no_entry_sign:',
  failed: ':x:',
  timed_out: ':alarm_clock:',
  unknown: ':grey_exclamation:',
};

/** Attention first: what a person must look at before deploying. */
const ATTENTION_ORDER: OutcomeKind[] = [
  'script_missing',
  'failed',
  'unknown',
  'timed_out',
  'refused',
  'busy_at_deadline',
  'unreachable',
  'no_sidekiq',
  'drained',
];

/** Slack advises keeping a message's text under about 4,000 characters; ours stay under this. */
export const MAX_MESSAGE_CHARS = 3_900;
/** A section block's text is limited to 3,000 characters. */
const MAX_SECTION_CHARS = 3_000;
/** SSM command ids named in a message; the attached list has them all. */
const MAX_COMMANDS_INLINE = 2;

const esc = escapeMrkdwn;

export function progressBar(done: number, total: number, width = 20): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.floor(ratio * 100)}%`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

const what = (r: RunRequest): string => `\`${r.envPattern}\` in ${esc(r.application)} (${r.region})`;
const plainWhat = (r: RunRequest): string => `${r.envPattern} in ${r.application} (${r.region})`;

const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);

export function progressText(s: ProgressSnapshot): string {
  const total = sum(s.environments.map((e) => e.total));
  const done = sum(s.environments.map((e) => e.done));
  const lines = [
    `${DOING[s.request.action]} ${what(s.request)}: ${done}/${total} instances done, ${formatDuration(s.elapsedMs)} so far`,
    `\`${progressBar(done, total)}\``,
  ];
  // Per environment while it fits: a progress message must stay postable at any fleet size.
  for (const [i, e] of s.environments.entries()) {
    const line = `• *${esc(e.name)}*: ${e.done}/${e.total} done${e.running ? `, ${e.running} running` : ''}  \`${progressBar(e.done, e.total, 10)}\``;
    if (lines.join('\n').length + line.length > MAX_MESSAGE_CHARS - 100) {
      lines.push(`…and ${s.environments.length - i} more environments`);
      break;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** Short labels for the per-environment lines, which must fit 20 and more environments in a message. */
const SHORT_LABEL: Record<Exclude<OutcomeKind, 'drained'>, string> = {
  busy_at_deadline: 'still busy',
  refused: 'refused',
  script_missing: 'no script',
  no_sidekiq: 'no Sidekiq',
  unreachable: 'unreachable',
  failed: 'failed',
  timed_out: 'timed out',
  unknown: 'unknown',
};

function countsLine(action: Action, outcomes: readonly InstanceOutcome[], short = false): string {
  const parts = OUTCOME_KINDS.map((k) => [k, outcomes.filter((o) => o.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${short && k !== 'drained' ? SHORT_LABEL[k] : kindLabel(action, k)}`);
  return parts.join(', ') || 'no instances';
}

export interface SidekiqCounts {
  processes: number;
  quiet: number;
  awake: number;
  busy: number;
  threads: number;
}

/** Pure: quiet, awake and busy over the Sidekiq processes the outcomes carry; undefined when none does. */
export function sidekiqCounts(outcomes: readonly InstanceOutcome[]): SidekiqCounts | undefined {
  const ps = outcomes.flatMap((o) => o.sidekiq ?? []);
  if (!outcomes.some((o) => o.sidekiq)) return undefined;
  return {
    processes: ps.length,
    quiet: ps.filter((p) => p.quiet === true).length,
    awake: ps.filter((p) => p.quiet === false).length,
    busy: sum(ps.map((p) => p.busy ?? 0)),
    threads: sum(ps.map((p) => p.concurrency ?? 0)),
  };
}

export const sidekiqCountsText = (c: SidekiqCounts): string =>
  `${c.quiet} quiet · ${c.awake} awake · ${c.busy} busy of ${c.threads} threads`;

/** Pure, plain text: each process as Sidekiq's Busy page would show it (pid, tag, quiet or awake, busy). */
export function processesText(ps: readonly SidekiqProcess[]): string {
  if (ps.length === 0) return 'no Sidekiq process';
  return ps
    .map((p) => {
      const state = p.quiet === undefined ? '' : p.quiet ? ' quiet' : ' awake';
      const load =
        p.busy === undefined
          ? ''
          : ` ${p.busy}${p.concurrency !== undefined ? `/${p.concurrency}` : ''} busy`;
      return `pid ${p.pid ?? '?'}${p.tag ? ` (${p.tag})` : ''}${state}${load}`;
    })
    .join('; ');
}

/** Pure, plain text: what happened on one instance, beyond its outcome's label. */
export function instanceDetail(o: InstanceOutcome): string {
  const took = o.elapsedSeconds !== undefined ? `, ${formatDuration(o.elapsedSeconds * 1000)}` : '';
  if (o.kind === 'drained' && o.sidekiq) return `${processesText(o.sidekiq)}${took}`;
  if (o.kind === 'drained' && o.processes !== undefined)
    return `${o.processes} process${o.processes === 1 ? '' : 'es'}, ${o.busyJobs ?? 0} busy${took}`;
  return o.reason;
}

function instanceLine(action: Action, o: InstanceOutcome, withEnvironment: boolean): string {
  const env = withEnvironment ? ` (${esc(o.environment)})` : '';
  return `${KIND_ICON[o.kind]} \`${esc(o.instanceId)}\`${env} ${kindLabel(action, o.kind)} — ${esc(instanceDetail(o))}`;
}

const byAttention = (a: InstanceOutcome, b: InstanceOutcome) =>
  ATTENTION_ORDER.indexOf(a.kind) - ATTENTION_ORDER.indexOf(b.kind) ||
  a.environment.localeCompare(b.environment) ||
  a.instanceId.localeCompare(b.instanceId);

const isProblem = (o: InstanceOutcome) => o.kind !== 'drained';

const headlineIcon = (s: RunSummary) =>
  s.exitCode === EXIT_OK
    ? ':white_check_mark:'
    : s.exitCode === EXIT_BUSY
      ? ':hourglass:'
      : s.exitCode === EXIT_REFUSED
        ? ':no_entry:'
        : ':x:';

function headlineWith(s: RunSummary, where: string, e: (x: string) => string): string {
  const r = s.request;
  if (s.error) return `${r.action} ${where} failed: ${e(s.error)}`;
  if (s.noMatch) return `${r.action} ${where}: no environment matches`;
  if (s.monitoringStopped)
    return `${r.action} ${where}: the runner stopped following the SSM commands after ${formatDuration(s.elapsedMs)} (${e(s.monitoringStopped.reason)}); so far ${countsLine(r.action, s.outcomes)}`;
  return `${r.action} ${where} finished in ${formatDuration(s.elapsedMs)}: ${countsLine(r.action, s.outcomes)}`;
}

/** One line of Slack mrkdwn: the outcome with its emoji (outside text escaped). */
export const headline = (s: RunSummary): string =>
  `${headlineIcon(s)} ${headlineWith(s, what(s.request), esc)}`;

/**
 * Pure: the details behind the error ids of a summary, for the requester's DM only (AWS error text
 * names accounts and roles); undefined when there are none.
 */
export function errorDetailsText(s: RunSummary): string | undefined {
  if (!s.errorDetails?.length) return undefined;
  return [
    ':mag: Details of the error behind this run (sent only to you):',
    ...s.errorDetails.map((d) => `\`${d.errorId}\`: ${esc(d.detail)}`),
  ].join('\n');
}

/**
 * The headline for a terminal or a file: no emoji, no markup, nothing escaped. `where` replaces the
 * request's pattern, application and region (a --local run acts on this host, in no region).
 */
export const plainHeadline = (s: RunSummary, where: string = plainWhat(s.request)): string =>
  headlineWith(s, where, (x) => x);

export interface SummaryReport {
  /** At most MAX_MESSAGE_CHARS. */
  text: string;
  /** Set when `text` could not name every instance and command: the whole list, to attach. */
  file?: { filename: string; title: string; content: string };
}

/**
 * Pure: the summary posted in the run's thread. A headline, counts per environment, every instance
 * that needs attention first with its reason, then the others — as many lines as fit in one message.
 * When something had to be left out, the message says so and `file` holds the whole list.
 */
export function summaryReport(
  s: RunSummary,
  links?: RunLinks,
  /**
   * Whether the message can carry the attached list (default). An answer only its asker sees (the
   * bot's status) cannot: what is left out is then named as left out, with how to see it.
   */
  options: { attachable?: boolean } = {},
): SummaryReport {
  const r = s.request;
  const attachable = options.attachable ?? true;
  const allIn = attachable ? 'all in the attached list' : 'not all shown: narrow the targets, e.g. `=NAME`';
  const lines: string[] = [headline(s)];
  let size = lines[0]!.length;
  let complete = true;
  const budget = MAX_MESSAGE_CHARS - 200; // room for the closing "…and N more" line
  const add = (line: string, within = budget): boolean => {
    if (size + 1 + line.length > within) return false;
    lines.push(line);
    size += 1 + line.length;
    return true;
  };

  if (s.noMatch) {
    const others = s.noMatch.otherEnvironments;
    add(
      others.length
        ? `No live environment of ${esc(r.application)} has "${r.envPattern}" in its name. Live environments: ${others.slice(0, 30).map(esc).join(', ')}${others.length > 30 ? ', …' : ''}`
        : `${esc(r.application)} has no live environment in ${r.region} (or the application does not exist there).`,
    );
  }
  const commandList = (ids: readonly string[]) => {
    if (ids.length > MAX_COMMANDS_INLINE) complete = false;
    const shown = ids
      .slice(0, MAX_COMMANDS_INLINE)
      .map((id) => (links ? `<${links.command(id)}|${esc(id)}>` : `\`${esc(id)}\``));
    const more = ids.length - shown.length;
    return `${shown.join(', ')}${more > 0 ? ` and ${more} more (${allIn})` : ''}`;
  };
  if (s.monitoringStopped?.commandIds.length)
    add(
      `These SSM commands may still be running on the instances; follow them in Systems Manager → Run Command (${r.region}): ${commandList(s.monitoringStopped.commandIds)}`,
    );
  const follow = [
    ...(links?.task ? [`<${links.task}|ECS task>`] : []),
    ...(links?.logs ? [`<${links.logs}|runner log>`] : []),
    ...(s.commandIds.length && !s.monitoringStopped ? [`SSM commands: ${commandList(s.commandIds)}`] : []),
  ];
  if (follow.length) add(follow.join(' · '));

  const byEnv = new Map<string, InstanceOutcome[]>();
  for (const o of s.outcomes) byEnv.set(o.environment, [...(byEnv.get(o.environment) ?? []), o]);
  const envs = [...byEnv].sort(([a], [b]) => a.localeCompare(b));
  // Quiet, awake and busy per environment is what status is for; after the other actions the
  // outcome says it (and the whole run's counts are in the thread's first message).
  const showSidekiq = r.action === 'status';
  if (envs.length > 1 || (envs.length === 1 && showSidekiq && sidekiqCounts(s.outcomes))) {
    // Environments take at most 60% of the message, so instances with problems always get room.
    const envBudget = size + (budget - size) * 0.6;
    for (const [i, [env, outcomes]] of envs.entries()) {
      const counts = showSidekiq ? sidekiqCounts(outcomes) : undefined;
      const line = `• *${esc(env)}* (${outcomes.length}): ${countsLine(r.action, outcomes, true)}${counts ? ` — ${sidekiqCountsText(counts)}` : ''}`;
      if (!add(line, envBudget)) {
        add(`• …and ${envs.length - i} more environments (${allIn})`);
        complete = false;
        break;
      }
    }
  }

  const problems = s.outcomes.filter(isProblem).sort(byAttention);
  const fine = s.outcomes.filter((o) => !isProblem(o)).sort(byAttention);
  let listed = 0;
  for (const o of [...problems, ...fine]) {
    if (!add(instanceLine(r.action, o, envs.length > 1))) break;
    listed++;
  }
  if (listed < s.outcomes.length) {
    complete = false;
    const unlistedProblems = Math.max(0, problems.length - listed);
    add(
      `…and ${s.outcomes.length - listed} more instance${s.outcomes.length - listed === 1 ? '' : 's'}${unlistedProblems ? ` (${unlistedProblems} with a problem)` : ''}: ${attachable ? 'the full list is in the attached file' : 'ask again for fewer environments (`=NAME`) to see each of them'}.`,
      MAX_MESSAGE_CHARS,
    );
  }
  const text = lines.join('\n');
  if (complete) return { text };
  return {
    text,
    file: {
      filename: `snowwhite-${r.runId}.txt`,
      title: `Every instance of run ${r.runId}`,
      content: summaryFile(s),
    },
  };
}

/** The thread's summary text alone (see summaryReport). */
export const summaryText = (s: RunSummary, links?: RunLinks): string => summaryReport(s, links).text;

/** Pure, plain text: the whole run, every instance attention first, every command (the attached file). */
export function summaryFile(s: RunSummary): string {
  const lines = [`Snow White run ${s.request.runId}`, plainHeadline(s), ''];
  const counts = sidekiqCounts(s.outcomes);
  if (counts) lines.push(`Sidekiq: ${sidekiqCountsText(counts)}`, '');
  lines.push(instanceTable({ ...s, outcomes: [...s.outcomes].sort(byAttention) }));
  if (s.commandIds.length) lines.push('', `SSM commands (${s.request.region}):`, ...s.commandIds);
  return `${lines.join('\n')}\n`;
}

/**
 * Pure: the detail column: the processes seen, and for anything but a plain success the reason first,
 * because the reason says what to do (a process list alone hid why a wake failed).
 */
function tableDetail(o: InstanceOutcome): string {
  const processes = o.sidekiq?.length ? processesText(o.sidekiq) : undefined;
  if (o.kind === 'drained') return processes ?? o.reason;
  return processes ? `${o.reason} — ${processes}` : o.reason;
}

/** Pure: every instance as a fixed-width table, one row per instance, in the order given. */
export function instanceTable(summary: RunSummary): string {
  const withSidekiq = summary.outcomes.some((o) => o.sidekiq);
  const header = [
    'environment',
    'instance',
    'outcome',
    'busy jobs',
    'took',
    ...(withSidekiq ? ['sidekiq'] : []),
    'detail',
  ];
  const rows = summary.outcomes.map((o: InstanceOutcome) => {
    const c = o.sidekiq ? sidekiqCounts([o]) : undefined;
    return [
      o.environment,
      o.instanceId,
      kindLabel(summary.request.action, o.kind),
      o.busyJobs === undefined ? '-' : String(o.busyJobs),
      o.elapsedSeconds === undefined ? '-' : formatDuration(o.elapsedSeconds * 1000),
      ...(withSidekiq ? [c ? `${c.quiet} quiet · ${c.awake} awake` : '-'] : []),
      tableDetail(o),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Pure: the summary in section blocks (each at most 3,000 characters), split between lines. */
export function sectionBlocks(
  text: string,
): Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } }> {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const piece = line.slice(0, MAX_SECTION_CHARS);
    if (current && current.length + 1 + piece.length > MAX_SECTION_CHARS) {
      chunks.push(current);
      current = piece;
    } else current = current ? `${current}\n${piece}` : piece;
  }
  if (current) chunks.push(current);
  return chunks.map((t) => ({ type: 'section', text: { type: 'mrkdwn', text: t } }));
}

/** Pure: for the notification channel and the DM — the headline and where the rest is. */
export function shortSummaryText(s: RunSummary, link: string | undefined): string {
  return link ? `${headline(s)}\n<${link}|Thread of this run>` : headline(s);
}

const asker = (r: RunRequest) =>
  r.requestedBy.slackUserId ? `<@${r.requestedBy.slackUserId}>` : esc(r.requestedBy.iamUserName);

/** Pure: the thread's first message once the run is over, so the channel never says "started" forever. */
export function threadRootOutcomeText(s: RunSummary): string {
  const r = s.request;
  const outcome = s.error
    ? `failed: ${esc(s.error)}`
    : s.noMatch
      ? 'no environment matches'
      : `${s.monitoringStopped ? 'stopped following (results unknown)' : 'done'}: ${countsLine(r.action, s.outcomes)}`;
  const counts = sidekiqCounts(s.outcomes);
  return `${headlineIcon(s)} ${asker(r)} ran *${r.action}* on ${what(r)} — ${outcome}${counts ? ` (${sidekiqCountsText(counts)})` : ''} · ${formatDuration(s.elapsedMs)}`;
}

/** Pure: the thread's first message when the runner was stopped before the end. */
export function threadRootInterruptedText(i: Interruption): string {
  const r = i.request;
  const total = sum(i.snapshot.environments.map((e) => e.total));
  const done = sum(i.snapshot.environments.map((e) => e.done));
  return `:warning: ${asker(r)} ran *${r.action}* on ${what(r)} — interrupted after ${formatDuration(i.snapshot.elapsedMs)}, ${done}/${total} instances done`;
}

export function interruptedText(i: Interruption, links?: RunLinks): string {
  const total = sum(i.snapshot.environments.map((e) => e.total));
  const done = sum(i.snapshot.environments.map((e) => e.done));
  const cancelled = new Set(i.cancelledCommandIds ?? []);
  const running = i.commandIds.filter((id) => !cancelled.has(id));
  const lines = [
    `:warning: The Snow White runner was interrupted (its task is being stopped) after ${formatDuration(i.snapshot.elapsedMs)}, with ${done}/${total} instances done.`,
  ];
  if (cancelled.size)
    lines.push(
      `Cancelled: its ${cancelled.size === 1 ? 'SSM command was' : `${cancelled.size} SSM commands were`} cancelled on the instances.` +
        (i.request.action === 'quiet' || i.request.action === 'stop'
          ? ' Workers already quiet stay quiet (quiet cannot be undone): Wake restarts them.'
          : ''),
    );
  if (running.length) {
    const shown = running.slice(0, 40);
    lines.push(
      `The SSM commands keep running on the instances; follow them in Systems Manager → Run Command (${i.request.region}):`,
      ...shown.map((id) => (links ? `• <${links.command(id)}|${esc(id)}>` : `• \`${esc(id)}\``)),
      ...(running.length > shown.length
        ? [`…and ${running.length - shown.length} more (the runner's log has them all)`]
        : []),
    );
  } else if (!cancelled.size) lines.push('No SSM command had been sent yet: nothing runs on the instances.');
  return lines.join('\n');
}

type ActionsBlock = { type: 'actions'; elements: Button[] };

interface Button {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  value: string;
  style?: 'primary' | 'danger';
}

/**
 * Pure: what a person can do next from a summary — Wake after quiet or stop, Retry the same action
 * on the instances that failed or were unreachable (only those), Status. Each click acts like the
 * clicker typing the command: authorized, then the usual confirmation prompt.
 */
export function summaryActions(s: RunSummary): ActionsBlock | undefined {
  const r = s.request;
  if (s.noMatch || s.error) return undefined;
  // Exactly the environments the run acted on, not its pattern (which may match more by now). Past
  // what one button can name, the pattern: the prompt still lists what it selects before Confirm.
  const acted = exactTargets(s.outcomes.map((o) => o.environment)) ?? r.envPattern;
  const base = { v: 1 as const, envPattern: acted, application: r.application, region: r.region };
  const button = (text: string, value: RequestButtonValue, style?: 'primary'): Button => ({
    type: 'button',
    action_id: `${REQUEST_ACTION_ID}:${text.toLowerCase()}`,
    text: { type: 'plain_text', text },
    value: encodeButtonValue(value),
    ...(style ? { style } : {}),
  });
  const elements: Button[] = [];
  if (r.action === 'quiet' || r.action === 'stop') elements.push(button('Wake', { ...base, action: 'wake' }));
  const failed = s.outcomes.filter(
    (o) =>
      (o.kind === 'failed' || o.kind === 'unreachable') && instanceIdSchema.safeParse(o.instanceId).success,
  );
  const retry = failed.map((o) => o.instanceId).sort();
  const retryTargets = exactTargets(failed.map((o) => o.environment)) ?? r.envPattern;
  // More than a button value can hold (80 ids and 20 long names can pass 2,000 characters): people
  // retry the whole command instead.
  if (retry.length > 0 && retry.length <= MAX_INSTANCE_IDS) {
    const retryButton = button(
      'Retry',
      { ...base, envPattern: retryTargets, action: r.action, instanceIds: retry },
      'primary',
    );
    if (retryButton.value!.length <= MAX_BUTTON_VALUE_CHARS) elements.push(retryButton);
  }
  elements.push(button('Status', { ...base, action: 'status' }));
  return { type: 'actions', elements };
}

/** Pure: after an interruption (Cancel), Wake where workers may have been left quiet, and Status. */
export function interruptedActions(i: Interruption): ActionsBlock {
  const acted = exactTargets(i.snapshot.environments.map((e) => e.name));
  const request = acted ? { ...i.request, envPattern: acted } : i.request;
  return summaryActions({ request, exitCode: 1, elapsedMs: 0, outcomes: [], commandIds: [] })!;
}

/** Pure: the progress message, with Cancel while the run goes on (the bot checks who may press it). */
export function progressBlocks(text: string, cancel: CancelRunButtonValue | undefined): KnownBlock[] {
  return [
    ...sectionBlocks(text),
    ...(cancel
      ? [
          {
            type: 'actions' as const,
            elements: [
              {
                type: 'button' as const,
                action_id: CANCEL_RUN_ACTION_ID,
                text: { type: 'plain_text' as const, text: 'Cancel run' },
                style: 'danger' as const,
                value: encodeButtonValue(cancel),
                confirm: {
                  title: { type: 'plain_text' as const, text: 'Cancel this run?' },
                  text: {
                    type: 'mrkdwn' as const,
                    text: 'The runner stops and cancels its SSM commands. Workers already quiet stay quiet until woken.',
                  },
                  confirm: { type: 'plain_text' as const, text: 'Cancel the run' },
                  deny: { type: 'plain_text' as const, text: 'Keep going' },
                },
              },
            ],
          },
        ]
      : []),
  ];
}
