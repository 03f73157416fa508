export interface RunLocation {
  runId: string;
  /** The run request's region: where the SSM commands run. */
  region: string;
  /** The runner's own ECS task (absent for local runs). */
  taskArn?: string;
  logGroup?: string;
  logStream?: string;
  /** The log group's region (the awslogs driver's), when it differs from the task's. */
  logRegion?: string;
}

export interface RunLinks {
  task?: string;
  logs?: string;
  command(commandId: string): string;
}

const TASK_ARN = /^arn:(aws[\w-]*):ecs:([\w-]+):(\d{12}):task\/([\w-]+)\/([0-9a-f]{32})$/;

/** The console's host for a partition: each partition has its own console. */
function consoleBase(partition: string, region: string): string {
  if (partition === 'aws-cn') return 'https://console.amazonaws.cn';
  if (partition === 'aws-us-gov') return 'https://console.amazonaws-us-gov.com';
  return `https://${region}.console.aws.amazon.com`;
}

const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/** CloudWatch's console URL fragment escapes `%` itself as `$25` (so "/" is "$252F"). */
const logsFragment = (s: string) => encodeURIComponent(s).replace(/%/g, '$25');

/**
 * Where a person follows a run in the AWS console: its ECS task, its log stream and its SSM
 * commands. Pure: built from the region, the account and the ids alone (no AWS call).
 */
export function runLinks(at: RunLocation): RunLinks {
  const task = at.taskArn ? TASK_ARN.exec(at.taskArn) : null;
  const [, partition = partitionOf(at.region), taskRegion = at.region, , cluster, taskId] = task ?? [];
  const logRegion = at.logRegion ?? taskRegion;
  const logsBase = `${consoleBase(partition, logRegion)}/cloudwatch/home?region=${logRegion}#logsV2:log-groups/log-group/`;
  let logs: string | undefined;
  if (at.logGroup && at.logStream)
    logs = `${logsBase}${logsFragment(at.logGroup)}/log-events/${logsFragment(at.logStream)}`;
  else if (at.logGroup)
    // No stream known: the group's events filtered on the run id, which every runner line carries.
    logs = `${logsBase}${logsFragment(at.logGroup)}/log-events${logsFragment(`?filterPattern="${at.runId}"`)}`;
  const ssmBase = consoleBase(partitionOf(at.region), at.region);
  return {
    ...(cluster && taskId
      ? {
          task: `${consoleBase(partition, taskRegion)}/ecs/v2/clusters/${cluster}/tasks/${taskId}/configuration?region=${taskRegion}`,
        }
      : {}),
    ...(logs ? { logs } : {}),
    command: (id) => `${ssmBase}/systems-manager/run-command/${encodeURIComponent(id)}?region=${at.region}`,
  };
}
