// Run by architecture.test.ts in a child process: ESLint loads eslint.config.mjs with import(),
// which Jest's module sandbox refuses without --experimental-vm-modules.
import process from 'node:process';
import { ESLint } from 'eslint';

const files = process.argv.slice(2);
// `ignore: false`: the fixtures are ignored by `eslint .`, and linted here on purpose.
const results = await new ESLint({ cwd: process.cwd(), ignore: false }).lintFiles(files);
const normal = new ESLint({ cwd: process.cwd() });
const ignored = await Promise.all(files.map((f) => normal.isPathIgnored(f)));
process.stdout.write(
  JSON.stringify({
    messages: Object.fromEntries(
      results.map((r) => [r.filePath, r.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`).sort()]),
    ),
    ignored: Object.fromEntries(files.map((f, i) => [f, ignored[i]])),
  }),
);
