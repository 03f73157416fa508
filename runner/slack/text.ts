import { OUTCOME_KINDS, type InstanceOutcome, type OutcomeKind } from '../drain/outcome';
import type { Interruption, ProgressSnapshot, RunSummary } from '../drain/reporter';
import type { RunRequest } from '../request';
import type { Action } from '../../ssm/actions';

/**
 * Pure: the words and bars people read (Slack mrkdwn; plain enough for a terminal too).
 * Long fleets are summarized: every environment gets its counts, instances that need attention
 * are listed first, and lists are cut with "…and N more" well before Slack's 40,000-character cap.
 */

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
  no_sidekiq: ':grey_question:',
  unreachable: ':no_entry_sign:',
  failed: ':x:',
  timed_out: ':alarm_clock:',
  unknown: ':grey_exclamation:',
};

/** Attention first: what a person must look at before deploying. */
const ATTENTION_ORDER: OutcomeKind[] = [
  'failed',
  'unknown',
  'timed_out',
  'busy_at_deadline',
  'unreachable',
  'no_sidekiq',
  'drained',
];

export const MAX_INSTANCE_LINES_PER_ENVIRONMENT = 40;
const MAX_TEXT = 35_000;

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

const what = (r: RunRequest): string => `\`${r.envPattern}\` in ${r.application} (${r.region})`;

export function progressText(s: ProgressSnapshot): string {
  const total = s.environments.reduce((n, e) => n + e.total, 0);
  const done = s.environments.reduce((n, e) => n + e.done, 0);
  const lines = [
    `${DOING[s.request.action]} ${what(s.request)}: ${done}/${total} instances done, ${formatDuration(s.elapsedMs)} so far`,
    `\`${progressBar(done, total)}\``,
    ...s.environments.map(
      (e) =>
        `• *${e.name}*: ${e.done}/${e.total} done${e.running ? `, ${e.running} running` : ''}  \`${progressBar(e.done, e.total, 10)}\``,
    ),
  ];
  return lines.join('\n');
}

function countsLine(action: Action, outcomes: readonly InstanceOutcome[]): string {
  const parts = OUTCOME_KINDS.map((k) => [k, outcomes.filter((o) => o.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${kindLabel(action, k)}`);
  return parts.join(', ') || 'no instances';
}

function instanceLine(action: Action, o: InstanceOutcome): string {
  const detail =
    o.kind === 'drained' && o.processes !== undefined
      ? `${o.processes} process${o.processes === 1 ? '' : 'es'}, ${o.busyJobs ?? 0} busy${o.elapsedSeconds !== undefined ? `, ${formatDuration(o.elapsedSeconds * 1000)}` : ''}`
      : o.reason;
  return `${KIND_ICON[o.kind]} \`${o.instanceId}\` ${kindLabel(action, o.kind)} — ${detail}`;
}

export function headline(s: RunSummary): string {
  const r = s.request;
  const icon = s.exitCode === 0 ? ':white_check_mark:' : s.exitCode === 2 ? ':hourglass:' : ':x:';
  if (s.error) return `${icon} ${r.action} ${what(r)} failed: ${s.error}`;
  if (s.noMatch) return `${icon} ${r.action} ${what(r)}: no environment matches`;
  if (s.monitoringStopped)
    return `${icon} ${r.action} ${what(r)}: the runner stopped following the SSM commands after ${formatDuration(s.elapsedMs)} (${s.monitoringStopped.reason}); so far ${countsLine(r.action, s.outcomes)}`;
  return `${icon} ${r.action} ${what(r)} finished in ${formatDuration(s.elapsedMs)}: ${countsLine(r.action, s.outcomes)}`;
}

export function summaryText(s: RunSummary): string {
  const r = s.request;
  const lines = [headline(s)];
  if (s.noMatch) {
    const others = s.noMatch.otherEnvironments;
    lines.push(
      others.length
        ? `No live environment of ${r.application} has "${r.envPattern}" in its name. Live environments: ${others.slice(0, 30).join(', ')}${others.length > 30 ? ', …' : ''}`
        : `${r.application} has no live environment in ${r.region} (or the application does not exist there).`,
    );
  }
  if (s.monitoringStopped?.commandIds.length)
    lines.push(
      `These SSM commands may still be running on the instances; follow them in Systems Manager → Run Command (${r.region}):`,
      ...s.monitoringStopped.commandIds.slice(0, 20).map((id) => `• \`${id}\``),
      ...(s.monitoringStopped.commandIds.length > 20
        ? [`…and ${s.monitoringStopped.commandIds.length - 20} more (the runner's log has them all)`]
        : []),
    );
  const byEnv = new Map<string, InstanceOutcome[]>();
  for (const o of s.outcomes) byEnv.set(o.environment, [...(byEnv.get(o.environment) ?? []), o]);
  for (const [env, outcomes] of [...byEnv].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`*${env}*: ${countsLine(r.action, outcomes)}`);
    const sorted = [...outcomes].sort(
      (a, b) =>
        ATTENTION_ORDER.indexOf(a.kind) - ATTENTION_ORDER.indexOf(b.kind) ||
        a.instanceId.localeCompare(b.instanceId),
    );
    for (const o of sorted.slice(0, MAX_INSTANCE_LINES_PER_ENVIRONMENT))
      lines.push(`    ${instanceLine(r.action, o)}`);
    if (sorted.length > MAX_INSTANCE_LINES_PER_ENVIRONMENT)
      lines.push(`    …and ${sorted.length - MAX_INSTANCE_LINES_PER_ENVIRONMENT} more`);
  }
  if (s.commandIds.length && s.exitCode !== 0)
    lines.push(
      `SSM commands: ${s.commandIds.slice(0, 20).join(', ')}${s.commandIds.length > 20 ? ', …' : ''}`,
    );
  return truncate(lines.join('\n'));
}

export function interruptedText(i: Interruption): string {
  const total = i.snapshot.environments.reduce((n, e) => n + e.total, 0);
  const done = i.snapshot.environments.reduce((n, e) => n + e.done, 0);
  const lines = [
    `:warning: The Snow White runner was interrupted (its task is being stopped) after ${formatDuration(i.snapshot.elapsedMs)}, with ${done}/${total} instances done.`,
  ];
  if (i.commandIds.length) {
    lines.push(
      `The SSM commands keep running on the instances; follow them in Systems Manager → Run Command (${i.request.region}):`,
      ...i.commandIds.map((id) => `• \`${id}\``),
    );
  } else lines.push('No SSM command had been sent yet: nothing runs on the instances.');
  return truncate(lines.join('\n'));
}

function truncate(text: string): string {
  return text.length <= MAX_TEXT
    ? text
    : `${text.slice(0, MAX_TEXT)}\n…(cut; the runner's log has everything)`;
}
