import type { types } from '@slack/bolt';
import type { FleetItem, RunItem } from '../../runner/ledger/schema';
import { HISTORY_SEARCHED_RUNS } from '../../runner/ledger/store';
import {
  CANCEL_RUN_ACTION_ID,
  cancelRunButtonValueSchema,
  encodeButtonValue,
  REQUEST_ACTION_ID,
  type RequestButtonValue,
} from '../../runner/slack/buttons';
import { formatDuration } from '../../runner/slack/text';
import { escapeMrkdwn, type SlackMessage } from '../slack/messages';

// Pure: what App Home, reminders and `/snowwhite history` show, from ledger items. Every string from
// the table is escaped (names come from AWS, ids were validated when parsed back).

/** Slack renders it in the reader's time zone; the fallback is UTC. */
const when = (iso: string) => {
  const s = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${s}^{date_short_pretty} {time}|${iso.slice(0, 16).replace('T', ' ')} UTC>`;
};
const who = (x: { slackUserId?: string | undefined; iamUserName: string }) =>
  x.slackUserId ? `<@${x.slackUserId}>` : `IAM user ${escapeMrkdwn(x.iamUserName)}`;
const link = (permalink: string | undefined, label: string) =>
  permalink ? ` · <${permalink.replace(/[|>]/g, '')}|${label}>` : '';
const place = (x: { application: string; region: string }) => `${escapeMrkdwn(x.application)} (${x.region})`;

const STATE_WORD: Record<RunItem['state'], string> = {
  launched: 'launched',
  running: 'running',
  finished: 'finished',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
};

/** How a fleet's state reads; `possibly_quiet` comes from a quiet or stop that did not finish. */
const FLEET_WORD: Record<FleetItem['state'], string> = {
  quiet: 'quiet',
  stopped: 'stopped',
  awake: 'awake',
  possibly_quiet: 'possibly quiet',
};
const fleetWord = (f: Pick<FleetItem, 'state'>) => FLEET_WORD[f.state];

export function wakeButton(fleet: Pick<FleetItem, 'environment' | 'application' | 'region'>): types.Button {
  const value: RequestButtonValue = {
    v: 1,
    action: 'wake',
    // Exactly this environment: its name as a pattern would also match `…-prod-eu` next to `…-prod`.
    envPattern: `=${fleet.environment}`,
    application: fleet.application,
    region: fleet.region,
  };
  return {
    type: 'button',
    action_id: REQUEST_ACTION_ID,
    text: { type: 'plain_text', text: 'Wake' },
    style: 'primary',
    value: encodeButtonValue(value),
  };
}

function cancelButton(run: RunItem): types.Button | undefined {
  const value = cancelRunButtonValueSchema.safeParse({
    v: 1,
    runId: run.runId,
    action: run.action,
    envPattern: run.envPattern,
    application: run.application,
    region: run.region,
    taskArn: run.taskArn,
  });
  if (!value.success) return undefined;
  return {
    type: 'button',
    action_id: CANCEL_RUN_ACTION_ID,
    text: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
    value: encodeButtonValue(value.data),
    // As on the progress message's Cancel: it cannot be undone, so Slack asks once more.
    confirm: {
      title: { type: 'plain_text', text: 'Cancel this run?' },
      text: {
        type: 'mrkdwn',
        text: 'The runner stops and cancels its SSM commands. Workers already quiet stay quiet until woken.',
      },
      confirm: { type: 'plain_text', text: 'Cancel the run' },
      deny: { type: 'plain_text', text: 'Keep going' },
    },
  };
}

/**
 * A fleet Elastic Beanstalk updated after Snow White quieted it: a deploy restarts Procfile processes,
 * so its workers are probably awake. Not "awake": a configuration change updates the environment too,
 * without always restarting them, so the line says how to check instead of offering Wake.
 */
export function redeployedFleetLine(f: FleetItem, redeployedAt: string, nowMs: number): string {
  return (
    `*${escapeMrkdwn(f.environment)}* · ${place(f)}\n` +
    `${fleetWord(f)} by ${who(f)} ${formatDuration(nowMs - Date.parse(f.since))} ago, but redeployed since ` +
    `(${when(redeployedAt)}) — probably awake. To check: \`/snowwhite status =${escapeMrkdwn(f.environment)} ` +
    `${escapeMrkdwn(f.application)} ${f.region}\`` +
    link(f.permalink, 'run thread')
  );
}

export function fleetLine(f: FleetItem, nowMs: number): string {
  return (
    `*${escapeMrkdwn(f.environment)}* · ${place(f)}\n` +
    `${fleetWord(f)} for ${formatDuration(nowMs - Date.parse(f.since))} (since ${when(f.since)}) by ${who(f)}` +
    (f.state === 'possibly_quiet'
      ? ` — its \`${f.action}\` did not finish, so some workers may be quiet`
      : '') +
    link(f.permalink, 'run thread')
  );
}

function countsText(run: RunItem): string {
  const counts = Object.entries(run.counts ?? {}).filter(([, n]) => n);
  return counts.length ? `: ${counts.map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ')}` : '';
}

export function runLine(run: RunItem): string {
  return (
    `• ${when(run.startedAt)} *${run.action}* \`${run.envPattern}\` in ${place(run)} by ${who(run)} — ` +
    `${STATE_WORD[run.state]}${countsText(run)}${link(run.permalink, 'thread')}`
  );
}

/** Lines joined under Slack's 3,000-character section limit, cut with a count of what was left out. */
function lines(list: string[], empty: string, max = 2800): string {
  if (list.length === 0) return empty;
  const out: string[] = [];
  let size = 0;
  for (const [i, line] of list.entries()) {
    if (size + line.length + 1 > max) {
      out.push(`…and ${list.length - i} more`);
      break;
    }
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}

export interface HomeData {
  fleets: FleetItem[];
  /** Fleets (by `pk`) whose environment Elastic Beanstalk updated after their `since` (ISO time). */
  redeployedAt?: Readonly<Record<string, string>>;
  inProgress: RunItem[];
  mine: RunItem[];
  recent: RunItem[];
}

export type HomeState = { kind: 'ok'; data: HomeData } | { kind: 'unavailable' } | { kind: 'not-configured' };

/** Block Kit allows 100 blocks in a Home view; these caps keep well under it. */
const MAX_FLEETS = 40;
const MAX_IN_PROGRESS = 15;

const section = (text: string, accessory?: types.Button): types.SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...(accessory ? { accessory } : {}),
});
const header = (text: string): types.HeaderBlock => ({ type: 'header', text: { type: 'plain_text', text } });

export function homeView(state: HomeState, nowMs: number): types.HomeView {
  const blocks: types.KnownBlock[] = [header('Snow White')];
  if (state.kind === 'not-configured') {
    blocks.push(section('Fleet memory is not set up here (no `LEDGER_TABLE_NAME`): no history to show.'));
  } else if (state.kind === 'unavailable') {
    blocks.push(
      section(
        ':warning: I cannot read the history right now. Commands still work: `/snowwhite help`. Open this tab again in a minute.',
      ),
    );
  } else {
    const { inProgress, mine, recent, redeployedAt = {} } = state.data;
    // Those still quiet first, with Wake; the probably awake after them, without.
    const fleets = [
      ...state.data.fleets.filter((f) => !redeployedAt[f.pk]),
      ...state.data.fleets.filter((f) => redeployedAt[f.pk]),
    ];
    blocks.push(header('Fleets left quiet or stopped'));
    if (fleets.length === 0)
      blocks.push(section('None: every fleet Snow White quieted or stopped has been woken.'));
    for (const f of fleets.slice(0, MAX_FLEETS)) {
      const redeployed = redeployedAt[f.pk];
      blocks.push(
        redeployed
          ? section(redeployedFleetLine(f, redeployed, nowMs))
          : section(fleetLine(f, nowMs), wakeButton(f)),
      );
    }
    if (fleets.length > MAX_FLEETS) blocks.push(section(`…and ${fleets.length - MAX_FLEETS} more.`));

    blocks.push({ type: 'divider' }, header('Runs in progress'));
    if (inProgress.length === 0) blocks.push(section('None.'));
    for (const run of inProgress.slice(0, MAX_IN_PROGRESS))
      blocks.push(section(runLine(run), cancelButton(run)));

    blocks.push(
      { type: 'divider' },
      header('Your recent runs'),
      section(lines(mine.map(runLine), 'None yet.')),
    );
    blocks.push(header('Latest runs in this workspace'), section(lines(recent.map(runLine), 'None yet.')));
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Updated ${when(new Date(nowMs).toISOString())}` }],
  });
  return { type: 'home', blocks };
}

/** The reminder, in the run's thread and as a DM to the person who quieted the fleet. */
export function reminderMessage(f: FleetItem, nowMs: number): SlackMessage {
  const text =
    `:alarm_clock: *${escapeMrkdwn(f.environment)}* (${place(f)}) has been ${fleetWord(f)} for ` +
    `${formatDuration(nowMs - Date.parse(f.since))}, since ${when(f.since)}, by ${who(f)}${link(f.permalink, 'run thread')}. ` +
    `Its Sidekiq workers take no jobs while the queue may grow. Wake it if the deploy is done or not coming.`;
  return {
    text: `${f.environment} has been ${fleetWord(f)} since ${f.since}: wake it?`,
    blocks: [section(text, wakeButton(f))],
  };
}

/** The answer to `/snowwhite history [application]` (ephemeral). */
export function historyMessage(runs: RunItem[], application?: string): SlackMessage {
  const title = application ? `Last runs for *${escapeMrkdwn(application)}*` : 'Last runs';
  const body = lines(
    runs.map(runLine),
    application
      ? `No runs of this application among the workspace's latest ${HISTORY_SEARCHED_RUNS.toLocaleString('en-US')} runs (older ones are not searched).`
      : 'No runs yet.',
  );
  return { text: `${title}\n${body}` };
}
