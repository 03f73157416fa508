#!/usr/bin/env node
// The `snowwhite` command line (package.json `bin`, bundled to dist/runner/cli.js).
// See runner/cli/main.ts; `snowwhite --help` for usage.
import { createInterface } from 'node:readline';
import { cliMain, defaultClients } from './cli/main';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from './drain/outcome';

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
  // The SDK's 9-line notice that its 2027 releases will need Node 22 is for whoever upgrades the
  // SDK, not for the person running a command: Node 20 is supported (see the README).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  let interrupts = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      // First Ctrl-C: stop waiting and report; a second one leaves at once.
      if (++interrupts > 1) process.exit(EXIT_INTERRUPTED);
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
    // Interrupted is 130 whatever the run had reached (the shell's convention for Ctrl-C).
    (code) => process.exit(controller.signal.aborted ? EXIT_INTERRUPTED : code),
    (err: unknown) => {
      process.stderr.write(`snowwhite: ${String(err)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
