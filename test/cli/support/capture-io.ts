import type { CliIo } from '../../../runner/cli/main';

/** The command line's stdout and stderr, kept as text. */
export function captureIo() {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (t) => void (out += t) },
    stderr: { write: (t) => void (err += t) },
  };
  return { io, out: () => out, err: () => err };
}
