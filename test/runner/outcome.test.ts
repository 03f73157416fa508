import { exitCodeFor, outcomeOf, parseScriptReport, type InstanceOutcome } from '../../runner/drain/outcome';

const t = { instanceId: 'i-1', environment: 'workers' };
const json = (busy: number) =>
  JSON.stringify({
    action: 'quiet',
    result: 'x',
    elapsed_seconds: 4.5,
    processes: [
      { pid: 1, busy },
      { pid: 2, busy: 1 },
    ],
  });

describe('outcomeOf', () => {
  it.each([
    [{ status: 'Success', exitCode: 0, stdout: json(0) }, 'drained'],
    [{ status: 'Failed', statusDetails: 'Failed', exitCode: 2, stdout: json(2) }, 'busy_at_deadline'],
    [{ status: 'Failed', statusDetails: 'Failed', exitCode: 3 }, 'no_sidekiq'],
    [{ status: 'Failed', statusDetails: 'Failed', exitCode: 1 }, 'failed'],
    [{ status: 'Failed', statusDetails: 'Failed', exitCode: 64 }, 'failed'],
    [{ status: 'TimedOut', statusDetails: 'ExecutionTimedOut', exitCode: -1 }, 'timed_out'],
    [{ status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1 }, 'unreachable'],
    [{ status: 'Failed', statusDetails: 'Undeliverable', exitCode: -1 }, 'unreachable'],
    [{ status: 'Failed', statusDetails: 'Terminated', exitCode: -1 }, 'unreachable'],
    [{ status: 'Cancelled', statusDetails: 'Cancelled', exitCode: -1 }, 'failed'],
  ])('%j → %s', (run, kind) => {
    expect(outcomeOf(t, run).kind).toBe(kind);
  });

  it('counts the jobs still running from the script JSON', () => {
    const o = outcomeOf(t, { status: 'Failed', exitCode: 2, stdout: `progress\n${json(4)}\n` });
    expect(o).toMatchObject({ busyJobs: 5, processes: 2, elapsedSeconds: 4.5, exitCode: 2 });
    expect(o.reason).toBe('5 jobs still running at the drain timeout (nothing was killed)');
  });

  it('a refusal (result refused, exit 4, or 2 from an older script) is its own outcome, with what the script said', () => {
    const stdout = JSON.stringify({ action: 'wake', result: 'refused', processes: [{ pid: 7, busy: 2 }] });
    const stderr =
      'sidekiqctl: [0.0s] pid 7 (sidekiq 6.4.1 ): 2 of 3 busy, quiet\nsidekiqctl: refused: quiet pid(s) 7 still run jobs; wait for them, or use --force\n';
    const o = outcomeOf(t, { status: 'Failed', exitCode: 2, stdout, stderr });
    expect(o).toMatchObject({ kind: 'refused', busyJobs: 2 });
    expect(outcomeOf(t, { status: 'Failed', exitCode: 4, stdout, stderr })).toMatchObject({
      kind: 'refused',
    });
    expect(o.reason).toBe('refused: quiet pid(s) 7 still run jobs; wait for them, or use --force');
    expect(outcomeOf(t, { status: 'Failed', exitCode: 2, stdout }).reason).toMatch(/^refused: /);
  });

  it('exit 4: a refusal or a "busy" instance (another run held its lock), each with the script\'s reason', () => {
    const refused = JSON.stringify({ action: 'stop', result: 'refused', processes: [{ pid: 7, busy: 0 }] });
    const why =
      'sidekiqctl: refused: systemd unit web.service also runs pid(s) 12 (puma), which are not Sidekiq; stopping it would stop them too. Sidekiq there is quiet, not stopped. Nothing was stopped or restarted\n';
    const o = outcomeOf(t, { status: 'Failed', exitCode: 4, stdout: refused, stderr: why });
    expect(o).toMatchObject({ kind: 'refused', exitCode: 4 });
    expect(o.reason).toMatch(/^refused: systemd unit web.service also runs pid\(s\) 12 \(puma\)/);
    const busy = JSON.stringify({ action: 'quiet', result: 'busy', processes: [] });
    const held =
      'sidekiqctl: busy: another sidekiqctl.sh run on this host still holds /var/lib/sidekiqctl/lock after 60s; nothing was done. Try again when it ends\n';
    expect(outcomeOf(t, { status: 'Failed', exitCode: 4, stdout: busy, stderr: held }).reason).toMatch(
      /^busy: another sidekiqctl.sh run on this host still holds/,
    );
    expect(outcomeOf(t, { status: 'Failed', exitCode: 4, stdout: busy })).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/^busy: /),
    });
    expect(outcomeOf(t, { status: 'Failed', exitCode: 4, stdout: refused }).reason).toMatch(/^refused: /);
  });

  it('explains a failure with the script error, else the last stderr line, else the exit code', () => {
    expect(outcomeOf(t, { status: 'Failed', exitCode: 1, stdout: '{"error":"no permission"}' }).reason).toBe(
      'no permission',
    );
    expect(outcomeOf(t, { status: 'Failed', exitCode: 1, stderr: 'a\nsh: boom\n' }).reason).toBe(
      'exit code 1: sh: boom',
    );
    expect(outcomeOf(t, { status: 'Failed', exitCode: 1 }).reason).toBe('exit code 1');
  });

  it('a script that could not be opened is script_missing, never a drain timeout', () => {
    // dash says "cannot open" and exits 2, bash exits 127: neither printed the script's report.
    const dash = outcomeOf(t, {
      status: 'Failed',
      exitCode: 2,
      stderr: 'sh: 0: cannot open /opt/ssm/sidekiqctl.sh: No such file\n',
    });
    expect(dash).toMatchObject({ kind: 'script_missing' });
    expect(dash.reason).toMatch(/^sidekiqctl.sh could not be started \(sh: 0: cannot open/);
    expect(outcomeOf(t, { status: 'Failed', exitCode: 127 }).kind).toBe('script_missing');
    // Exit 2 without the report, for another reason, is a failure, not a deadline.
    expect(outcomeOf(t, { status: 'Failed', exitCode: 2, stderr: 'Killed' }).kind).toBe('failed');
  });
});

describe('exit codes per result', () => {
  const o = (kind: InstanceOutcome['kind']): InstanceOutcome => ({ ...t, kind, reason: kind });
  it.each([
    [['drained'], 0],
    [['drained', 'busy_at_deadline'], 2],
    [['busy_at_deadline', 'refused'], 4],
    [['refused', 'failed'], 1],
    [['failed', 'script_missing'], 5],
    [['no_sidekiq'], 1],
  ] as const)('%j → %i', (kinds, code) => {
    expect(exitCodeFor('quiet', kinds.map(o))).toBe(code);
  });
});

describe('parseScriptReport', () => {
  it('takes the last JSON line and ignores anything else', () => {
    expect(parseScriptReport('{"result":"a"}\nnoise\n{"result":"b"}\n\n')?.result).toBe('b');
    expect(parseScriptReport('no json here')).toBeUndefined();
    expect(parseScriptReport('{"result": "cut')).toBeUndefined();
    expect(parseScriptReport('{"processes":"not a list"}')).toBeUndefined();
  });
});

describe('exitCodeFor', () => {
  const o = (kind: InstanceOutcome['kind']): InstanceOutcome => ({ ...t, kind, reason: '' });
  it('is 0 when all are done, 2 with some still busy, 1 on any failure or nothing at all', () => {
    expect(exitCodeFor('quiet', [o('drained'), o('no_sidekiq')])).toBe(0);
    expect(exitCodeFor('quiet', [o('drained'), o('busy_at_deadline')])).toBe(2);
    expect(exitCodeFor('quiet', [o('busy_at_deadline'), o('unreachable')])).toBe(1);
    expect(exitCodeFor('quiet', [o('timed_out')])).toBe(1);
    expect(exitCodeFor('quiet', [o('failed')])).toBe(1);
    expect(exitCodeFor('quiet', [])).toBe(1);
  });
  it('treats "no Sidekiq" as a failure when waking, or when a quiet or stop found none anywhere', () => {
    expect(exitCodeFor('wake', [o('no_sidekiq')])).toBe(1);
    expect(exitCodeFor('status', [o('no_sidekiq')])).toBe(0);
    expect(exitCodeFor('quiet', [o('no_sidekiq'), o('no_sidekiq')])).toBe(1);
    expect(exitCodeFor('stop', [o('no_sidekiq')])).toBe(1);
    expect(exitCodeFor('stop', [o('no_sidekiq'), o('drained')])).toBe(0);
  });
});

describe('results the script adds for supervisors and hostile titles', () => {
  it('a worker that came back after stop is a failure that says so, never stopped', () => {
    const o = outcomeOf(t, {
      status: 'Failed',
      exitCode: 1,
      stdout: JSON.stringify({ action: 'stop', result: 'respawned', processes: [{ pid: 9, busy: 0 }] }),
    });
    expect(o).toMatchObject({ kind: 'failed', reason: expect.stringContaining('came back after the stop') });
  });
  it('an unparseable title is named (cut short), the rest of the report kept', () => {
    const title = `sidekiq 6|x';touch\${IFS}pwned;'|7 t [0 of 3 busy]${'x'.repeat(500)}`;
    const o = outcomeOf(t, {
      status: 'Failed',
      exitCode: 1,
      stdout: JSON.stringify({ action: 'quiet', result: 'unparseable', unparseable: [{ pid: 77, title }] }),
    });
    expect(o.kind).toBe('failed');
    expect(o.reason).toContain('pid 77 "sidekiq 6|x');
    expect(o.reason.length).toBeLessThan(400);
  });
});
