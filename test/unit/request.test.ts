import { parseRunRequest, RunRequestError } from '../../runner/request';
import { runRequestInput } from '../support/run-request';

// An IAM user name with "@" is valid.
const valid = runRequestInput({ requestedBy: { iamUserName: 'alice@example.com', slackUserId: 'U012ABC' } });

const problemsOf = (json: string | undefined): string[] => {
  try {
    parseRunRequest(json);
  } catch (e) {
    expect(e).toBeInstanceOf(RunRequestError);
    return (e as RunRequestError).problems;
  }
  throw new Error('expected a RunRequestError');
};

describe('run request contract', () => {
  it('fills the drain and execution timeouts', () => {
    const r = parseRunRequest(JSON.stringify(valid));
    expect(r.drainTimeoutSeconds).toBe(3600);
    expect(r.executionTimeoutSeconds).toBe(7200);
  });

  it('rejects empty and non-JSON input', () => {
    expect(problemsOf(undefined)).toEqual(['the run request is empty']);
    expect(problemsOf('{nope')).toEqual(['the run request is not valid JSON']);
  });

  it('names each bad field', () => {
    const problems = problemsOf(
      JSON.stringify({
        ...valid,
        action: 'reboot',
        region: 'us-middle-1',
        envPattern: 'a b',
        runId: undefined,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^runId: /),
        expect.stringMatching(/^action: /),
        expect.stringMatching(/^envPattern: /),
        'region: "us-middle-1" is not an AWS region (for example us-east-1, eu-west-1)',
      ]),
    );
  });

  it('refuses an execution timeout that would cut the drain short', () => {
    expect(
      problemsOf(JSON.stringify({ ...valid, drainTimeoutSeconds: 7200, executionTimeoutSeconds: 3600 })),
    ).toEqual([expect.stringMatching(/^executionTimeoutSeconds: .*SSM kills the drain/)]);
    expect(
      problemsOf(JSON.stringify({ ...valid, drainTimeoutSeconds: 3600, executionTimeoutSeconds: 3899 })),
    ).toEqual([
      expect.stringMatching(/^executionTimeoutSeconds: .*must exceed drainTimeoutSeconds by at least 300 s/),
    ]);
    const r = parseRunRequest(
      JSON.stringify({ ...valid, drainTimeoutSeconds: 3600, executionTimeoutSeconds: 3900 }),
    );
    expect(r.executionTimeoutSeconds).toBe(3900);
  });

  it('a long drain without an execution timeout gets one 600 s longer (at least 300 are required); a short one keeps the default', () => {
    expect(
      parseRunRequest(JSON.stringify({ ...valid, drainTimeoutSeconds: 9000 })).executionTimeoutSeconds,
    ).toBe(9600);
    expect(
      parseRunRequest(JSON.stringify({ ...valid, drainTimeoutSeconds: 60 })).executionTimeoutSeconds,
    ).toBe(7200);
    expect(problemsOf(JSON.stringify({ ...valid, drainTimeoutSeconds: 172_800 }))).toEqual([
      expect.stringMatching(/^executionTimeoutSeconds: /),
    ]);
  });
});
