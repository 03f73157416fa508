import { readFileSync } from 'node:fs';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { Action } from '../../ssm/actions';
import { joinPluginOutput } from '../../runner/aws/ssm-executor/plugin-output';
import {
  renderRunCommand,
  sidekiqctlDocument,
  SIDEKIQCTL_STEP_NAME,
  type SsmCommandDocument,
} from '../../ssm/documents';
import { awsError } from './aws-errors';
import { SCRIPT, type SidekiqHost } from './sidekiq-host';

/**
 * SSM Run Command for end-to-end tests, with real instances: each instance id is a SidekiqHost (a
 * private PID namespace with real Sidekiq), and SendCommand runs the action's real SSM document
 * there — the document built from ssm/sidekiqctl.sh exactly as the CDK stack builds it, parameters
 * substituted as SSM does — with `sh`, as aws:runShellScript does. ListCommandInvocations and
 * GetCommandInvocation answer from those real runs.
 */

interface Invocation {
  status: 'InProgress' | 'Success' | 'Failed';
  code: number;
  stdout: string;
  stderr: string;
  done: Promise<void>;
}

interface Command {
  id: string;
  documentName: string;
  comment: string;
  sentAt: Date;
  instanceIds: string[];
  invocations: Map<string, Invocation>;
}

export class HostSsm {
  readonly commands: Command[] = [];
  private readonly documents: Map<string, SsmCommandDocument>;

  constructor(
    private readonly hosts: ReadonlyMap<string, SidekiqHost>,
    documentNames: Record<Action, string>,
  ) {
    const script = readFileSync(SCRIPT, 'utf8');
    this.documents = new Map(
      (Object.entries(documentNames) as Array<[Action, string]>).map(([action, name]) => [
        name,
        sidekiqctlDocument(action, script),
      ]),
    );
  }

  /** Answers `client`'s SSM calls (aws-sdk-client-mock on that one client). */
  install(client: SSMClient) {
    const mock = mockClient(client);
    mock
      .on(DescribeInstanceInformationCommand)
      .callsFake(async (input: { Filters?: { Key: string; Values: string[] }[] }) => {
        const wanted = input.Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? [...this.hosts.keys()];
        return {
          InstanceInformationList: wanted
            .filter((id) => this.hosts.has(id))
            .map((InstanceId) => ({ InstanceId, PingStatus: 'Online', PlatformType: 'Linux' })),
        };
      });
    mock.on(SendCommandCommand).callsFake(async (input) => this.send(input));
    mock.on(ListCommandInvocationsCommand).callsFake(async (input) => this.list(input));
    mock.on(ListCommandsCommand).callsFake(async (input: { Filters?: { key: string; value: string }[] }) => {
      const doc = input.Filters?.find((f) => f.key === 'DocumentName')?.value;
      return {
        Commands: this.commands
          .filter((c) => !doc || c.documentName === doc)
          .map((c) => ({
            CommandId: c.id,
            DocumentName: c.documentName,
            Comment: c.comment,
            InstanceIds: c.instanceIds,
            RequestedDateTime: c.sentAt,
          })),
      };
    });
    mock.on(GetCommandInvocationCommand).callsFake(async (input) => this.get(input));
    return mock;
  }

  /** Resolves when every script started so far has exited. */
  async settled(): Promise<void> {
    await Promise.all(this.commands.flatMap((c) => [...c.invocations.values()].map((i) => i.done)));
  }

  private send(input: {
    DocumentName?: string;
    Comment?: string;
    InstanceIds?: string[];
    Parameters?: Record<string, string[]>;
  }) {
    const doc = this.documents.get(input.DocumentName ?? '');
    if (!doc) throw awsError('InvalidDocument', `document ${input.DocumentName} not found`);
    const ids = input.InstanceIds ?? [];
    if (ids.length > 50) throw awsError('ValidationException', 'at most 50 instance ids');
    const parameters = Object.fromEntries(
      Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, v.join(',')]),
    );
    const text = renderRunCommand(doc, parameters);
    const command: Command = {
      id: `cmd-${this.commands.length + 1}`,
      documentName: input.DocumentName!,
      comment: input.Comment ?? '',
      sentAt: new Date(),
      instanceIds: ids,
      invocations: new Map(),
    };
    for (const id of ids) {
      const host = this.hosts.get(id);
      if (!host) continue; // undeliverable; the runner only sends to Online instances
      command.invocations.set(id, this.run(host, text));
    }
    this.commands.push(command);
    return { Command: { CommandId: command.id, DocumentName: command.documentName, InstanceIds: ids } };
  }

  private run(host: SidekiqHost, text: string): Invocation {
    const inv = { status: 'InProgress', code: -1, stdout: '', stderr: '' } as Invocation;
    const child = host.exec('sh', ['-c', text], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (inv.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (inv.stderr += d.toString()));
    inv.done = new Promise((resolve) =>
      child.once('close', (code) => {
        inv.code = code ?? 1;
        inv.status = code === 0 ? 'Success' : 'Failed';
        resolve();
      }),
    );
    return inv;
  }

  private command(id: string | undefined): Command {
    const c = this.commands.find((x) => x.id === id);
    if (!c) throw awsError('InvalidCommandId', `command ${id} not found`);
    return c;
  }

  private list(input: { CommandId?: string; Details?: boolean; NextToken?: string; MaxResults?: number }) {
    const c = this.command(input.CommandId);
    const start = Number(input.NextToken ?? 0);
    const size = Math.min(input.MaxResults ?? 50, 50);
    const page = c.instanceIds.slice(start, start + size).map((id): CommandInvocation => {
      const inv = c.invocations.get(id);
      const status = inv?.status ?? 'Failed';
      return {
        CommandId: c.id,
        InstanceId: id,
        DocumentName: c.documentName,
        Comment: c.comment,
        Status: status,
        StatusDetails: inv ? status : 'Undeliverable',
        ...(input.Details
          ? {
              CommandPlugins: [
                {
                  Name: SIDEKIQCTL_STEP_NAME,
                  Status: status,
                  ResponseCode: inv?.code ?? -1,
                  Output: inv ? joinPluginOutput(inv.stdout, inv.stderr) : '',
                },
              ],
            }
          : {}),
      };
    });
    const next = start + size < c.instanceIds.length ? String(start + size) : undefined;
    return { CommandInvocations: page, ...(next ? { NextToken: next } : {}) };
  }

  private get(input: { CommandId?: string; InstanceId?: string; PluginName?: string }) {
    const inv = this.command(input.CommandId).invocations.get(input.InstanceId ?? '');
    if (!inv) throw awsError('InvocationDoesNotExist', 'invocation does not exist');
    if (input.PluginName !== undefined && input.PluginName !== SIDEKIQCTL_STEP_NAME)
      throw awsError('InvalidPluginName', `no plugin ${input.PluginName}`);
    return {
      Status: inv.status,
      StatusDetails: inv.status,
      ResponseCode: inv.code,
      StandardOutputContent: inv.stdout,
      StandardErrorContent: inv.stderr,
    };
  }
}
