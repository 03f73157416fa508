import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { Clock } from '../drain/clock';

/**
 * `snowwhite --follow`: prints the runner's log (its awslogs stream) until the task stops, then
 * returns the runner's own exit code, so a script can chain on `snowwhite quiet … --follow`.
 */

export interface FollowTarget {
  cluster: string;
  taskArn: string;
  containerName: string;
  /** Without it only the task's state changes are shown. */
  logGroupName?: string;
}

export interface FollowDeps {
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
  clock: Clock;
  signal: AbortSignal;
  print: (line: string) => void;
  pollMs?: number;
}

/** The awslogs stream name: <prefix>/<container>/<task id>; the SnowWhite stack's prefix is `runner`. */
export const logStreamFor = (taskArn: string, containerName: string, prefix = 'runner'): string =>
  `${prefix}/${containerName}/${taskArn.split('/').pop() ?? taskArn}`;

/** Pure: one runner log line (JSON, see runner/log.ts) as a person reads it. */
export function formatRunnerLogLine(raw: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof parsed !== 'object' || parsed === null) return raw;
  const { time, level, event, program: _program, runId: _runId, ...rest } = parsed as Record<string, unknown>;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${clock} ${level === 'info' || level === undefined ? '' : `${String(level).toUpperCase()} `}${String(event ?? '')}${extra}`.trim();
}

export async function followRunner(target: FollowTarget, deps: FollowDeps): Promise<number> {
  const stream = logStreamFor(target.taskArn, target.containerName);
  let nextToken: string | undefined;
  let lastStatus = '';

  const drainLogs = async () => {
    if (!target.logGroupName) return;
    for (;;) {
      let out;
      try {
        out = await deps.logs.send(
          new GetLogEventsCommand({
            logGroupName: target.logGroupName,
            logStreamName: stream,
            startFromHead: true,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return; // the task has not logged yet
        throw err;
      }
      for (const e of out.events ?? []) if (e.message) deps.print(formatRunnerLogLine(e.message));
      const advanced = out.nextForwardToken !== undefined && out.nextForwardToken !== nextToken;
      nextToken = out.nextForwardToken;
      if (!advanced || (out.events ?? []).length === 0) return;
    }
  };

  while (!deps.signal.aborted) {
    const described = await deps.ecs.send(
      new DescribeTasksCommand({ cluster: target.cluster, tasks: [target.taskArn] }),
    );
    const task = described.tasks?.[0];
    if (!task) {
      const why = described.failures?.[0]?.reason ?? 'not found';
      throw new Error(`task ${target.taskArn}: ${why}`);
    }
    if (task.lastStatus && task.lastStatus !== lastStatus) {
      lastStatus = task.lastStatus;
      deps.print(`runner task ${lastStatus.toLowerCase()}`);
    }
    await drainLogs();
    if (task.lastStatus === 'STOPPED') {
      const container = task.containers?.find((c) => c.name === target.containerName) ?? task.containers?.[0];
      if (container?.exitCode !== undefined) return container.exitCode;
      deps.print(
        `the runner stopped without an exit code: ${task.stoppedReason ?? container?.reason ?? 'no reason given'}`,
      );
      return 1;
    }
    await deps.clock.sleep(deps.pollMs ?? 3000, deps.signal);
  }
  deps.print('stopped following; the runner keeps running on Fargate');
  return 130;
}
