/**
 * What a bundled bot needs in its environment to answer a signed request on its own, with no AWS
 * and no Slack: a fixed signing secret and token, runner settings that name nothing real, and a
 * Slack API nobody listens on (the bundle test and the cold-start bench spawn it this way).
 */
export function standaloneBotEnv(signingSecret: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
    SLACK_NOTIFY_CHANNEL: 'C0NOTIFY',
    RUNNER_CLUSTER: 'snowwhite',
    RUNNER_TASK_DEFINITION_ARN: 'arn:aws:ecs:us-east-1:123456789012:task-definition/runner:1',
    RUNNER_SUBNET_IDS: 'subnet-0a1',
    RUNNER_SECURITY_GROUP_IDS: 'sg-0c3',
    SSM_DOCUMENT_QUIET: 'q-doc',
    SSM_DOCUMENT_STOP: 's-doc',
    SSM_DOCUMENT_WAKE: 'w-doc',
    SSM_DOCUMENT_STATUS: 'st-doc',
    AWS_LAMBDA_FUNCTION_NAME: 'snowwhite-bot',
  };
}
