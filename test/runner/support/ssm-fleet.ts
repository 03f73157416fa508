import type { CommandInvocation } from '@aws-sdk/client-ssm';
import { SIDEKIQCTL_STEP_NAME } from '../../../ssm/documents';
import type { Clock } from '../../../runner/drain/clock';
import { joinPluginOutput } from '../../../runner/aws/ssm-executor/plugin-output';
import { awsError } from '../../support/aws-errors';

/**
 * A simulated SSM Run Command fleet: SendCommand (with SSM's 50-instance limit),
 * ListCommands (InvokedAfter and DocumentName filters, one page), ListCommandInvocations
 * (paginated, filterable by instance, Details on/off) and GetCommandInvocation, answering from
 * per-instance scripts on a (virtual) clock.
 * Plugged into aws-sdk-client-mock by tests, used directly as a client by the bench.
 */

export interface FinalState {
  Status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  StatusDetails?: string;
  ResponseCode: number;
  stdout?: string;
  stderr?: string;
}

export interface InstanceScript {
  /** Time after SendCommand before the script starts (Pending until then). */
  deliverAfterMs?: number;
  /** Time the script runs (InProgress) before its final state. */
  runMs: number;
  final: FinalState;
}

export const drainedJson = (busy = 0) =>
  JSON.stringify({
    action: 'quiet',
    result: busy ? 'timeout' : 'drained',
    elapsed_seconds: 7.9,
    processes: [{ pid: 4242, version: '6.4.1', tag: '', busy, concurrency: 3, quiet: true }],
  });

export const SCRIPTS = {
  drained: (runMs = 10_000): InstanceScript => ({
    runMs,
    final: { Status: 'Success', ResponseCode: 0, stdout: drainedJson(0), stderr: 'quiet sent\nidle' },
  }),
  busy: (busy: number, runMs = 10_000): InstanceScript => ({
    runMs,
    final: { Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 2, stdout: drainedJson(busy) },
  }),
  noSidekiq: (): InstanceScript => ({
    runMs: 1_000,
    final: {
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 3,
      stdout: JSON.stringify({ action: 'quiet', result: 'no_sidekiq', processes: [] }),
    },
  }),
  failed: (message = 'kill: permission denied'): InstanceScript => ({
    runMs: 1_000,
    final: {
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 1,
      stdout: JSON.stringify({ action: 'quiet', result: 'error', error: message }),
    },
  }),
  executionTimedOut: (): InstanceScript => ({
    runMs: 60_000,
    final: { Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut', ResponseCode: -1 },
  }),
  undeliverable: (): InstanceScript => ({
    deliverAfterMs: 30_000,
    runMs: 0,
    final: { Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1 },
  }),
};

interface Sent {
  commandId: string;
  documentName: string;
  input: Record<string, unknown>;
  sentAt: number;
  instanceIds: string[];
  members: Set<string>;
}

export class SsmFleet {
  readonly sent: Sent[] = [];
  readonly calls: Record<string, number> = {};
  /** Enforce SSM's 50-instance limit (the bench lifts it to show the old tool's polling cost). */
  enforceLimit = true;
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly scriptFor: (instanceId: string) => InstanceScript,
    /** ListCommandInvocations page size cap (SSM: 50); tests lower it to force pagination. */
    private readonly pageSize = 50,
  ) {}

  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  sendCommand(input: {
    DocumentName?: string;
    InstanceIds?: string[];
    Parameters?: Record<string, string[]>;
    Comment?: string;
  }): { Command: { CommandId: string } } {
    this.count('SendCommand');
    const ids = input.InstanceIds ?? [];
    if (this.enforceLimit && ids.length > 50)
      throw awsError(
        'ValidationException',
        `1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50`,
      );
    const commandId = `cmd-${String(this.nextId++).padStart(4, '0')}`;
    this.sent.push({
      commandId,
      documentName: input.DocumentName ?? '',
      input: input as Record<string, unknown>,
      sentAt: this.clock.now(),
      instanceIds: ids,
      members: new Set(ids),
    });
    return { Command: { CommandId: commandId } };
  }

  listCommands(input: { Filters?: Array<{ key?: string; value?: string }> }) {
    this.count('ListCommands');
    const filter = (key: string) => input.Filters?.find((f) => f.key === key)?.value;
    const after = filter('InvokedAfter');
    const doc = filter('DocumentName');
    return {
      Commands: this.sent
        .filter((c) => (!after || c.sentAt >= Date.parse(after)) && (!doc || c.documentName === doc))
        .map((c) => ({
          CommandId: c.commandId,
          DocumentName: c.documentName,
          Comment: c.input.Comment as string | undefined,
          InstanceIds: c.instanceIds,
          RequestedDateTime: new Date(c.sentAt),
        })),
    };
  }

  listCommandInvocations(input: {
    CommandId?: string;
    InstanceId?: string;
    Details?: boolean;
    MaxResults?: number;
    NextToken?: string;
  }): { CommandInvocations: CommandInvocation[]; NextToken?: string } {
    this.count('ListCommandInvocations');
    const cmd = this.command(input.CommandId);
    if (!cmd) return { CommandInvocations: [] };
    const ids = input.InstanceId
      ? cmd.members.has(input.InstanceId)
        ? [input.InstanceId]
        : []
      : cmd.instanceIds;
    const size = Math.min(this.pageSize, input.MaxResults ?? 50);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = ids.slice(start, start + size).map((id) => this.invocation(cmd, id, !!input.Details));
    const next = start + size < ids.length ? String(start + size) : undefined;
    return { CommandInvocations: page, ...(next ? { NextToken: next } : {}) };
  }

  getCommandInvocation(input: { CommandId?: string; InstanceId?: string; PluginName?: string }) {
    this.count('GetCommandInvocation');
    const cmd = this.command(input.CommandId);
    if (!cmd || !input.InstanceId) throw awsError('InvocationDoesNotExist', 'invocation does not exist');
    if (input.PluginName !== SIDEKIQCTL_STEP_NAME)
      throw awsError('InvalidPluginName', `no plugin ${input.PluginName}`);
    const state = this.state(cmd, input.InstanceId);
    return {
      Status: state.Status,
      StatusDetails: state.StatusDetails ?? state.Status,
      ResponseCode: state.ResponseCode,
      StandardOutputContent: state.stdout ?? '',
      StandardErrorContent: state.stderr ?? '',
    };
  }

  private command(id: string | undefined): Sent | undefined {
    return id ? this.sent.find((c) => c.commandId === id) : undefined;
  }

  /** The fleet as an SSM client's `send` (the bench uses it without aws-sdk-client-mock). */
  async send(command: { constructor: { name: string }; input: unknown }): Promise<unknown> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const input = command.input as any;
    switch (command.constructor.name) {
      case 'SendCommandCommand':
        return this.sendCommand(input);
      case 'ListCommandsCommand':
        return this.listCommands(input);
      case 'ListCommandInvocationsCommand':
        return this.listCommandInvocations(input);
      case 'GetCommandInvocationCommand':
        return this.getCommandInvocation(input);
      default:
        throw new Error(`the simulated fleet does not answer ${command.constructor.name}`);
    }
  }

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  private state(
    cmd: Sent,
    instanceId: string,
  ):
    | FinalState
    | {
        Status: 'Pending' | 'InProgress';
        ResponseCode: -1;
        stdout?: string;
        stderr?: string;
        StatusDetails?: string;
      } {
    const script = this.scriptFor(instanceId);
    const t = this.clock.now() - cmd.sentAt;
    const deliver = script.deliverAfterMs ?? 0;
    if (t < deliver) return { Status: 'Pending', ResponseCode: -1 };
    if (t < deliver + script.runMs) return { Status: 'InProgress', ResponseCode: -1 };
    return script.final;
  }

  private invocation(cmd: Sent, instanceId: string, details: boolean): CommandInvocation {
    const s = this.state(cmd, instanceId);
    const inv: CommandInvocation = {
      CommandId: cmd.commandId,
      InstanceId: instanceId,
      DocumentName: cmd.documentName,
      Comment: cmd.input.Comment as string | undefined,
      Status: s.Status,
      StatusDetails: s.StatusDetails ?? s.Status,
    };
    if (details)
      inv.CommandPlugins = [
        {
          Name: SIDEKIQCTL_STEP_NAME,
          Status: s.Status,
          ResponseCode: s.ResponseCode,
          Output: joinPluginOutput(s.stdout ?? '', s.stderr ?? ''),
        },
      ];
    return inv;
  }
}
