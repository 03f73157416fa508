import { loadBotSettings } from '../../bot/settings';
import { loadRunnerSettings } from '../../runner/settings';
import { SettingsError } from '../../runner/env-settings';

const validBotEnv = {
  SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:snowwhite-slack-AbCdEf',
  SLACK_NOTIFY_CHANNEL: 'C0NOTIFY',
  RUNNER_CLUSTER: 'snowwhite',
  RUNNER_TASK_DEFINITION_ARN: 'arn:aws:ecs:us-east-1:123456789012:task-definition/snowwhite-runner:3',
  RUNNER_SUBNET_IDS: 'subnet-0a1b2c, subnet-0d4e5f',
  RUNNER_SECURITY_GROUP_IDS: 'sg-0123abcd',
  SSM_DOCUMENT_QUIET: 'SnowWhite-Quiet',
  SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
  SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
  SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
};

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as SettingsError).problems;
  }
  throw new Error('expected a SettingsError');
}

describe('bot settings', () => {
  it('parses a complete environment, splitting lists and filling defaults', () => {
    const s = loadBotSettings(validBotEnv);
    expect(s.RUNNER_SUBNET_IDS).toEqual(['subnet-0a1b2c', 'subnet-0d4e5f']);
    expect(s.RUNNER_ASSIGN_PUBLIC_IP).toBe('ENABLED');
    expect(s.SLACK_API_URL).toBe('https://slack.com/api/');
  });

  it('names every missing or invalid variable at once, and never a value', () => {
    const secret = 'nope-this-is-secret';
    const problems = problemsOf(() =>
      loadBotSettings({ SLACK_BOT_TOKEN: secret, RUNNER_SUBNET_IDS: 'subnet-zz' }),
    );
    const text = problems.join('\n');
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_NOTIFY_CHANNEL',
      'RUNNER_CLUSTER',
      'RUNNER_TASK_DEFINITION_ARN',
      'RUNNER_SUBNET_IDS',
      'RUNNER_SECURITY_GROUP_IDS',
      'SSM_DOCUMENT_QUIET',
      'SSM_DOCUMENT_STATUS',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain(secret);
  });

  it('asks for the secret ARN when no credentials are in the environment', () => {
    const { SLACK_SECRET_ARN: _omit, ...rest } = validBotEnv;
    expect(problemsOf(() => loadBotSettings(rest))).toEqual([
      expect.stringMatching(/^SLACK_SECRET_ARN is missing/),
    ]);
  });

  it('treats an empty variable as missing', () => {
    expect(problemsOf(() => loadBotSettings({ ...validBotEnv, RUNNER_CLUSTER: '' }))).toEqual([
      'RUNNER_CLUSTER is missing',
    ]);
  });
});

describe('runner settings', () => {
  const runnerEnv = {
    RUN_REQUEST: '{}',
    SLACK_BOT_TOKEN: 'xoxb-1',
    SSM_DOCUMENT_QUIET: 'SnowWhite-Quiet',
    SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
    SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
    SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
  };
  it("talks to Slack's own API unless another is explicitly allowed", () => {
    expect(loadRunnerSettings(runnerEnv).SLACK_API_URL).toBe('https://slack.com/api/');
    expect(
      problemsOf(() =>
        loadRunnerSettings({ ...runnerEnv, SLACK_API_URL: 'https://collector.evil.example/api/' }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^SLACK_API_URL is not Slack's own API and SNOWWHITE_ALLOW_SLACK_API_URL is not 1/,
      ),
    ]);
    expect(
      problemsOf(() =>
        loadRunnerSettings({
          ...runnerEnv,
          SLACK_API_URL: 'http://127.0.0.1:9/api/',
          SNOWWHITE_ALLOW_SLACK_API_URL: 'yes',
        }),
      ),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/^SNOWWHITE_ALLOW_SLACK_API_URL: must be 1/)]));
    expect(
      loadRunnerSettings({
        ...runnerEnv,
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
        SNOWWHITE_ALLOW_SLACK_API_URL: '1',
      }).SLACK_API_URL,
    ).toBe('http://127.0.0.1:9/api/');
  });

  it('lists what the runner lacks, with the program name in the message', () => {
    try {
      loadRunnerSettings({ SLACK_API_URL: 'not a url' });
      throw new Error('expected a SettingsError');
    } catch (e) {
      expect((e as Error).message).toMatch(/^snowwhite runner: invalid settings:/);
      expect((e as SettingsError).problems).toEqual(
        expect.arrayContaining([
          'RUN_REQUEST is missing',
          'SLACK_BOT_TOKEN is missing',
          expect.stringMatching(/^SLACK_API_URL: /),
          'SSM_DOCUMENT_WAKE is missing',
        ]),
      );
    }
  });
});
