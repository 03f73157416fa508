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

export const throttlingError = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

export const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** An AWS error as the SDK surfaces a given HTTP status (5xx: the service failed, maybe after acting). */
export const httpError = (name: string, httpStatusCode: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

/** A Node.js network error (no HTTP answer at all). */
export const networkError = (code: string) => Object.assign(new Error(`socket ${code}`), { code });
