import { decideReminders, reminderCandidates } from '../../bot/memory/reminders';
import { homeView, reminderMessage } from '../../bot/memory/view';
import { parseCommand } from '../../bot/slack/command';
import type { InstanceOutcome, OutcomeKind } from '../../runner/drain/outcome';
import { fleetItem, fleetStatesAfter } from '../../runner/ledger/items';
import { fleetItemSchema, parseItems, type FleetItem } from '../../runner/ledger/schema';

const outcome = (environment: string, kind: OutcomeKind, i = 0): InstanceOutcome => ({
  instanceId: `i-${environment.length}${i}0000000`,
  environment,
  kind,
  reason: kind,
});

describe('fleetStatesAfter (pure)', () => {
  test('quiet: quiet wherever it took effect, even partly or still busy; nowhere else', () => {
    expect(
      fleetStatesAfter('quiet', [
        outcome('a', 'drained'),
        outcome('a', 'failed', 1),
        outcome('b', 'busy_at_deadline'),
        outcome('c', 'no_sidekiq'),
        outcome('d', 'unreachable'),
      ]),
    ).toEqual([
      { environment: 'a', state: 'quiet' },
      { environment: 'b', state: 'quiet' },
    ]);
  });
  test('stop: stopped when every affected instance stopped; quiet when some are still busy', () => {
    expect(
      fleetStatesAfter('stop', [
        outcome('a', 'drained'),
        outcome('b', 'drained'),
        outcome('b', 'busy_at_deadline', 1),
      ]),
    ).toEqual([
      { environment: 'a', state: 'stopped' },
      { environment: 'b', state: 'quiet' },
    ]);
  });
  test('wake: awake only where every instance woke; status changes nothing', () => {
    expect(
      fleetStatesAfter('wake', [outcome('a', 'drained'), outcome('b', 'drained'), outcome('b', 'failed', 1)]),
    ).toEqual([{ environment: 'a', state: 'awake' }]);
    expect(fleetStatesAfter('status', [outcome('a', 'drained')])).toEqual([]);
  });
});

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const HOUR = 3600_000;
const fleet = (overrides: Partial<FleetItem> = {}): FleetItem => ({
  ...fleetItem(
    {
      runId: 'run-1',
      action: 'quiet',
      application: 'MY-APP',
      region: 'us-east-1',
      iamUserName: 'alice',
      slackUserId: 'U0ALICE',
      channel: 'C0OPS',
      threadTs: '1700000000.000100',
    },
    { environment: 'myapp-workers', state: 'quiet' },
    T0,
  ),
  ...overrides,
});
const policy = { afterSeconds: 7200, everySeconds: 14400 };

describe('reminder decisions (pure)', () => {
  test('due after REMINDER_AFTER_SECONDS, then once per REMINDER_EVERY_SECONDS; never once awake', () => {
    expect(reminderCandidates([fleet()], T0 + 2 * HOUR - 1, policy)).toEqual([]);
    expect(reminderCandidates([fleet()], T0 + 2 * HOUR, policy)).toHaveLength(1);
    const reminded = fleet({ lastReminderAt: new Date(T0 + 2 * HOUR).toISOString() });
    expect(reminderCandidates([reminded], T0 + 5 * HOUR, policy)).toEqual([]);
    expect(reminderCandidates([reminded], T0 + 6 * HOUR, policy)).toHaveLength(1);
    expect(reminderCandidates([fleet({ state: 'awake' })], T0 + 9 * HOUR, policy)).toEqual([]);
  });
  test('not when redeployed since, gone, or unknown (Elastic Beanstalk did not answer)', () => {
    const f = fleet();
    expect(decideReminders([f], () => ({ updatedAt: new Date(T0 + 1) })).skip).toEqual([
      { fleet: f, reason: 'redeployed' },
    ]);
    expect(decideReminders([f], () => ({ updatedAt: new Date(T0 - 1) })).remind).toEqual([f]);
    expect(decideReminders([f], () => ({})).remind).toEqual([f]);
    expect(decideReminders([f], () => 'gone').skip[0]!.reason).toBe('gone');
    expect(decideReminders([f], () => 'unknown').skip[0]!.reason).toBe('unknown');
  });
});

describe('views (pure): outside strings are escaped', () => {
  test('an application name with mrkdwn control characters cannot inject a link or a mention', () => {
    const f = fleet({ application: 'app<!channel>&<http://evil|x>' });
    // The text people read (the button's value is data Slack hands back, never rendered).
    const message = reminderMessage(f, T0 + 3 * HOUR);
    const text = `${message.text} ${JSON.stringify(message.blocks?.map((b) => (b as { text?: unknown }).text))}`;
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<http://evil');
    expect(text).toContain('app&lt;!channel&gt;&amp;&lt;http://evil|x&gt;');
    const home = homeView({ kind: 'ok', data: { fleets: [f], inProgress: [], mine: [], recent: [] } }, T0);
    expect(JSON.stringify(home.blocks.map((b) => (b as { text?: unknown }).text))).not.toContain(
      '<!channel>',
    );
  });
  test('Home stays within Block Kit limits with many fleets', () => {
    const many = Array.from({ length: 120 }, (_, i) => fleet({ environment: `env-${i}` }));
    const view = homeView({ kind: 'ok', data: { fleets: many, inProgress: [], mine: [], recent: [] } }, T0);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(view)).toContain('…and 80 more');
  });
  test('an item read back that does not parse is dropped, not shown', () => {
    const { items, rejected } = parseItems(fleetItemSchema, [
      fleet(),
      { ...fleet(), environment: 'bad name!' },
      null,
    ]);
    expect(items).toHaveLength(1);
    expect(rejected).toBe(2);
  });
});

describe('/snowwhite history (parse)', () => {
  test('history, history <application>; more words or a bad name are refused', () => {
    expect(parseCommand('history')).toEqual({ ok: true, command: { kind: 'history' } });
    expect(parseCommand('History MY-APP')).toEqual({
      ok: true,
      command: { kind: 'history', application: 'MY-APP' },
    });
    expect(parseCommand('history a b')).toMatchObject({ ok: false });
    expect(parseCommand('history a/b')).toMatchObject({ ok: false });
  });
});
