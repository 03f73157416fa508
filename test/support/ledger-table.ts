import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  DynamoDBClient,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { SnowWhiteStack } from '../../infra/snowwhite-stack';
import { tempApp } from '../infra/helpers';

/**
 * The ledger table for tests: dynalite (a DynamoDB implementation on the real wire protocol, in
 * memory) with the table created from the synthesized template's own definition, so a key or index
 * the code uses but the construct does not create fails here as it would on AWS.
 */
export interface LedgerTable {
  client: DynamoDBClient;
  tableName: string;
  /** Another, empty table with the same definition (one per test). */
  fresh(): Promise<string>;
  close(): Promise<void>;
}

interface TableProperties {
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
  BillingMode?: string;
}

let definition: TableProperties | undefined;

/** The AWS::DynamoDB::Table of the synthesized stack (one synth per test file; bundling skipped). */
export function ledgerTableDefinition(): TableProperties {
  if (definition) return definition;
  const env = tempApp({ bundle: false });
  try {
    const stack = new SnowWhiteStack(env.app, 'LedgerDefinition', { notifyChannelId: 'C0123456789' });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
    const [table, ...others] = Object.values(tables) as Array<{ Properties: TableProperties }>;
    if (!table || others.length)
      throw new Error(`expected one DynamoDB table, found ${Object.keys(tables).length}`);
    definition = table.Properties;
    return definition;
  } finally {
    env.cleanup();
  }
}

export async function startLedgerTable(): Promise<LedgerTable> {
  const props = ledgerTableDefinition();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 2,
  });
  let n = 0;
  const fresh = async () => {
    const tableName = `snowwhite-ledger-${++n}`;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: props.KeySchema,
        AttributeDefinitions: props.AttributeDefinitions,
        ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes } : {}),
        BillingMode: props.BillingMode as 'PAY_PER_REQUEST',
      }),
    );
    return tableName;
  };
  const tableName = await fresh();
  return {
    client,
    tableName,
    fresh,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
