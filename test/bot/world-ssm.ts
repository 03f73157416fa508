import { randomUUID } from 'node:crypto';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type SSMClient,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { joinPluginOutput } from '../../runner/aws/ssm-executor/plugin-output';
import { SIDEKIQCTL_STEP_NAME } from '../../ssm/documents';
import { awsError } from '../support/aws-errors';

/**
 * SSM Run Command for the bot's world: SendCommand (SSM's 50-id limit, unknown instances refused as
 * SSM refuses them), ListCommands (document and Comment), ListCommandInvocations and
 * GetCommandInvocation answering for each instance with sidekiqctl.sh's JSON line at once — except
 * `silent` instances, which never answer (InProgress for ever) and `offline` ones, which SSM knows
 * but cannot reach (ConnectionLost).
 */
export interface SentSsmCommand {
  commandId: string;
  documentName: string;
  instanceIds: string[];
  comment: string;
  parameters: Record<string, string[]>;
  at: number;
}

export class WorldSsm {
  readonly sent: SentSsmCommand[] = [];
  /** Instances that never answer. */
  silent = new Set<string>();
  /** Instances registered with SSM whose agent lost its connection. */
  offline = new Set<string>();
  /** Per instance: the Sidekiq processes a status reports (default: one awake, idle). */
  processes = new Map<string, Array<{ pid: number; busy: number; concurrency: number; quiet: boolean }>>();
  /** SendCommand calls to fail (counts down), with this error. */
  failSends = 0;
  /** How long a script takes on an instance (InProgress until then); the bench sets it. */
  answerAfterMs = 0;
  readonly mock;

  constructor(
    client: SSMClient,
    /** Every instance id the fleet has (EC2 instances Elastic Beanstalk names). */
    private readonly known: () => string[],
  ) {
    this.mock = mockClient(client);
    this.install();
  }

  reset(): void {
    this.sent.length = 0;
    this.silent.clear();
    this.offline.clear();
    this.processes.clear();
    this.failSends = 0;
    this.answerAfterMs = 0;
    this.mock.reset();
    this.install();
  }

  /** Instance ids the commands were sent to (each once per send). */
  instancesSentTo(documentName?: string): string[] {
    return this.sent
      .filter((c) => !documentName || c.documentName === documentName)
      .flatMap((c) => c.instanceIds);
  }

  private install(): void {
    this.mock.on(DescribeInstanceInformationCommand).callsFake(async (input) => {
      const wanted: string[] =
        input.Filters?.find((f: { Key: string }) => f.Key === 'InstanceIds')?.Values ?? [];
      const known = new Set(this.known());
      return {
        InstanceInformationList: wanted
          .filter((id) => known.has(id))
          .map((InstanceId) => ({
            InstanceId,
            PingStatus: this.offline.has(InstanceId) ? 'ConnectionLost' : 'Online',
            PlatformType: 'Linux',
          })),
      };
    });
    this.mock.on(SendCommandCommand).callsFake(async (input: SendCommandCommandInput) => {
      const ids = input.InstanceIds ?? [];
      if (ids.length > 50) throw awsError('ValidationException', 'at most 50 instance ids');
      if (this.failSends > 0) {
        this.failSends--;
        throw awsError('AccessDeniedException', 'not authorized to perform ssm:SendCommand', 400);
      }
      const known = new Set(this.known());
      const unknown = ids.find((id) => !known.has(id));
      if (unknown) throw awsError('InvalidInstanceId', `instance ${unknown} is not managed by SSM`, 400);
      const command: SentSsmCommand = {
        commandId: randomUUID(),
        documentName: input.DocumentName ?? '',
        instanceIds: [...ids],
        comment: input.Comment ?? '',
        parameters: input.Parameters ?? {},
        at: Date.now(),
      };
      this.sent.push(command);
      return {
        Command: {
          CommandId: command.commandId,
          DocumentName: command.documentName,
          InstanceIds: command.instanceIds,
          Comment: command.comment,
          RequestedDateTime: new Date(command.at),
        },
      };
    });
    this.mock.on(ListCommandsCommand).callsFake(async (input) => {
      const doc = input.Filters?.find((f: { key: string }) => f.key === 'DocumentName')?.value;
      return {
        Commands: this.sent
          .filter((c) => !doc || c.documentName === doc)
          .map((c) => ({
            CommandId: c.commandId,
            DocumentName: c.documentName,
            InstanceIds: c.instanceIds,
            Comment: c.comment,
            RequestedDateTime: new Date(c.at),
          })),
      };
    });
    this.mock.on(ListCommandInvocationsCommand).callsFake(async (input) => {
      const c = this.command(input.CommandId);
      return {
        CommandInvocations: c.instanceIds.map((id) => this.invocation(c, id, input.Details === true)),
      };
    });
    this.mock.on(GetCommandInvocationCommand).callsFake(async (input) => {
      const c = this.command(input.CommandId);
      const inv = this.invocation(c, input.InstanceId ?? '', true);
      return {
        Status: inv.Status,
        StatusDetails: inv.StatusDetails,
        ResponseCode: 0,
        StandardOutputContent: this.stdout(c, input.InstanceId ?? ''),
      };
    });
  }

  private command(id: string | undefined): SentSsmCommand {
    const c = this.sent.find((x) => x.commandId === id);
    if (!c) throw awsError('InvalidCommandId', `command ${id} not found`, 400);
    return c;
  }

  private stdout(c: SentSsmCommand, instanceId: string): string {
    const action = /^snowwhite (\w+) /.exec(c.comment)?.[1] ?? 'status';
    const processes = (
      this.processes.get(instanceId) ?? [{ pid: 4242, busy: 0, concurrency: 3, quiet: false }]
    ).map((p) => ({ ...p, version: '6.4.1', tag: '' }));
    return JSON.stringify({
      action,
      result: action === 'status' ? 'reported' : 'drained',
      elapsed_seconds: 0.4,
      processes: action === 'status' ? processes : processes.map((p) => ({ ...p, busy: 0, quiet: true })),
    });
  }

  private invocation(c: SentSsmCommand, instanceId: string, details: boolean): CommandInvocation {
    const silent = this.silent.has(instanceId) || Date.now() - c.at < this.answerAfterMs;
    const status = silent ? 'InProgress' : 'Success';
    return {
      CommandId: c.commandId,
      InstanceId: instanceId,
      DocumentName: c.documentName,
      Comment: c.comment,
      Status: status,
      StatusDetails: status,
      ...(details
        ? {
            CommandPlugins: [
              {
                Name: SIDEKIQCTL_STEP_NAME,
                Status: status,
                ...(silent
                  ? {}
                  : { ResponseCode: 0, Output: joinPluginOutput(this.stdout(c, instanceId), '') }),
              },
            ],
          }
        : {}),
    };
  }
}
