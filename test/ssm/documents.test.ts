/**
 * The SSM documents that embed ssm/sidekiqctl.sh: under SSM's 64 KB limit for a Command document, and
 * the optional supervisor parameter: strict, empty by default (discovery), passed to stop and wake.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  embeddedScript,
  renderRunCommand,
  sidekiqctlDocument,
  SUPERVISOR_PATTERN,
} from '../../ssm/documents';

const script = readFileSync(resolve(__dirname, '../../ssm/sidekiqctl.sh'), 'utf8');
const ACTIONS = ['quiet', 'stop', 'wake', 'status'] as const;

test.each(ACTIONS)('%s: the document is under the 64 KB limit, with room to spare', (action) => {
  const bytes = Buffer.byteLength(JSON.stringify(sidekiqctlDocument(action, script)), 'utf8');
  expect(bytes).toBeLessThan(56 * 1024);
});

test('the embedded script is the script less its whole-line comments and blank lines, heredocs kept whole', () => {
  const code = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
  const embedded = embeddedScript(script);
  expect(embedded.split('\n')[0]).toBe('#!/bin/sh');
  expect(code(embedded)).toEqual(code(script));
  expect(embedded.length).toBeLessThan(script.length * 0.8);
  // Inside a heredoc a "#" line is data, and so is a blank line: both stay.
  const withHeredoc = [
    '#!/bin/sh',
    '# a comment',
    'cat <<EOF2',
    '# data',
    '',
    '$x',
    'EOF2',
    '  # gone',
    'echo ok',
  ];
  expect(embeddedScript(withHeredoc.join('\n'))).toBe(
    ['#!/bin/sh', 'cat <<EOF2', '# data', '', '$x', 'EOF2', 'echo ok', ''].join('\n'),
  );
});

test('supervisor: empty by default; strict values only', () => {
  const doc = sidekiqctlDocument('stop', script);
  expect(doc.parameters.supervisor).toMatchObject({ default: '', allowedPattern: SUPERVISOR_PATTERN });
  const p = new RegExp(SUPERVISOR_PATTERN);
  for (const ok of [
    '',
    'none',
    'systemd:worker.service',
    'systemd:sidekiq@2',
    'supervisord:grp:sk_00',
    'runit:/etc/service/sidekiq',
  ])
    expect(p.test(ok)).toBe(true);
  for (const bad of [
    "systemd:a'b",
    'systemd:a b',
    'systemd:$(x)',
    'runit:etc',
    'supervisord:a;b',
    'other:x',
    'none\n',
    'systemd:',
  ])
    expect(p.test(bad)).toBe(false);
});

test('stop and wake pass the supervisor; quiet and status do not take it', () => {
  const stop = renderRunCommand(sidekiqctlDocument('stop', script), { supervisor: 'systemd:worker.service' });
  expect(stop).toContain(
    `sh "$dir/sidekiqctl.sh" stop --timeout '3600' --supervisor 'systemd:worker.service'`,
  );
  const wake = renderRunCommand(sidekiqctlDocument('wake', script), {});
  expect(wake).toContain(`sh "$dir/sidekiqctl.sh" wake --supervisor ''`);
  expect(() => renderRunCommand(sidekiqctlDocument('wake', script), { supervisor: "x' ; reboot" })).toThrow();
  expect(renderRunCommand(sidekiqctlDocument('quiet', script), {})).toContain(
    `sh "$dir/sidekiqctl.sh" quiet --timeout '3600' || status=$?`,
  );
});
