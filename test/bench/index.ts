/**
 * `npm run bench`: runs every `test/bench/*.bench.ts` (or those named on the command line) in turn.
 * Each module exports `name` and `run()`, which prints its figures beside the approach it replaces.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Bench {
  name: string;
  run(): Promise<void>;
}

// The benchmarks run on the Node 20 the project supports; the SDK's Node 22 notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  if (files.length === 0) throw new Error(`no benchmark matches ${only.join(' ')}`);
  for (const file of files) {
    const bench = (await import(join(__dirname, file))) as Bench;
    console.log(`\n=== ${bench.name} (${file})`);
    const started = Date.now();
    await bench.run();
    console.log(`--- ${bench.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
