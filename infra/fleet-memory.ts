import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LEDGER } from '../runner/ledger/schema';

export interface FleetMemoryProps {
  /** The bot: launches runs, shows App Home, sends reminders. */
  readonly botFunction: lambda.Function;
  readonly botRole: iam.IRole;
  readonly runnerContainer: ecs.ContainerDefinition;
  readonly runnerRole: iam.IRole;
  /**
   * How often the bot looks for fleets left quiet or stopped.
   * @default 15 minutes
   */
  readonly reminderInterval?: Duration;
}

/**
 * Fleet memory: the ledger table (runs and fleet states; keys in runner/ledger/schema.ts),
 * the schedule that makes the bot check for forgotten fleets, and each role's rights on the table:
 * only the actions it uses, on the table and the indexes it reads, nothing on `*`.
 */
export class FleetMemory extends Construct {
  readonly table: dynamodb.Table;
  readonly reminderRule: events.Rule;

  constructor(scope: Construct, id: string, props: FleetMemoryProps) {
    super(scope, id);
    const { indexes } = LEDGER;
    const str = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Ledger', {
      partitionKey: str(LEDGER.partitionKey),
      // On demand: a few hundred requests a day cost cents; nothing to size or scale.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The history outlives the stack: deleting the stack keeps the table.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(indexes))
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: str(index.partitionKey),
        sortKey: str(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });

    const indexArn = (name: string) => `${this.table.tableArn}/index/${name}`;
    props.botRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LedgerWrite',
        // PutItem: the run at launch, a lock; UpdateItem: reminder bookkeeping, a cancelled run, the
        // per-person limit; GetItem: a lock's holder; DeleteItem: a lock given back.
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
      }),
    );
    props.botRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LedgerRead',
        // App Home, reminders and history: Queries on the indexes only.
        actions: ['dynamodb:Query'],
        resources: [indexes.notAwake.name, indexes.byUser.name, indexes.recent.name].map(indexArn),
      }),
    );
    props.runnerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LedgerWrite',
        // UpdateItem: the run's progress and end; PutItem: the state it left each environment in;
        // DeleteItem: the run's locks given back at its end (conditional on its run id).
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
      }),
    );
    props.botFunction.addEnvironment('LEDGER_TABLE_NAME', this.table.tableName);
    props.runnerContainer.addEnvironment('LEDGER_TABLE_NAME', this.table.tableName);

    // A standard "Scheduled Event" (source aws.events); the bot knows it from Slack's requests.
    this.reminderRule = new events.Rule(this, 'ReminderSchedule', {
      description: 'Snow White: remind about fleets left quiet or stopped',
      schedule: events.Schedule.rate(props.reminderInterval ?? Duration.minutes(15)),
      targets: [
        new targets.LambdaFunction(props.botFunction, {
          // A missed check is made up by the next one.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });
  }
}
