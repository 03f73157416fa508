import type { InstanceOutcome } from './outcome';
import type { SentWork, Target } from './targets';
import type { Action } from '../../ssm/actions';

export interface ExecutionRequest {
  runId: string;
  action: Action;
  targets: readonly Target[];
  drainTimeoutSeconds: number;
  executionTimeoutSeconds: number;
  /** Clock time (ms) after which the executor stops waiting; unfinished targets are runDrain's to report. */
  deadline: number;
  /** Work already started for these targets (the bot's SSM commands): followed, nothing is sent. */
  sent?: readonly SentWork[];
}

export interface ExecutionListener {
  /** A unit of work was handed over (SSM: a command id), so an interruption can say what keeps running. */
  dispatched(handle: string, instanceIds: readonly string[]): void;
  /** The script started on an instance. */
  running(instanceId: string): void;
  /** An instance finished, one way or another; called once per target at most. */
  finished(outcome: InstanceOutcome): void;
  /** One polling round is over (a good moment to refresh progress). */
  cycle?(): void;
}

/**
 * The seam between "what to run where" and "how it gets there". SSM Run Command is one
 * implementation (runner/aws/ssm-executor/); the command line adds one that runs ssm/sidekiqctl.sh
 * on this host. runDrain only ever sees this interface.
 */
export interface InstanceExecutor {
  /**
   * Runs `request.action` on every target and reports through `listener` as results come in.
   * Resolves when every target has finished, the deadline passed, or `signal` aborted — whichever
   * comes first. Rejects only when nothing could be started (with that error), or with
   * MonitoringStoppedError when it had to stop following work it had started.
   */
  execute(request: ExecutionRequest, listener: ExecutionListener, signal: AbortSignal): Promise<void>;
  /**
   * The run was cancelled (SIGTERM): stop the work behind `handles` where it can be stopped.
   * Resolves with the handles it cancelled; gives up when `signal` aborts.
   */
  cancel?(handles: readonly string[], signal: AbortSignal): Promise<string[]>;
}

/**
 * The executor stopped following work it had started (a non-retryable polling error, or the
 * service unreachable for many rounds). Unlike "nothing could be started", the work goes on
 * without the runner: `handles` (SSM command ids) are what may still run, so people can follow it.
 */
export class MonitoringStoppedError extends Error {
  override readonly name = 'MonitoringStoppedError';
  constructor(
    message: string,
    /** Handles (SSM command ids) with instances whose outcome is not known. */
    readonly handles: readonly string[],
    /** What may be shown in public: `message` without the AWS error's own text. */
    readonly publicReason: string = message,
  ) {
    super(message);
  }
}
