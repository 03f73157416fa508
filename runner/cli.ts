#!/usr/bin/env node
// The `snowwhite` command line (package.json `bin`, bundled to dist/runner/cli.js).
// See runner/cli/main.ts; `snowwhite --help` for usage.
import { createInterface } from 'node:readline';
import { cliMain, defaultClients } from './cli/main';

/** One answer from the terminal; undefined at end of input. */
const readLine = (): Promise<string | undefined> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answer: string | undefined;
    rl.once('line', (line) => {
      answer = line;
      rl.close();
    });
    rl.once('close', () => resolve(answer));
  });

if (require.main === module) {
  const controller = new AbortController();
  let interrupts = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      // First Ctrl-C: stop waiting and report; a second one leaves at once.
      if (++interrupts > 1) process.exit(130);
      controller.abort();
    });
  cliMain(process.argv.slice(2), {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: { isTTY: process.stdin.isTTY === true, readLine },
    },
    env: process.env,
    clients: defaultClients,
    signal: controller.signal,
  }).then(
    (code) => process.exit(controller.signal.aborted && code === 0 ? 130 : code),
    (err: unknown) => {
      process.stderr.write(`snowwhite: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
