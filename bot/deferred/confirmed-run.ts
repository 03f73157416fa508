import { randomUUID } from 'node:crypto';
import { sendRun, splitReachable } from '../../runner/aws/send-run';
import { describeError } from '../../runner/log';
import type { SendClaim, SentRecord } from '../../runner/ledger/sends';
import {
  executionTimeoutFor,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_EXECUTION_TIMEOUT_SECONDS,
} from '../../runner/request';
import {
  alreadyLaunchedText,
  alreadyStartingText,
  escapeMrkdwn,
  nothingReachableText,
  sendFailedText,
} from '../slack/messages';
import type { WorkDeps } from './deps';
import { newErrorId } from '../../runner/error-id';
import { releaseLocks } from './run-locks';
import { startRun, type RunToStart } from './start-run';

/** A run whose targets were confirmed exactly as previewed, its clicker authorized on them. */
export type ConfirmedRun = Omit<RunToStart, 'sent'>;

/**
 * What Confirm does once the caller has taken the environments' locks (run-locks.ts), in this order,
 * each step before the next:
 * 1. claim the run's send in the ledger (exactly once across double clicks, repeated deliveries
 *    and fresh containers: SSM has no client token);
 * 2. send the action's command to exactly the confirmed instances SSM can reach;
 * 3. record the command ids, so every later attempt follows them instead of sending;
 * 4. launch the runner with those command ids (start-run.ts), which only follows them.
 * A repeat finds the claim: it follows what was sent (launching the runner if the first attempt did
 * not get that far) or says the run is already under way. Nothing sent means the claim and the locks
 * are given back, so Confirm can be pressed again.
 */
export async function actOnConfirmed(deps: WorkDeps, run: ConfirmedRun): Promise<void> {
  const tell = (text: string) => deps.slack.tell(run.reply, { text }, { replace: run.replacePrompt });
  const out = await sendOnce(deps, run);
  // Nothing sent by this attempt: its locks go back (a busy or launched attempt of this run keeps them).
  const sentNothing = out.ok ? out.sent.commands.length === 0 : out.kind === 'failed';
  if (sentNothing)
    await releaseLocks(
      deps,
      { runId: run.runId, region: run.command.region, application: run.command.application },
      run.locked ?? [],
    );
  // A failed send keeps the prompt (a new message): Confirm can be pressed again.
  if (!out.ok && out.kind === 'failed')
    return deps.slack.tell(run.reply, { text: notSentText(run.command.action, out, run.replacePrompt) });
  if (!out.ok) return tell(notSentText(run.command.action, out, run.replacePrompt));
  if (out.sent.commands.length === 0)
    return tell(nothingReachableText(run.command.action, out.sent.unreachable));
  await startRun(deps, { ...run, sent: out.sent });
}

export type SendOutcome =
  | { ok: true; sent: SentRecord }
  /** `busy`: another attempt is sending; `launched`: an earlier attempt did it all; `failed`: nothing sent. */
  | { ok: false; kind: 'busy' }
  | { ok: false; kind: 'launched'; taskArn: string }
  | { ok: false; kind: 'failed'; error: string; errorId: string };

/** What the person reads when this attempt sends nothing. */
export function notSentText(
  action: ConfirmedRun['command']['action'],
  out: Exclude<SendOutcome, { ok: true }>,
  fromPrompt: boolean,
): string {
  if (out.kind !== 'failed')
    return out.kind === 'busy' ? alreadyStartingText(action) : alreadyLaunchedText(action);
  return sendFailedText(action, escapeMrkdwn(out.error), out.errorId, fromPrompt);
}

/**
 * Steps 1–4: the commands of this run, sent now or by an earlier attempt, or why this attempt must
 * not go on. Tells nobody: the callers (Slack, the command line's route) do.
 */
export async function sendOnce(
  deps: WorkDeps,
  run: Pick<ConfirmedRun, 'runId' | 'preview'> & {
    /** `executionTimeoutSeconds`: the command line may set it; otherwise it follows the drain timeout. */
    command: ConfirmedRun['command'] & { executionTimeoutSeconds?: number | undefined };
  },
): Promise<SendOutcome> {
  const { action, region } = run.command;
  const log = deps.logger.with({ runId: run.runId });
  const attempt = randomUUID();
  let claim: SendClaim;
  try {
    claim = await deps.sendClaims.claim(run.runId, attempt, deps.nowMs());
  } catch (err) {
    // The ledger is down: the run still goes, guarded by the look-up of its commands by Comment
    // (an earlier attempt's are followed, not sent again); only truly simultaneous attempts slip by.
    log.error('ledger_write_lost', { write: 'send_claim', error: describeError(err) });
    claim = { kind: 'claimed', takeover: true };
  }
  if (claim.kind === 'busy') {
    log.info('send_in_progress_elsewhere', { sinceMs: claim.sinceMs });
    return { ok: false, kind: 'busy' };
  }
  if (claim.kind === 'sent') {
    if (claim.taskArn) {
      log.info('duplicate_confirm_suppressed', { taskArn: claim.taskArn });
      return { ok: false, kind: 'launched', taskArn: claim.taskArn };
    }
    log.info('following_commands_already_sent', { commandIds: claim.sent.commands.map((c) => c.commandId) });
    return { ok: true, sent: claim.sent };
  }
  const ssm = deps.ssm(region);
  let sent: SentRecord;
  try {
    const { reachable, unreachable } = await splitReachable(ssm, run.preview.environments);
    const drainTimeoutSeconds = run.command.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    const out =
      reachable.length === 0
        ? { commands: [], notStarted: [] }
        : await sendRun(
            { ssm, sendClient: deps.ssmSendCommand(region) },
            {
              runId: run.runId,
              action,
              documentName: deps.documents[action],
              targets: reachable,
              drainTimeoutSeconds,
              executionTimeoutSeconds:
                run.command.executionTimeoutSeconds ??
                (run.command.drainTimeoutSeconds !== undefined
                  ? executionTimeoutFor(drainTimeoutSeconds)
                  : DEFAULT_EXECUTION_TIMEOUT_SECONDS),
              lookUpFirst: claim.takeover,
              clock: deps.clock,
              log,
            },
          );
    sent = {
      commands: out.commands,
      unreachable: [
        ...unreachable,
        ...out.notStarted.map(({ instanceId, environment, reason }) => ({ instanceId, environment, reason })),
      ].map((u) => ({ ...u, reason: u.reason.slice(0, 120) })),
    };
  } catch (err) {
    // Nothing was started (dispatch throws only then): Confirm may be pressed again.
    await deps.sendClaims
      .release(run.runId, attempt)
      .catch((e: unknown) => log.error('send_claim_release_failed', { error: describeError(e) }));
    const errorId = newErrorId();
    log.error('send_failed', { errorId, error: describeError(err) });
    return { ok: false, kind: 'failed', error: describeError(err), errorId };
  }
  log.info('commands_sent', {
    action,
    commandIds: sent.commands.map((c) => c.commandId),
    instances: sent.commands.reduce((n, c) => n + c.instances, 0),
    unreachable: sent.unreachable.length,
  });
  try {
    await deps.sendClaims.recordSent(run.runId, attempt, sent);
  } catch (err) {
    // The commands are out whatever the ledger says; a later attempt would find them by Comment.
    log.error('ledger_write_lost', { write: 'sent', error: describeError(err) });
  }
  return { ok: true, sent };
}
