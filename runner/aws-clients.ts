import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * The runner's AWS clients, built once in main and passed down. Adaptive retry mode: the SDK
 * backs off exponentially on throttling and also slows its own sending rate for the whole client,
 * which matters when a round polls a hundred commands. Endpoints come from the SDK's standard
 * configuration (AWS_ENDPOINT_URL…), or `endpoint` in tests.
 */
export interface RunnerAwsClients {
  ssm: SSMClient;
  elasticBeanstalk: ElasticBeanstalkClient;
}

export const AWS_MAX_ATTEMPTS = 10;

export interface AwsClientOverrides {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

export function createAwsClients(region: string, overrides: AwsClientOverrides = {}): RunnerAwsClients {
  const config = {
    region,
    retryMode: 'adaptive',
    maxAttempts: overrides.maxAttempts ?? AWS_MAX_ATTEMPTS,
    ...(overrides.endpoint ? { endpoint: overrides.endpoint } : {}),
    ...(overrides.credentials ? { credentials: overrides.credentials } : {}),
  };
  return { ssm: new SSMClient(config), elasticBeanstalk: new ElasticBeanstalkClient(config) };
}
