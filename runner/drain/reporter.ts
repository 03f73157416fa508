import type { InstanceOutcome } from './outcome';
import type { ErrorDetail } from '../error-id';
import type { RunRequest } from '../request';

export interface PlannedEnvironment {
  name: string;
  /** Instances the command is sent to. */
  reachable: number;
  /** Instances that cannot run it (not registered with SSM, agent offline). */
  unreachable: number;
}

export interface RunPlan {
  request: RunRequest;
  environments: PlannedEnvironment[];
}

export interface EnvironmentProgress {
  name: string;
  total: number;
  /** Instances with a final outcome (including unreachable ones). */
  done: number;
  running: number;
}

export interface ProgressSnapshot {
  request: RunRequest;
  elapsedMs: number;
  environments: EnvironmentProgress[];
}

export interface RunSummary {
  request: RunRequest;
  exitCode: number;
  elapsedMs: number;
  outcomes: InstanceOutcome[];
  /** Every SSM command (or other executor handle) the run started. */
  commandIds: string[];
  /** A run-level failure (AWS error, nothing could be started): shown instead of / above outcomes. */
  error?: string;
  /**
   * The AWS errors behind `error` or `monitoringStopped`, by error id: for the log and the requester's
   * DM only (they name accounts and roles); public messages carry only the ids.
   */
  errorDetails?: ErrorDetail[];
  /** Set when no environment matched: the live environments of the application, to spot a typo. */
  noMatch?: { otherEnvironments: string[] };
  /**
   * Set when the runner stopped following commands it had started (SSM kept refusing or failing
   * to report): those commands may still run, and their instances' outcomes are 'unknown'.
   */
  monitoringStopped?: { reason: string; commandIds: string[] };
}

export interface Interruption {
  request: RunRequest;
  commandIds: string[];
  /** Commands the runner cancelled on its way out (their scripts stop; quiet workers stay quiet). */
  cancelledCommandIds?: string[];
  snapshot: ProgressSnapshot;
}

/**
 * Where a run tells people what it does: Slack (runner/slack/reporter.ts) and the ledger for the
 * runner; the console and --json for the command line. Implementations must never throw or block the
 * drain for long: a reporting failure is logged, never a reason to stop waiting for the instances.
 */
export interface Reporter {
  started(plan: RunPlan): Promise<void>;
  /** Called often; implementations rate-limit. Not awaited by the drain. */
  progress(snapshot: ProgressSnapshot): void;
  finished(summary: RunSummary): Promise<void>;
  /** The runner is being stopped (SIGTERM) while commands may still run on the instances. */
  interrupted(interruption: Interruption): Promise<void>;
}

/**
 * Several reporters as one (Slack and the ledger): each is told everything at the same time, and
 * one that fails (which none should) neither stops nor hides the others.
 */
export function allOf(...reporters: Reporter[]): Reporter {
  const each = async (call: (r: Reporter) => Promise<void>) => {
    const failed = (await Promise.allSettled(reporters.map(call))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    started: (plan) => each((r) => r.started(plan)),
    progress: (snapshot) => reporters.forEach((r) => r.progress(snapshot)),
    finished: (summary) => each((r) => r.finished(summary)),
    interrupted: (i) => each((r) => r.interrupted(i)),
  };
}
