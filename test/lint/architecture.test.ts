import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const tree = join(__dirname, 'fixtures/tree');
const FIXTURES = [
  'infra/stack.ts',
  'bot/handler.ts',
  'bot/on-command.ts',
  'bot/upward.ts',
  'bot/work.ts',
  'runner/clean.ts',
  'runner/deep/clean.ts',
  'runner/deep/upward.ts',
  'runner/ring-a.ts',
  'runner/ring-b.ts',
  'runner/upward.ts',
  'ssm/actions.ts',
  'ssm/outside.ts',
];

let found: Map<string, string[]>;
let ignoredByLint: Map<string, boolean>;

beforeAll(() => {
  // ESLint's Node API with the project's own eslint.config.mjs, run once for every fixture.
  const out = execFileSync(
    process.execPath,
    [join(__dirname, 'run-eslint.mjs'), ...FIXTURES.map((f) => join(tree, f))],
    { cwd: root, encoding: 'utf8' },
  );
  const { messages, ignored } = JSON.parse(out) as {
    messages: Record<string, string[]>;
    ignored: Record<string, boolean>;
  };
  found = new Map(Object.entries(messages).map(([file, m]) => [relative(tree, file), m]));
  ignoredByLint = new Map(Object.entries(ignored).map(([file, i]) => [relative(tree, file), i]));
}, 60_000);

describe('npm run lint enforces the architecture', () => {
  it('rejects an import from runner/ up to bot/ or infra/, at any depth', () => {
    expect(found.get('runner/upward.ts')).toEqual([
      expect.stringMatching(
        /^no-restricted-imports: '\.\.\/bot\/handler' .*runner\/ may not import infra\/ or bot\//,
      ),
    ]);
    expect(found.get('runner/deep/upward.ts')).toEqual([
      expect.stringMatching(/^no-restricted-imports: '\.\.\/\.\.\/infra\/stack' .*runner\/ may not import/),
    ]);
  });

  it('rejects an import from bot/ up to infra/', () => {
    expect(found.get('bot/upward.ts')).toEqual([
      expect.stringMatching(/^no-restricted-imports: '\.\.\/infra\/stack' .*bot\/ may not import infra\//),
    ]);
  });

  it('rejects any import of ours from ssm/', () => {
    expect(found.get('ssm/outside.ts')).toEqual([
      expect.stringMatching(/^no-restricted-imports: '\.\.\/runner\/clean' .*ssm\/ imports nothing of ours/),
    ]);
  });

  it('rejects two files that import each other', () => {
    expect(found.get('runner/ring-a.ts')).toEqual([
      expect.stringMatching(
        /^local\/no-import-ring: import ring: .*ring-a\.ts → .*ring-b\.ts → .*ring-a\.ts$/,
      ),
    ]);
    expect(found.get('runner/ring-b.ts')).toEqual([expect.stringMatching(/^local\/no-import-ring: /)]);
  });

  it('rejects a ring closed by a type-only import', () => {
    expect(found.get('bot/work.ts')).toEqual([
      expect.stringMatching(
        /^local\/no-import-ring: import ring: .*work\.ts → .*on-command\.ts → .*work\.ts$/,
      ),
    ]);
    expect(found.get('bot/on-command.ts')).toEqual([expect.stringMatching(/^local\/no-import-ring: /)]);
  });

  it('accepts imports that go down or stay inside a part', () => {
    for (const file of [
      'infra/stack.ts',
      'bot/handler.ts',
      'runner/clean.ts',
      'runner/deep/clean.ts',
      'ssm/actions.ts',
    ])
      expect([file, found.get(file)]).toEqual([file, []]);
  });

  it('keeps the fixtures out of the normal `eslint .` run', () => {
    expect([...ignoredByLint.values()]).toEqual(FIXTURES.map(() => true));
  });
});
