import { Match, Template } from 'aws-cdk-lib/assertions';
import { SnowWhiteStack } from '../../infra/snowwhite-stack';
import { LEDGER } from '../../runner/ledger/schema';
import {
  actionsOf,
  allStatements,
  logicalId,
  policyStatementsForRole,
  tempApp,
  type Statement,
} from './helpers';

/** Fleet memory in the synthesized template: the ledger table, the reminder schedule, the rights on both. */
let env: ReturnType<typeof tempApp>;
let stack: SnowWhiteStack;
let template: Template;
let json: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(() => {
  env = tempApp({ bundle: false });
  stack = new SnowWhiteStack(env.app, 'SnowWhite', { notifyChannelId: 'C0123456789' });
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
});
afterAll(() => env?.cleanup());

const r = (value: unknown): unknown => stack.resolve(value);

test('the ledger: on-demand, TTL on expiresAt, point-in-time recovery, kept when the stack goes', () => {
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  template.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    Properties: Match.objectLike({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: LEDGER.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  });
});

test('the indexes Home, reminders and history query: fleets not awake, runs by user, recent runs', () => {
  const table = Object.values(json.Resources).find((x) => x.Type === 'AWS::DynamoDB::Table')!;
  const indexes = table.Properties.GlobalSecondaryIndexes as Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: string }>;
    Projection: { ProjectionType: string };
  }>;
  expect(indexes.map((i) => i.IndexName).sort()).toEqual(['byUser', 'notAwake', 'recent']);
  for (const spec of Object.values(LEDGER.indexes))
    expect(indexes.find((i) => i.IndexName === spec.name)).toEqual(
      expect.objectContaining({
        KeySchema: [
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          { AttributeName: spec.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }),
    );
});

test('an EventBridge rule invokes the bot every 15 minutes with the standard scheduled event', () => {
  const bot = stack.snowWhite.botFunction;
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(15 minutes)',
    State: 'ENABLED',
    Targets: [Match.objectLike({ Arn: r(bot.functionArn), RetryPolicy: { MaximumRetryAttempts: 0 } })],
  });
  // No Input: EventBridge sends its own "Scheduled Event", which the bot recognises.
  const rule = Object.values(json.Resources).find((x) => x.Type === 'AWS::Events::Rule')!;
  expect((rule.Properties.Targets as Array<Record<string, unknown>>)[0]).not.toHaveProperty('Input');
  template.hasResourceProperties('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunction',
    Principal: 'events.amazonaws.com',
    FunctionName: r(bot.functionArn),
    SourceArn: r(stack.snowWhite.fleetMemory.reminderRule.ruleArn),
  });
});

describe('DynamoDB rights', () => {
  const dynamo = (s: Statement) => actionsOf(s).filter((a) => a.startsWith('dynamodb:'));
  const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

  test('no DynamoDB permission on "*" or a wildcard action, anywhere in the stack', () => {
    const withDynamo = allStatements(json).filter((s) => dynamo(s).length > 0);
    expect(withDynamo.length).toBeGreaterThan(0);
    for (const s of withDynamo) {
      expect(resources(s)).not.toContain('*');
      expect(JSON.stringify(s.Resource)).not.toMatch(/index\/\*/);
      expect(dynamo(s).filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  test('bot: Put/Update/Get/DeleteItem on the table (runs, locks, limits), Query on its three indexes; nothing else', () => {
    const sw = stack.snowWhite;
    const table = sw.fleetMemory.table;
    const stmts = policyStatementsForRole(json, logicalId(stack, sw.botRole)).filter((s) => dynamo(s).length);
    const index = (name: string) => r(`${table.tableArn}/index/${name}`);
    expect(stmts).toEqual([
      {
        Sid: 'LedgerWrite',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
        Resource: r(table.tableArn),
      },
      {
        Sid: 'LedgerRead',
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: [index('notAwake'), index('byUser'), index('recent')],
      },
    ]);
  });

  test('runner: Put/UpdateItem on the table, DeleteItem for its locks (it reads nothing back but its own update)', () => {
    const sw = stack.snowWhite;
    const stmts = policyStatementsForRole(json, logicalId(stack, sw.taskDefinition.taskRole)).filter(
      (s) => dynamo(s).length,
    );
    expect(stmts).toEqual([
      {
        Sid: 'LedgerWrite',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: r(sw.fleetMemory.table.tableArn),
      },
    ]);
  });
});
