import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import { createProofStsClient } from './cli/sts-identity';
import { AWS_MAX_ATTEMPTS, awsRetryConfig, RetryOnlyIfNotCarriedOut } from '../runner/aws/clients';
import { ledgerDynamoDbClient } from '../runner/ledger/store';

/** The bot's AWS clients, built once per container and passed down (tests pass mocked ones). */
export interface BotAwsClients {
  iam: IAMClient;
  ecs: ECSClient;
  lambda: LambdaClient;
  secretsManager: SecretsManagerClient;
  /** Carries command-line identity proofs to this region's STS (signs nothing of the bot's). */
  sts: STSClient;
  /** The ledger's table is in the bot's own region. */
  dynamodb: DynamoDBClient;
  /** Elastic Beanstalk in the region a command names. */
  elasticBeanstalk(region: string): ElasticBeanstalkClient;
  /** SSM in the fleet's region: reachability, command look-ups, status invocations. */
  ssm(region: string): SSMClient;
  /**
   * SSM for SendCommand alone: the same adaptive retry, but never after a failure that may have
   * created the command (a second one would run the script twice on every instance).
   */
  ssmSendCommand(region: string): SSMClient;
}

/** One client per region, built on first use. */
function perRegion<T>(make: (region: string) => T): (region: string) => T {
  const made = new Map<string, T>();
  return (region) => {
    let client = made.get(region);
    if (!client) made.set(region, (client = make(region)));
    return client;
  };
}

export function createBotAwsClients(): BotAwsClients {
  const retry = awsRetryConfig();
  return {
    iam: new IAMClient(retry),
    ecs: new ECSClient(retry),
    lambda: new LambdaClient(retry),
    secretsManager: new SecretsManagerClient(retry),
    sts: createProofStsClient(),
    dynamodb: ledgerDynamoDbClient(),
    elasticBeanstalk: perRegion((region) => new ElasticBeanstalkClient({ region, ...retry })),
    ssm: perRegion((region) => new SSMClient({ region, ...retry })),
    ssmSendCommand: perRegion(
      (region) =>
        new SSMClient({ region, ...retry, retryStrategy: new RetryOnlyIfNotCarriedOut(AWS_MAX_ATTEMPTS) }),
    ),
  };
}
