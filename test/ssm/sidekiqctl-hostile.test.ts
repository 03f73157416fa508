/**
 * Titles are data: processes of an unprivileged user (nobody, via setpriv) titled with shell and JSON
 * payloads never make ssm/sidekiqctl.sh (run as root) execute anything, and stdout's last line stays
 * one clean JSON object, under dash, bash and busybox. Also the title shapes real Sidekiq makes that
 * the old parser missed: extra words after "busy]" (PROCTITLES, Enterprise's `leader`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SidekiqHost, cleanupAllHosts, type Shell } from '../support/sidekiq-host';

const BEAT = 0.5;
const FAST = ['--heartbeat', String(BEAT)];
const SHELLS: Shell[] = ['dash', 'bash', 'busybox'];

afterAll(cleanupAllHosts);

/** Hostile titles; MARK is replaced by a path that must never be created. */
const UNPARSEABLE = [
  "sidekiq 6|x';touch${IFS}MARK;'|7 t [0 of 3 busy]",
  'sidekiq 6.4.1 t [0 of 3 busy]x;touch MARK',
  'sidekiq 6.4.1 t [0$(touch MARK) of 3 busy]',
  'sidekiq 6`touch MARK` t [0 of 3 busy]',
  'sidekiq 6.4.1 t [0 of 3 busy",{"x":1}]',
  'sidekiq 6.4.1 t [1 of 9999999999 busy]',
  'sidekiq 6.4.1 a-tag-so-long-that-ruby-cut-the-title [0 of 3 bu', // truncated by argv space
];
const PARSEABLE_TAGS = [`x';touch MARK;'`, '$(touch MARK)', '`touch MARK`', '"},{"pid":1,"x":"\\', 'a|b|c\\'];

test.each(SHELLS)(
  '%s: hostile titles: nothing runs, one clean JSON line, unparseable reported, the real Sidekiq still quieted',
  async (shell) => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const mark = join(host.dir, 'pwned');
      const sk = await host.startSidekiq({ concurrency: 2 });
      const titles = [
        ...UNPARSEABLE.map((t) => t.replace('MARK', mark)),
        ...PARSEABLE_TAGS.map((t) => `sidekiq 6.4.1 ${t.replace('MARK', mark)} [0 of 3 busy]`),
      ];
      for (const t of titles) host.spawnHostile(t);
      await host.waitFor('hostile titles', () => host.processes().length === titles.length + 1);

      for (const args of [['status'], ['quiet', '--timeout', '3', ...FAST]]) {
        const r = await host.runScript(args, { shell });
        expect(existsSync(mark)).toBe(false);
        expect(r.stderr).not.toMatch(/syntax error|unterminated|bad substitution|unexpected/i);
        const lines = r.stdout.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        const json = JSON.parse(lines[0]!) as {
          result: string;
          processes: Array<{ pid: number; tag: string; busy: number; quiet: boolean }>;
          unparseable: Array<{ pid: number; title: string }>;
        };
        // every unparseable title reported exactly, by pid
        expect(json.unparseable.map((u) => u.title).sort()).toEqual(
          UNPARSEABLE.map((t) => t.replace('MARK', mark)).sort(),
        );
        // the parseable hostile tags come back as the same text, not as JSON structure
        expect(json.processes.map((p) => p.tag).sort()).toEqual(
          ['', ...PARSEABLE_TAGS.map((t) => t.replace('MARK', mark))].sort(),
        );
        if (args[0] === 'status') {
          expect(r.code).toBe(1);
          expect(json.result).toBe('unparseable');
        } else {
          // the stand-ins never go quiet (TSTP just stops them): the deadline, nothing killed
          expect(r.code).toBe(2);
          expect(json.result).toBe('timeout');
          expect(json.processes.find((p) => p.pid === sk.pid)).toMatchObject({ quiet: true, busy: 0 });
          expect(r.stderr).toMatch(/also unparseable/);
        }
      }
      expect(existsSync(mark)).toBe(false);
    } finally {
      await host.cleanup();
    }
  },
);

test('an unparseable title next to real Sidekiq: quiet drains the real one, then exits 1 naming the title', async () => {
  const host = await SidekiqHost.start({ heartbeat: BEAT });
  try {
    const sk = await host.startSidekiq({ concurrency: 2 });
    await host.enqueue(1, 2);
    await host.waitForRunning(2);
    host.spawnHostile('sidekiq 6.4.1 cut-short [0 of 3 bu');
    await host.waitFor('hostile title', () => host.processes().length === 2);
    const r = await host.runScript(['quiet', '--timeout', '30', ...FAST]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({
      result: 'unparseable',
      processes: [{ pid: sk.pid, busy: 0, quiet: true }],
      unparseable: [{ title: 'sidekiq 6.4.1 cut-short [0 of 3 bu' }],
    });
    expect(r.stderr).toMatch(/unparseable Sidekiq-like title\(s\).*cut-short \[0 of 3 bu/);
    expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });
  } finally {
    await host.cleanup();
  }
});

describe('extra words after "busy]" (PROCTITLES), on real Sidekiq 6.4.1', () => {
  test('Enterprise-style `leader`: quiet signals it, sees `stopping leader` as quiet, drains; status lists it', async () => {
    const host = await SidekiqHost.start({ heartbeat: BEAT });
    try {
      const sk = await host.startSidekiq({ concurrency: 2, tag: 'app', titleExtra: 'leader' });
      expect(host.processes()[0]?.title).toBe('sidekiq 6.4.1 app [0 of 2 busy] leader');
      const s = await host.runScript(['status']);
      expect(s.json?.processes).toEqual([
        { pid: sk.pid, version: '6.4.1', tag: 'app', busy: 0, concurrency: 2, quiet: false },
      ]);
      await host.enqueue(1.5, 2);
      await host.waitForRunning(2);
      const r = await host.runScript(['quiet', '--timeout', '30', ...FAST]);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ result: 'drained', processes: [{ pid: sk.pid, busy: 0, quiet: true }] });
      expect(r.stderr).toMatch(new RegExp(`pid ${sk.pid}: sending TSTP`));
      expect(host.processes()[0]?.title).toMatch(/\[0 of 2 busy\] stopping leader$/);
      expect(await host.accounting()).toMatchObject({ completed: 2, lost: 0 });
    } finally {
      await host.cleanup();
    }
  });
});
