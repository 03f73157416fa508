import type { TargetPreview } from '../aws/environments';
import type { Action } from '../../ssm/actions';
import { DEFAULT_DRAIN_TIMEOUT_SECONDS } from '../request';
import { formatDuration } from '../slack/text';
import { printable } from './printable';

const EXPLAIN: Record<Action, string> = {
  quiet:
    'Every Sidekiq process stops taking new jobs and finishes those it runs; nothing is shut down, queued jobs stay in Redis.',
  stop: 'Every Sidekiq process stops taking new jobs, finishes those it runs, then is shut down; workers stay down until `wake`.',
  wake: 'Quiet or stopped Sidekiq processes that are idle are restarted; awake ones are left alone.',
  status: 'Reports which Sidekiq processes are quiet, awake and busy. Changes nothing.',
};

const MAX_LISTED = 20;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface PreviewQuestion {
  action: Action;
  envPattern: string;
  application: string;
  region: string;
  drainTimeoutSeconds?: number;
}

/**
 * Pure: the terminal's preview before a Fargate launch — the same facts as the Slack prompt: what
 * will happen, on which environments (at most 20 listed) and how many instances, the drain timeout.
 */
export function previewText(q: PreviewQuestion, preview: TargetPreview): string {
  const lines = [
    `${q.action} on the environments of ${printable(q.application)} in ${q.region} whose name contains "${q.envPattern}":`,
    ...preview.environments
      .slice(0, MAX_LISTED)
      .map(
        (e) =>
          `  ${printable(e.name)}: ${plural(e.instanceCount, 'instance')}${e.status === 'Ready' ? '' : ` (${printable(e.status)})`}`,
      ),
  ];
  const more = preview.environments.length - MAX_LISTED;
  if (more > 0) lines.push(`  …and ${plural(more, 'more environment')}`);
  lines.push(
    `  ${plural(preview.environments.length, 'environment')}, ${plural(preview.totalInstances, 'instance')}`,
  );
  lines.push(EXPLAIN[q.action]);
  if (q.action === 'quiet' || q.action === 'stop')
    lines.push(
      `Drain timeout: ${formatDuration((q.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS) * 1000)} (workers still busy then are left running and reported; nothing is killed).`,
    );
  return lines.join('\n');
}

/** When nothing matches: nothing is launched, and the other environments help spot a typo. */
export function noTargetsText(q: PreviewQuestion, preview: TargetPreview): string {
  const others = preview.others.length ? preview.others.map(printable).join(', ') : 'none';
  return `nothing to ${q.action}: no running environment of ${printable(q.application)} in ${q.region} has a name containing "${q.envPattern}" (other environments: ${others}); nothing was launched`;
}

/** The question asked on the terminal. */
export const confirmQuestion = (q: PreviewQuestion, preview: TargetPreview): string =>
  `Launch ${q.action} on ${plural(preview.totalInstances, 'instance')} in ${plural(preview.environments.length, 'environment')}? [y/N] `;

/** Pure: only an explicit yes launches. */
export const isYes = (answer: string | undefined): boolean => /^\s*y(es)?\s*$/i.test(answer ?? '');
