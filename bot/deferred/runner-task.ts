import type { Failure, Task } from '@aws-sdk/client-ecs';
import { runRequestSchema, type RunRequest } from '../../runner/request';
import type { CancelRunButtonValue } from '../../runner/slack/buttons';

export type RunnerTaskCheck =
  | { ok: true; request: RunRequest }
  | {
      ok: false;
      /** `stopped`: the right task, already ended or stopping (a second click, a finished run). */
      reason: 'not_found' | 'not_runner' | 'other_run' | 'stopped';
      detail: string;
    };

export interface RunnerIdentity {
  /** The runner's cluster, as the bot launches into it (name or ARN). */
  cluster: string;
  taskDefinitionArn: string;
  containerName: string;
}

/** `arn:aws:ecs:r:a:task-definition/family:7` → partition, region, account. */
function arnParts(arn: string): { partition: string; region: string; account: string } {
  const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
  return { partition, region, account };
}

/** The cluster's full ARN: given as one, or a name in the runner's own account and region. */
export function clusterArnOf(runner: Pick<RunnerIdentity, 'cluster' | 'taskDefinitionArn'>): string {
  if (runner.cluster.startsWith('arn:')) return runner.cluster;
  const { partition, region, account } = arnParts(runner.taskDefinitionArn);
  return `arn:${partition}:ecs:${region}:${account}:cluster/${runner.cluster}`;
}

/** Without the revision: a deploy between launch and cancel registers a new one of the same family. */
const familyArn = (taskDefinitionArn: string) => taskDefinitionArn.replace(/:\d+$/, '');

function runRequestOf(task: Task, containerName: string): RunRequest | undefined {
  const raw = task.overrides?.containerOverrides
    ?.find((c) => c.name === containerName)
    ?.environment?.find((e) => e.name === 'RUN_REQUEST')?.value;
  if (raw === undefined) return undefined;
  try {
    const parsed = runRequestSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pure: is the task a Cancel button names the Snow White runner of that very run, still going? The
 * button's value is outside input (a forged one could name any task ARN, another run, another
 * cluster), so everything is checked against what ECS says of the task: the cluster, the task
 * definition family, the run-id and action tags, and the run request it was launched with.
 */
export function checkRunnerTask(
  answer: { tasks?: Task[] | undefined; failures?: Failure[] | undefined },
  runner: RunnerIdentity,
  value: CancelRunButtonValue,
): RunnerTaskCheck {
  const task = answer.tasks?.find((t) => t.taskArn === value.taskArn);
  if (!task)
    return {
      ok: false,
      reason: 'not_found',
      detail: `ECS knows no task ${value.taskArn} in Snow White's cluster`,
    };
  if (task.clusterArn !== clusterArnOf(runner) || !task.taskDefinitionArn)
    return { ok: false, reason: 'not_runner', detail: "the task is not in Snow White's cluster" };
  if (familyArn(task.taskDefinitionArn) !== familyArn(runner.taskDefinitionArn))
    return { ok: false, reason: 'not_runner', detail: 'the task is not a Snow White runner' };

  const tag = (key: string) => task.tags?.find((t) => t.key === key)?.value;
  const request = runRequestOf(task, runner.containerName);
  const sameRun =
    tag('snowwhite:run-id') === value.runId &&
    tag('snowwhite:action') === value.action &&
    request !== undefined &&
    request.runId === value.runId &&
    request.action === value.action &&
    request.envPattern === value.envPattern &&
    request.application === value.application &&
    request.region === value.region;
  if (!sameRun || !request)
    return { ok: false, reason: 'other_run', detail: 'the task runs another run than the button names' };

  if (task.lastStatus === 'STOPPED')
    return { ok: false, reason: 'stopped', detail: 'the run has already ended' };
  if (task.desiredStatus === 'STOPPED')
    return { ok: false, reason: 'stopped', detail: 'the run is already being stopped' };
  return { ok: true, request };
}
