import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExecutionListener, ExecutionRequest, InstanceExecutor } from '../drain/executor';
import { outcomeOf } from '../drain/outcome';
import { type Target } from '../drain/targets';
import { sidekiqctlArgs } from '../../ssm/actions';

/** The script in the repository: `../../ssm` from runner/local. */
export const SIDEKIQCTL_PATH = resolve(__dirname, '../../ssm/sidekiqctl.sh');

// The bundle (dist/runner/cli.js, the npm package) carries the script's text itself (esbuild.config.ts
// defines it), so a copied or installed command line cannot lose it or run another version of it.
declare const SIDEKIQCTL_SCRIPT: string | undefined;
const EMBEDDED_SCRIPT = typeof SIDEKIQCTL_SCRIPT === 'string' ? SIDEKIQCTL_SCRIPT : undefined;

export interface LocalExecutorOptions {
  /** Path of sidekiqctl.sh (default: the repository's). */
  scriptPath?: string;
  /** The shell that runs it (default `sh`, as SSM's aws:runShellScript does). */
  shell?: string;
  /** sidekiqctl.sh --match: only Sidekiq processes whose title matches. */
  match?: string;
  /** sidekiqctl.sh --service: the systemd unit. */
  service?: string;
  /** sidekiqctl.sh --supervisor: systemd:UNIT, supervisord:PROGRAM, runit:DIR or none. */
  supervisor?: string;
  /** sidekiqctl.sh wake --force: restart quiet workers that still run jobs. */
  force?: boolean;
  /** sidekiqctl.sh --restart-command, for wake without systemd. */
  restartCommand?: string;
  /** Every progress line the script writes on stderr (live progress display). */
  onProgressLine?: (instanceId: string, line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs ssm/sidekiqctl.sh on this host, for `snowwhite --local`: the same script the SSM documents
 * run on EC2, against the Sidekiq processes of this process's PID namespace (SIDEKIQCTL_OWN_PID_NS;
 * the SSM documents do not set it: on an Elastic Beanstalk Docker host Sidekiq runs in containers).
 * Each target is one run of the script (there is normally one: this host).
 */
export class LocalExecutor implements InstanceExecutor {
  constructor(private readonly options: LocalExecutorOptions = {}) {}

  async execute(request: ExecutionRequest, listener: ExecutionListener, signal: AbortSignal): Promise<void> {
    let dir: string | undefined;
    let script = this.options.scriptPath ?? SIDEKIQCTL_PATH;
    if (this.options.scriptPath === undefined && EMBEDDED_SCRIPT !== undefined) {
      dir = await mkdtemp(join(tmpdir(), 'snowwhite-'));
      script = join(dir, 'sidekiqctl.sh');
      await writeFile(script, EMBEDDED_SCRIPT, { mode: 0o500 });
    }
    try {
      await Promise.all(
        request.targets.map((target) => this.runOn(script, target, request, listener, signal)),
      );
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  private runOn(
    script: string,
    target: Target,
    request: ExecutionRequest,
    listener: ExecutionListener,
    signal: AbortSignal,
  ): Promise<void> {
    if (!existsSync(script)) {
      // Said as such (exit 127, "not found"), never as a drain that did not finish.
      listener.dispatched('local:none', [target.instanceId]);
      listener.finished(
        outcomeOf(target, {
          status: 'Failed',
          exitCode: 127,
          stderr: `${script}: No such file or directory`,
        }),
      );
      return Promise.resolve();
    }
    const args = sidekiqctlArgs(request.action, {
      drainTimeout: String(request.drainTimeoutSeconds),
      match: this.options.match,
      supervisor:
        this.options.supervisor ??
        (this.options.service === undefined ? undefined : `systemd:${this.options.service}`),
      restartCommand: this.options.restartCommand,
    });
    if (this.options.force && request.action === 'wake') args.push('--force');
    const child = spawn(this.options.shell ?? 'sh', [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only this PID namespace: a host's /proc also shows its containers' processes, which are not "this host".
      env: { ...(this.options.env ?? process.env), SIDEKIQCTL_OWN_PID_NS: '1' },
    });
    listener.dispatched(`local:${child.pid ?? 'unknown'}`, [target.instanceId]);
    listener.running(target.instanceId);

    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.options.onProgressLine?.(target.instanceId, line);
      listener.cycle?.();
    });

    // Like SSM's executionTimeout: the script gets TERM (it never kills Sidekiq; it just stops waiting).
    let timedOut = false;
    const stopScript = () => child.kill('SIGTERM');
    const timer = setTimeout(
      () => {
        timedOut = true;
        stopScript();
      },
      Math.min(request.executionTimeoutSeconds * 1000, Math.max(0, request.deadline - Date.now())),
    );
    signal.addEventListener('abort', stopScript, { once: true });

    return new Promise<void>((done) => {
      let finished = false;
      const finish = (exitCode: number | null, error?: Error) => {
        if (finished) return; // 'error' can be followed by 'close'
        finished = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', stopScript);
        if (signal.aborted) return done(); // interrupted: runDrain reports what was left running
        listener.finished(
          outcomeOf(target, {
            status: timedOut ? 'TimedOut' : exitCode === 0 ? 'Success' : 'Failed',
            ...(timedOut ? { statusDetails: 'ExecutionTimedOut' } : {}),
            ...(exitCode !== null ? { exitCode } : {}),
            stdout,
            stderr: error ? `${stderr}\n${error.message}` : stderr,
          }),
        );
        done();
      };
      child.once('error', (err) => finish(127, err));
      child.once('close', (code) => finish(code));
    });
  }
}
