import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AdaptiveRetryStrategy } from '@smithy/core/retry';
import { certainlyNotCarriedOut } from './errors';

/** The runner's AWS clients, built once in main and passed down. */
export interface RunnerAwsClients {
  /** Reads (targets, polling): every retryable error is retried. */
  ssm: SSMClient;
  /**
   * SendCommand only: retried only when the call certainly did not take effect (throttling).
   * createAwsClients always sets it; without it (tests with mocked clients, where the SDK's retries
   * never run) `ssm` sends the commands.
   */
  ssmSendCommand?: SSMClient;
  elasticBeanstalk: ElasticBeanstalkClient;
}

export const AWS_MAX_ATTEMPTS = 10;

/**
 * The one retry policy of every AWS client of ours (bot, runner, command line): the SDK's adaptive
 * mode, which backs off on throttling and 5xx and also slows the client's own sending rate.
 */
export const awsRetryConfig = (maxAttempts = AWS_MAX_ATTEMPTS) => ({
  retryMode: 'adaptive' as const,
  maxAttempts,
});

type Adaptive = InstanceType<typeof AdaptiveRetryStrategy>;

/**
 * The SDK's adaptive retry strategy (same backoff, same client-side rate limiting on throttling),
 * refusing to retry any error after which the call may have been carried out. When
 * refreshRetryTokenForRetry throws, the SDK's retry middleware gives up and rethrows the call's
 * own error (@smithy/core/retry, retryMiddleware), so callers see the 5xx or timeout itself.
 */
export class RetryOnlyIfNotCarriedOut {
  readonly mode = 'adaptive';
  private readonly inner: Adaptive;

  constructor(maxAttempts: number) {
    this.inner = new AdaptiveRetryStrategy(maxAttempts);
  }

  acquireInitialRetryToken(scope: string): ReturnType<Adaptive['acquireInitialRetryToken']> {
    return this.inner.acquireInitialRetryToken(scope);
  }

  async refreshRetryTokenForRetry(
    ...[token, errorInfo]: Parameters<Adaptive['refreshRetryTokenForRetry']>
  ): ReturnType<Adaptive['refreshRetryTokenForRetry']> {
    if (!certainlyNotCarriedOut(errorInfo.error))
      throw new Error('not retried: the call may have been carried out');
    return this.inner.refreshRetryTokenForRetry(token, errorInfo);
  }

  recordSuccess(token: Parameters<Adaptive['recordSuccess']>[0]): void {
    this.inner.recordSuccess(token);
  }
}

/** What the Fargate runner talks to: SSM only (it reads invocations and cancels; it sends nothing). */
export interface RunnerSsm {
  ssm: SSMClient;
}

/** The runner's SSM client for the fleet's region (the one retry policy). */
export const createRunnerSsm = (region: string): RunnerSsm => ({
  ssm: new SSMClient({ region, ...awsRetryConfig() }),
});

export interface AwsClientOverrides {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

/**
 * The runner's AWS clients for one region. Adaptive retry mode: the SDK backs off exponentially on
 * throttling and also slows its own sending rate for the whole client, which matters when a round
 * polls a hundred commands. Endpoints come from the SDK's standard
 * configuration (AWS_ENDPOINT_URL…), or `endpoint` in tests.
 *
 * SendCommand gets a client of its own: it is not idempotent (each call runs the script once
 * more on every instance — for `wake`, a second restart could kill the fresh process the first one
 * started), so it must never be re-sent after a failure that may have created the command.
 */
export function createAwsClients(region: string, overrides: AwsClientOverrides = {}): RunnerAwsClients {
  const maxAttempts = overrides.maxAttempts ?? AWS_MAX_ATTEMPTS;
  const config = {
    region,
    ...awsRetryConfig(maxAttempts),
    ...(overrides.endpoint ? { endpoint: overrides.endpoint } : {}),
    ...(overrides.credentials ? { credentials: overrides.credentials } : {}),
  };
  return {
    ssm: new SSMClient(config),
    ssmSendCommand: new SSMClient({ ...config, retryStrategy: new RetryOnlyIfNotCarriedOut(maxAttempts) }),
    elasticBeanstalk: new ElasticBeanstalkClient(config),
  };
}
