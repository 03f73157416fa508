import * as z from 'zod';
import type { Target } from './targets';
import type { Action } from '../../ssm/actions';

// Pure: what happened on one instance, from what SSM (or a local run) says about the script
// run there — status, exit code and the JSON object sidekiqctl.sh prints as stdout's last line —
// and the run's exit code from all instances' outcomes.

export const OUTCOME_KINDS = [
  'drained',
  'busy_at_deadline',
  // The script refused to act (a worker still runs jobs, a supervisor it may not drive): nothing
  // was stopped or restarted; the reason names what would help.
  'refused',
  'no_sidekiq',
  'unreachable',
  'failed',
  // sidekiqctl.sh could not even be started (a command line copied without its script): an
  // installation problem, not anything about the workers.
  'script_missing',
  'timed_out',
  // The runner stopped following the command (or could not tell whether SSM started it): the
  // script may still run there. Not "failed": nobody should assume nothing happened.
  'unknown',
] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export interface InstanceOutcome extends Target {
  kind: OutcomeKind;
  /** One line a person can act on. */
  reason: string;
  exitCode?: number;
  /** Jobs still running when the script gave up (sum over Sidekiq processes). */
  busyJobs?: number;
  processes?: number;
  elapsedSeconds?: number;
  /** Each Sidekiq process the script last saw: what `status` is for (which are quiet, which busy). */
  sidekiq?: SidekiqProcess[];
}

/** One Sidekiq process as the script reported it; `tag` comes from a process title (untrusted). */
export const sidekiqProcessSchema = z.object({
  pid: z.number().optional(),
  tag: z.string().optional(),
  busy: z.number().optional(),
  concurrency: z.number().optional(),
  quiet: z.boolean().optional(),
});
export type SidekiqProcess = z.infer<typeof sidekiqProcessSchema>;

/** sidekiqctl.sh's last stdout line. Lenient: fields the runner does not use may change freely. */
export const scriptReportSchema = z.object({
  action: z.string().optional(),
  result: z.string().optional(),
  elapsed_seconds: z.number().optional(),
  error: z.string().optional(),
  message: z.string().optional(),
  processes: z.array(sidekiqProcessSchema).optional(),
  /** Titles that start like Sidekiq's but do not parse (hostile, or cut short): never signalled. */
  unparseable: z.array(z.object({ pid: z.number().optional(), title: z.string() })).optional(),
});
export type ScriptReport = z.infer<typeof scriptReportSchema>;

/** The last line of `stdout` that is a JSON object matching the script's report, if any. */
export function parseScriptReport(stdout: string | undefined): ScriptReport | undefined {
  if (!stdout) return undefined;
  const lines = stdout.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{')) continue;
    try {
      const parsed = scriptReportSchema.safeParse(JSON.parse(line));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** SSM invocation statuses after which nothing more will happen on the instance. */
const TERMINAL_STATUSES = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
const TERMINAL_DETAILS = new Set([
  'Success',
  'Failed',
  'Cancelled',
  'Undeliverable',
  'Terminated',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'InvalidPlatform',
  'AccessDenied',
]);

export function isTerminalStatus(status: string | undefined, details?: string): boolean {
  return TERMINAL_STATUSES.has(status ?? '') || TERMINAL_DETAILS.has(details ?? '');
}

/** What an executor knows about one finished script run. */
export interface FinishedRun {
  /** SSM invocation Status (Success, Failed, TimedOut, Cancelled), or 'Success'/'Failed' locally. */
  status: string;
  /** SSM StatusDetails (Undeliverable, DeliveryTimedOut, ExecutionTimedOut, …). */
  statusDetails?: string;
  /** The script's exit code; SSM reports -1 when it never ran. */
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export function outcomeOf(target: Target, run: FinishedRun): InstanceOutcome {
  const report = parseScriptReport(run.stdout);
  const busyJobs = report?.processes?.reduce((n, p) => n + (p.busy ?? 0), 0);
  const facts = {
    ...target,
    ...(run.exitCode !== undefined && run.exitCode >= 0 ? { exitCode: run.exitCode } : {}),
    ...(busyJobs !== undefined ? { busyJobs } : {}),
    ...(report?.processes
      ? { processes: report.processes.length, sidekiq: report.processes.map(sidekiqProcess) }
      : {}),
    ...(report?.elapsed_seconds !== undefined ? { elapsedSeconds: report.elapsed_seconds } : {}),
  };
  const details = run.statusDetails;

  // Never ran: the instance could not be reached, whatever the exit code field says.
  if (details === 'Undeliverable')
    return { ...facts, kind: 'unreachable', reason: 'SSM could not deliver the command (agent offline?)' };
  if (details === 'Terminated')
    return { ...facts, kind: 'unreachable', reason: 'the instance was terminated' };
  if (details === 'DeliveryTimedOut')
    return { ...facts, kind: 'unreachable', reason: 'SSM could not deliver the command in time' };
  if (details === 'ExecutionTimedOut' || run.status === 'TimedOut')
    return {
      ...facts,
      kind: 'timed_out',
      reason: 'SSM stopped the script at the execution timeout (the drain was not finished)',
    };
  if (run.status === 'Cancelled' || details === 'Cancelled')
    return { ...facts, kind: 'failed', reason: 'the command was cancelled' };
  if (details === 'InvalidPlatform')
    return { ...facts, kind: 'failed', reason: 'not a Linux instance (the document runs a shell script)' };
  if (details === 'AccessDenied')
    return {
      ...facts,
      kind: 'failed',
      reason: 'SSM refused to run the command on this instance (AccessDenied)',
    };

  // The script always ends with its JSON report; without one, it never ran (sh could not open it:
  // dash exits 2, bash 127), which must not read as a drain timeout.
  if (run.status !== 'Success' && !report && scriptNotStarted(run))
    return {
      ...facts,
      kind: 'script_missing',
      reason: `sidekiqctl.sh could not be started (${lastLine(run.stderr) ?? `exit code ${run.exitCode}`}): reinstall snowwhite or give the script's path`,
    };
  if (report?.result === 'refused')
    // Exit 4 (exit 2 before the script gave refusals their own code).
    return { ...facts, kind: 'refused', reason: refusalReason(run.stderr, 'refused') };

  switch (run.status === 'Success' ? 0 : run.exitCode) {
    case 0:
      return { ...facts, kind: 'drained', reason: report?.result ?? 'done' };
    case 4:
      // Refused without a report, or "busy": another run held the instance's lock. Nothing was done;
      // not a failure of the instance: someone must act or retry.
      return {
        ...facts,
        kind: 'refused',
        reason: refusalReason(run.stderr, report?.result === 'busy' ? 'busy' : 'refused'),
      };
    case 2:
      if (!report) return { ...facts, kind: 'failed', reason: failureReason(run, report) };
      return {
        ...facts,
        kind: 'busy_at_deadline',
        reason:
          busyJobs !== undefined
            ? `${busyJobs} job${busyJobs === 1 ? '' : 's'} still running at the drain timeout (nothing was killed)`
            : 'jobs still running at the drain timeout (nothing was killed)',
      };
    case 3:
      return { ...facts, kind: 'no_sidekiq', reason: 'no Sidekiq process found' };
    default:
      return { ...facts, kind: 'failed', reason: failureReason(run, report) };
  }
}

/** sh's own words when it cannot open or find the script (dash, bash, busybox), or exit 126/127. */
function scriptNotStarted(run: FinishedRun): boolean {
  if (run.exitCode === 126 || run.exitCode === 127) return true;
  return (
    run.exitCode === 2 &&
    /(cannot open|can't open|No such file or directory)/i.test(run.stderr ?? '') &&
    !/sidekiqctl: /.test(run.stderr ?? '')
  );
}

const lastLine = (text: string | undefined): string | undefined =>
  text
    ?.split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop()
    ?.slice(0, 200);

const sidekiqProcess = (p: SidekiqProcess): SidekiqProcess => ({
  ...(p.pid !== undefined ? { pid: p.pid } : {}),
  ...(p.tag ? { tag: p.tag } : {}),
  ...(p.busy !== undefined ? { busy: p.busy } : {}),
  ...(p.concurrency !== undefined ? { concurrency: p.concurrency } : {}),
  ...(p.quiet !== undefined ? { quiet: p.quiet } : {}),
});

/** The script's own "refused: …" (or "busy: …") line, which says what blocked it and what would help. */
function refusalReason(stderr: string | undefined, word: 'refused' | 'busy'): string {
  const line = stderr
    ?.split('\n')
    .map((l) => l.replace(/^sidekiqctl: /, '').trim())
    .filter((l) => l.startsWith(`${word}:`))
    .pop();
  if (line) return line.slice(0, 300);
  return word === 'busy'
    ? 'busy: another sidekiqctl.sh run held this instance (nothing was done); try again'
    : 'refused: nothing was stopped or restarted (the script did not say why)';
}

function failureReason(run: FinishedRun, report: ScriptReport | undefined): string {
  if (report?.result === 'respawned')
    return 'a worker came back after the stop (its supervisor restarted it): not stopped; name the supervisor (supervisor parameter)';
  if (report?.result === 'unparseable' || report?.unparseable?.length)
    return `a process title looks like Sidekiq's but does not parse, so it was left alone: ${(
      report?.unparseable ?? []
    )
      .map((u) => `pid ${u.pid ?? '?'} "${u.title.slice(0, 80)}"`)
      .join(', ')
      .slice(0, 300)}`;
  const said = report?.error ?? report?.message;
  if (said) return said;
  const lastErr = run.stderr
    ?.split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  const code = run.exitCode !== undefined && run.exitCode >= 0 ? `exit code ${run.exitCode}` : run.status;
  return lastErr ? `${code}: ${lastErr.slice(0, 200)}` : code;
}

/**
 * Exit codes of the runner and the `snowwhite` command line, in one table (the README repeats it).
 * They follow sidekiqctl.sh's where the meaning is the same (0, 2, 4, 64).
 */
export const EXIT_CODES = {
  /** Every instance done (drained, stopped, woken, reported). */
  done: 0,
  /** Any failure: an instance failed, unreachable, timed out or unknown; an AWS error; a declined launch. */
  failed: 1,
  /** The drain timeout passed with jobs still running (nothing was killed). */
  deadline: 2,
  /** Refused, nothing done: by the script (a busy worker, a supervisor it may not drive) or by the bot (IAM, a lock). */
  refused: 4,
  /** sidekiqctl.sh could not be started: the command line is installed without its script. */
  scriptMissing: 5,
  /** Usage error: bad arguments, or no --yes without a terminal. Nothing done. */
  usage: 64,
  /** Interrupted (Ctrl-C, SIGTERM): waiting stopped; what was quieted stays quiet. */
  interrupted: 130,
} as const;

export const EXIT_OK = EXIT_CODES.done;
export const EXIT_FAILURE = EXIT_CODES.failed;
export const EXIT_BUSY = EXIT_CODES.deadline;
export const EXIT_REFUSED = EXIT_CODES.refused;
export const EXIT_SCRIPT_MISSING = EXIT_CODES.scriptMissing;
export const EXIT_BAD_REQUEST = EXIT_CODES.usage;
export const EXIT_INTERRUPTED = EXIT_CODES.interrupted;

/**
 * The run's exit code from its instances' outcomes, the worst first: a missing script (5), any
 * failure (1), a refusal (4), a deadline (2), else 0. "No Sidekiq" on some instances counts as done
 * when draining or reporting (a web instance has nothing to drain), but a quiet or stop that found
 * no Sidekiq anywhere fails: a deploy script must not read "drained" into a typo'd --match or the
 * wrong fleet. For wake it is always a failure (nothing was woken).
 */
export function exitCodeFor(action: Action, outcomes: readonly InstanceOutcome[]): number {
  if (outcomes.length === 0) return EXIT_FAILURE;
  if (outcomes.some((o) => o.kind === 'script_missing')) return EXIT_SCRIPT_MISSING;
  const failed = outcomes.some(
    (o) =>
      o.kind === 'failed' ||
      o.kind === 'unreachable' ||
      o.kind === 'timed_out' ||
      o.kind === 'unknown' ||
      (o.kind === 'no_sidekiq' && action === 'wake'),
  );
  if (failed) return EXIT_FAILURE;
  if ((action === 'quiet' || action === 'stop') && outcomes.every((o) => o.kind === 'no_sidekiq'))
    return EXIT_FAILURE;
  if (outcomes.some((o) => o.kind === 'refused')) return EXIT_REFUSED;
  return outcomes.some((o) => o.kind === 'busy_at_deadline') ? EXIT_BUSY : EXIT_OK;
}
