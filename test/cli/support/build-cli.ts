import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { runnerBuild } from '../../../esbuild.config';

const ROOT = resolve(__dirname, '../../..');

/**
 * The command line's bundle as `npm run build` makes it (same options), written to `outdir/cli.js`
 * rather than dist/, which other tests and the demo read while this one runs.
 */
export async function buildCli(outdir: string): Promise<string> {
  await build({
    ...runnerBuild,
    entryPoints: [join(ROOT, 'runner', 'cli.ts')],
    outbase: join(ROOT, 'runner'),
    outdir,
    sourcemap: false,
  });
  return join(outdir, 'cli.js');
}
