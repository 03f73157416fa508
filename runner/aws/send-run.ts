import type { SSMClient } from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import type { Clock } from '../drain/clock';
import type { InstanceOutcome } from '../drain/outcome';
import type { Target, UnreachableTarget } from '../drain/targets';
import type { Logger } from '../log';
import type { SentCommand } from '../request';
import type { Action } from '../../ssm/actions';
import { pingStatuses, unreachableReason } from './reachability';
import {
  DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  DEFAULT_LOOKUP_DELAYS_MS,
  dispatch,
  SSM_MAX_INSTANCES_PER_COMMAND,
} from './ssm-executor/dispatch';

/** Confirmed environments and their instances (a preview that was confirmed as it is). */
export interface ConfirmedEnvironment {
  name: string;
  instanceIds: readonly string[];
}

/**
 * The confirmed instances split by whether SSM can run a command there now. SendCommand refuses a
 * whole call naming one instance SSM does not manage, so those are never sent to: they are reported.
 * Sorted by environment, then instance: the same confirmation always gives the same batches.
 */
export async function splitReachable(
  ssm: SSMClient,
  environments: readonly ConfirmedEnvironment[],
): Promise<{ reachable: Target[]; unreachable: UnreachableTarget[] }> {
  const sorted = [...environments].sort((a, b) => a.name.localeCompare(b.name));
  const ping = await pingStatuses(
    ssm,
    sorted.flatMap((e) => e.instanceIds),
  );
  const reachable: Target[] = [];
  const unreachable: UnreachableTarget[] = [];
  for (const env of sorted)
    for (const instanceId of [...env.instanceIds].sort()) {
      const status = ping.get(instanceId);
      if (status === 'Online') reachable.push({ instanceId, environment: env.name });
      else unreachable.push({ instanceId, environment: env.name, reason: unreachableReason(status) });
    }
  return { reachable, unreachable };
}

export interface SendRunOptions {
  runId: string;
  action: Action;
  documentName: string;
  targets: readonly Target[];
  drainTimeoutSeconds: number;
  executionTimeoutSeconds: number;
  /** An earlier attempt may have sent some batches: find those by their Comment, send only the rest. */
  lookUpFirst?: boolean;
  clock: Clock;
  log: Logger;
}

export interface SentRun {
  commands: SentCommand[];
  /** Instances of batches that did not start ('failed'), or may have ('unknown'). */
  notStarted: InstanceOutcome[];
}

/**
 * Sends the action's document to exactly `targets`, one environment and at most 50 instances per
 * command, the run id in each command's Comment (dispatch.ts: never re-sent after a failure that may
 * have created the command; looked up instead). `sendClient` retries only failures that certainly
 * did not create a command. Throws when nothing at all could be started.
 */
export async function sendRun(
  clients: { ssm: SSMClient; sendClient: SSMClient },
  options: SendRunOptions,
): Promise<SentRun> {
  const commands: SentCommand[] = [];
  const notStarted: InstanceOutcome[] = [];
  const envOf = new Map(options.targets.map((t) => [t.instanceId, t.environment]));
  const never = new AbortController().signal;
  await dispatch(
    {
      runId: options.runId,
      action: options.action,
      targets: options.targets,
      drainTimeoutSeconds: options.drainTimeoutSeconds,
      executionTimeoutSeconds: options.executionTimeoutSeconds,
      deadline: Number.POSITIVE_INFINITY,
    },
    {
      dispatched: (commandId, instanceIds) =>
        commands.push({
          commandId,
          environment: envOf.get(instanceIds[0]!) ?? '',
          instances: instanceIds.length,
        }),
      running: () => undefined,
      finished: (outcome) => notStarted.push(outcome),
    },
    never,
    {
      ssm: clients.ssm,
      sendClient: clients.sendClient,
      clock: options.clock,
      log: options.log,
      limit: pLimit(8),
      documentName: options.documentName,
      batchSize: SSM_MAX_INSTANCES_PER_COMMAND,
      deliveryTimeoutSeconds: DEFAULT_DELIVERY_TIMEOUT_SECONDS,
      lookupDelaysMs: DEFAULT_LOOKUP_DELAYS_MS,
      ...(options.lookUpFirst ? { lookUpFirst: true } : {}),
    },
  );
  // Batches finish sending in any order; the run request lists them by environment.
  commands.sort(
    (a, b) => a.environment.localeCompare(b.environment) || a.commandId.localeCompare(b.commandId),
  );
  return { commands, notStarted };
}
