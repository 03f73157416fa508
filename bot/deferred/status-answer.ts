import pLimit from 'p-limit';
import type { TargetPreview } from '../../runner/aws/environments';
import { SentCommandsTargets } from '../../runner/aws/sent-commands';
import type { TrackedCommand } from '../../runner/aws/ssm-executor/dispatch';
import { pollRound } from '../../runner/aws/ssm-executor/polling';
import { exitCodeFor, type InstanceOutcome } from '../../runner/drain/outcome';
import type { Target } from '../../runner/drain/targets';
import { describeError } from '../../runner/log';
import { runRequestSchema } from '../../runner/request';
import { sectionBlocks, summaryActions, summaryReport } from '../../runner/slack/text';
import { escapeMrkdwn, plural, statusByRunnerText, type SlackMessage } from '../slack/messages';
import { actOnConfirmed, notSentText, sendOnce } from './confirmed-run';
import type { WorkDeps } from './deps';
import type { CommandWork } from './handoff';

/** Between two looks at the invocations: status scripts take about a second. */
const POLL_EVERY_MS = 700;
/** Pending instances named in the answer. */
const MAX_PENDING_LISTED = 20;

/**
 * `status`, answered by the bot itself (no Fargate task): send the status command to the instances
 * SSM can reach, poll their invocations in this same invocation of the bot's slow half until every
 * one answered or the answer is due (STATUS_ANSWER_SECONDS after the work began, authorization
 * included), then tell the asker
 * the per-environment and per-process counts, the instances still pending, and a Status button to
 * look again. A fleet larger than STATUS_MAX_INSTANCES gets a runner instead, as the answer says.
 */
export async function answerStatus(
  deps: WorkDeps,
  asked: {
    work: CommandWork;
    iamUserName: string;
    preview: TargetPreview;
    /** When the work began (before authorization): the answer is due STATUS_ANSWER_SECONDS after. */
    startedAt: number;
  },
): Promise<void> {
  const { startedAt } = asked;
  const { work, preview } = asked;
  const { command } = work;
  const run = {
    runId: work.runId,
    slackUserId: work.slackUserId,
    iamUserName: asked.iamUserName,
    command,
    preview,
    reply: work,
    replacePrompt: false,
  };
  if (preview.totalInstances > deps.status.maxInstances) {
    await deps.slack.tell(work, {
      text: statusByRunnerText(preview.totalInstances, deps.status.maxInstances),
    });
    return actOnConfirmed(deps, run);
  }

  const out = await sendOnce(deps, run);
  if (!out.ok) return deps.slack.tell(work, { text: notSentText(command.action, out, false) });
  const { sent } = out;
  const request = runRequestSchema.parse({
    runId: work.runId,
    ...command,
    requestedBy: { iamUserName: asked.iamUserName, slackUserId: work.slackUserId },
    ...(sent.commands.length ? { commands: sent.commands } : {}),
  });
  const outcomes: InstanceOutcome[] = sent.unreachable.map((u) => ({ ...u, kind: 'unreachable' }));
  let pending: Target[] = [];
  if (sent.commands.length) {
    const ssm = deps.ssm(command.region);
    const plan = await new SentCommandsTargets(ssm, request, deps.documents.status, deps.clock).resolve();
    const targets = new Map(plan.environments.flatMap((e) => e.reachable).map((t) => [t.instanceId, t]));
    let active: TrackedCommand[] = (plan.sent ?? []).map((c) => ({
      commandId: c.handle,
      pending: new Map(c.instanceIds.flatMap((id) => (targets.has(id) ? [[id, targets.get(id)!]] : []))),
      running: new Set<string>(),
    }));
    const limit = pLimit(8);
    const due = startedAt + deps.status.answerWithinMs;
    const signal = new AbortController().signal;
    while (active.length > 0) {
      const left = due - deps.clock.now();
      if (left <= 0) break;
      await deps.clock.sleep(Math.min(POLL_EVERY_MS, left));
      const errors = await pollRound(
        active,
        { dispatched: () => undefined, running: () => undefined, finished: (o) => outcomes.push(o) },
        signal,
        { ssm, log: deps.logger, limit },
      );
      if (errors.length)
        deps.logger.warn('status_poll_failed', {
          runId: work.runId,
          errors: [...new Set(errors.map(describeError))].slice(0, 3),
        });
      active = active.filter((c) => c.pending.size > 0);
    }
    pending = active.flatMap((c) => [...c.pending.values()]);
  }
  deps.logger.info('status_answered', {
    runId: work.runId,
    answered: outcomes.length,
    pending: pending.length,
    elapsedMs: deps.clock.now() - startedAt,
  });
  await deps.slack.tell(work, statusAnswer(request, outcomes, pending, deps.clock.now() - startedAt));
}

/** Pure: the status answer — the summary's words, the instances that have not answered, Status again. */
export function statusAnswer(
  request: ReturnType<typeof runRequestSchema.parse>,
  outcomes: InstanceOutcome[],
  pending: readonly Target[],
  elapsedMs: number,
): SlackMessage {
  const summary = {
    request,
    exitCode: exitCodeFor('status', outcomes),
    elapsedMs,
    outcomes,
    commandIds: (request.commands ?? []).map((c) => c.commandId),
  };
  const lines = [summaryReport(summary, undefined, { attachable: false }).text];
  if (pending.length) {
    const named = pending
      .slice(0, MAX_PENDING_LISTED)
      .map((t) => `\`${t.instanceId}\` (${escapeMrkdwn(t.environment)})`)
      .join(', ');
    const more =
      pending.length > MAX_PENDING_LISTED ? ` and ${pending.length - MAX_PENDING_LISTED} more` : '';
    lines.push(
      `:hourglass_flowing_sand: ${plural(pending.length, 'instance')} had not answered yet (pending): ${named}${more}. Press *Status* to look again.`,
    );
  }
  const text = lines.join('\n');
  const actions = summaryActions(summary);
  return {
    text,
    blocks: [...sectionBlocks(text), ...(actions ? [actions] : [])],
  };
}
