import { runRequestSchema, type RunRequest, type RunRequestInput } from '../../runner/request';

/**
 * A valid run request, as the bot would write it. Each test passes the fields its assertions rely
 * on, so a change here cannot silently change what a test checks.
 */
export function runRequestInput(overrides: Partial<RunRequestInput> = {}): RunRequestInput {
  return {
    runId: 'run-1',
    action: 'quiet',
    envPattern: 'workers',
    application: 'MY-APP',
    region: 'us-east-1',
    requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
    slack: { channel: 'C0OPS', threadTs: '1700000000.000100' },
    ...overrides,
  };
}

/** The same, as the runner works with it: validated, defaults filled in. */
export function runRequest(overrides: Partial<RunRequestInput> = {}): RunRequest {
  return runRequestSchema.parse(runRequestInput(overrides));
}
