import { parseCommand } from '../../bot/slack/command';
import { matchesPattern } from '../../runner/drain/targets';
import { envPatternSchema, exactTargets, MAX_EXACT_TARGETS } from '../../runner/request';
import { summaryActions } from '../../runner/slack/text';
import { runRequest } from '../support/run-request';

describe('exact targets: =NAME[,NAME…]', () => {
  test('select exactly the named environments (name any case, or id), never a longer name', () => {
    expect(matchesPattern('myapp-workers-prod', '=myapp-workers-prod')).toBe(true);
    expect(matchesPattern('myapp-workers-prod-eu', '=myapp-workers-prod')).toBe(false);
    expect(matchesPattern('MyApp-Workers-Prod', '=myapp-workers-prod')).toBe(true);
    expect(matchesPattern('myapp-workers-b', '=myapp-workers-a,myapp-workers-b')).toBe(true);
    expect(matchesPattern('anything', '=e-abc123xyz', 'e-abc123xyz')).toBe(true);
    expect(matchesPattern('anything', '=e-abc123xyz', 'e-abc123xyZ')).toBe(false);
    // The pattern form is unchanged: part of the name.
    expect(matchesPattern('myapp-workers-prod-eu', 'workers-prod')).toBe(true);
  });

  test('the slash grammar takes the exact form and refuses malformed or hostile ones, saying why', () => {
    expect(parseCommand('wake =myapp-workers-prod,myapp-workers-b MY-APP us-east-1')).toEqual({
      ok: true,
      command: {
        kind: 'run',
        action: 'wake',
        envPattern: '=myapp-workers-prod,myapp-workers-b',
        application: 'MY-APP',
        region: 'us-east-1',
      },
    });
    for (const bad of ['=', '=a,,b', '=a,', '==a', '=a;rm', '=a,b*', 'a,b', `=${'x'.repeat(41)}`]) {
      const parsed = parseCommand(`wake ${bad} MY-APP us-east-1`);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problems.join(' ')).toContain('=NAME[,NAME…]');
    }
    const many = Array.from({ length: MAX_EXACT_TARGETS + 1 }, (_, i) => `env-${i}`);
    expect(envPatternSchema.safeParse(`=${many.join(',')}`).success).toBe(false);
    expect(envPatternSchema.safeParse(`=${many.slice(1).join(',')}`).success).toBe(true);
  });

  test('exactTargets names each environment once, sorted; none or too many: undefined', () => {
    expect(exactTargets(['b', 'a', 'b'])).toBe('=a,b');
    expect(exactTargets([])).toBeUndefined();
    expect(exactTargets(Array.from({ length: MAX_EXACT_TARGETS + 1 }, (_, i) => `e${i}`))).toBeUndefined();
  });

  test("a summary's Wake, Retry and Status name exactly the environments the run acted on", () => {
    const actions = summaryActions({
      request: runRequest({ action: 'quiet', envPattern: 'workers-prod' }),
      exitCode: 1,
      elapsedMs: 1000,
      commandIds: [],
      outcomes: [
        { instanceId: 'i-0123456789abcdef0', environment: 'myapp-workers-prod', kind: 'drained', reason: '' },
        {
          instanceId: 'i-0123456789abcdef1',
          environment: 'myapp-workers-prod-eu',
          kind: 'failed',
          reason: 'x',
        },
      ],
    });
    const values = actions!.elements.map(
      (e) => JSON.parse(e.value) as { envPattern: string; action: string },
    );
    expect(values.map((v) => [v.action, v.envPattern])).toEqual([
      ['wake', '=myapp-workers-prod,myapp-workers-prod-eu'],
      ['quiet', '=myapp-workers-prod-eu'],
      ['status', '=myapp-workers-prod,myapp-workers-prod-eu'],
    ]);
  });
});
