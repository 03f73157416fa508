import * as z from 'zod';

/** What the runner knows of its own ECS task: enough to link the task and its log stream. */
export interface TaskLocation {
  taskArn: string;
  logGroup?: string;
  logStream?: string;
  logRegion?: string;
}

/** The parts of the ECS task metadata (v4) `/task` answer we read; everything else may change. */
const taskMetadataSchema = z.object({
  TaskARN: z.string(),
  Containers: z
    .array(
      z.object({
        LogDriver: z.string().optional(),
        LogOptions: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
});

/**
 * Asks the ECS task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4` + `/task`, a link-local
 * address only the task reaches) which task this is. Asked once per run; undefined when not on ECS
 * (local runs, tests) or when the endpoint does not answer within `timeoutMs` — links are a
 * convenience, never a reason to delay or fail a drain.
 */
export async function fetchTaskLocation(
  env: NodeJS.ProcessEnv,
  timeoutMs = 2_000,
): Promise<TaskLocation | undefined> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) return undefined;
  try {
    const res = await fetch(`${base.replace(/\/$/, '')}/task`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const parsed = taskMetadataSchema.safeParse(await res.json());
    if (!parsed.success) return undefined;
    // The runner's task has one container; its awslogs options name the group and the stream.
    const logs = parsed.data.Containers?.find((c) => c.LogDriver === 'awslogs')?.LogOptions ?? {};
    return {
      taskArn: parsed.data.TaskARN,
      ...(logs['awslogs-group'] ? { logGroup: logs['awslogs-group'] } : {}),
      ...(logs['awslogs-stream'] ? { logStream: logs['awslogs-stream'] } : {}),
      ...(logs['awslogs-region'] ? { logRegion: logs['awslogs-region'] } : {}),
    };
  } catch {
    return undefined;
  }
}
