import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { SsmFleet } from './ssm-fleet';

/** An aws-sdk-client-mock SSM client whose Run Command calls are answered by `fleet`. */
export function mockSsmFleet(fleet: SsmFleet) {
  const client = new SSMClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  mock.on(SendCommandCommand).callsFake(async (input) => fleet.sendCommand(input));
  mock.on(ListCommandsCommand).callsFake(async (input) => fleet.listCommands(input));
  mock.on(ListCommandInvocationsCommand).callsFake(async (input) => fleet.listCommandInvocations(input));
  mock.on(GetCommandInvocationCommand).callsFake(async (input) => fleet.getCommandInvocation(input));
  return { client, mock };
}
