import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

/**
 * Packages that only Bolt's HTTP and Socket Mode receivers load (its App module imports both even
 * when given another receiver), replaced in the bot's bundle by a module that throws if it is ever
 * read: they bring undici and iconv-lite, about 1.1 MB of a 2.2 MB bundle. Aliases rather than an
 * esbuild plugin because the CDK bundles the Lambda with esbuild's command line, which takes no plugins.
 */
export const botAliases: Record<string, string> = Object.fromEntries(
  ['@slack/socket-mode', '@slack/oauth', 'raw-body'].map((pkg) => [
    pkg,
    path.join(__dirname, 'bot', 'slack', 'not-in-lambda.cjs'),
  ]),
);

/** `botAliases` for `NodejsFunction`'s `bundling.esbuildArgs` (which writes `--alias:pkg=path`). */
export const botEsbuildArgs = { '--alias': Object.entries(botAliases).map(([pkg, to]) => `${pkg}=${to}`) };

/** ES module builds let esbuild drop the SDK commands and the zod parts nothing uses. */
export const mainFields = ['module', 'main'];

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  mainFields,
  minify: true,
  sourcemap: true,
  outbase: __dirname,
  outdir: path.join(__dirname, 'dist'),
  logLevel: 'warning',
};

/** dist/bot/lambda.js, the bot's Lambda bundle (the stack bundles the same entry with `botEsbuildArgs`). */
export const botBuild: BuildOptions = {
  ...common,
  entryPoints: [path.join(__dirname, 'bot', 'lambda.ts')],
  alias: botAliases,
};

/**
 * dist/runner/main.js and dist/runner/cli.js: the runner and the command line, unstubbed. The
 * command line's `--local` runs ssm/sidekiqctl.sh: its text goes into the bundle
 * (runner/local/executor.ts), so the installed package needs no file beside it.
 */
export const runnerBuild: BuildOptions = {
  ...common,
  entryPoints: ['main.ts', 'cli.ts'].map((file) => path.join(__dirname, 'runner', file)),
  define: {
    SIDEKIQCTL_SCRIPT: JSON.stringify(readFileSync(path.join(__dirname, 'ssm', 'sidekiqctl.sh'), 'utf8')),
  },
};

// `npm run build`.
if (require.main === module) {
  Promise.all([build(botBuild), build(runnerBuild)]).catch(() => {
    process.exitCode = 1; // esbuild has printed the errors already.
  });
}
