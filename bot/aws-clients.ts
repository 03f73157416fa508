import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import { createProofStsClient } from './cli/sts-identity';
import { awsRetryConfig } from '../runner/aws/clients';
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
}

export function createBotAwsClients(): BotAwsClients {
  const retry = awsRetryConfig();
  const eb = new Map<string, ElasticBeanstalkClient>();
  return {
    iam: new IAMClient(retry),
    ecs: new ECSClient(retry),
    lambda: new LambdaClient(retry),
    secretsManager: new SecretsManagerClient(retry),
    sts: createProofStsClient(),
    dynamodb: ledgerDynamoDbClient(),
    elasticBeanstalk: (region) => {
      let client = eb.get(region);
      if (!client) eb.set(region, (client = new ElasticBeanstalkClient({ region, ...retry })));
      return client;
    },
  };
}
