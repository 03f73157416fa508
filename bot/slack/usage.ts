/** The `/snowwhite` usage text, shown for `help` and after every input problem. */
export const USAGE = [
  '*Usage*',
  '`/snowwhite quiet  <env-pattern> <eb-application> <region>`  stop taking new jobs, wait until idle',
  '`/snowwhite stop   <env-pattern> <eb-application> <region>`  quiet, wait until idle, then shut down',
  '`/snowwhite wake   <env-pattern> <eb-application> <region>`  restart quiet or stopped workers',
  '`/snowwhite status <env-pattern> <eb-application> <region>`  busy/quiet state of every process',
  '`/snowwhite history [eb-application]`  the last 10 runs (only you see them)',
  '`/snowwhite help`',
  'quiet and stop take `--timeout <duration>` (for example `90s`, `15m`, `4h`; default 1h): how long to wait ' +
    'for jobs in flight; workers still busy then are left running and reported.',
  'Example: `/snowwhite quiet workers MY-APP us-east-1` acts on every environment of MY-APP in us-east-1 ' +
    'whose name contains "workers" (case-insensitive).',
  '`=NAME` (several joined by commas, by name or `e-…` id) acts on exactly those environments: ' +
    '`/snowwhite wake =myapp-workers-prod MY-APP us-east-1` leaves `myapp-workers-prod-eu` alone.',
].join('\n');

export interface EphemeralReply {
  response_type: 'ephemeral';
  text: string;
}

/** The ephemeral reply for bad input: what was wrong, then the usage. */
export function usageReply(problems: readonly string[] = []): EphemeralReply {
  const what = problems.length ? `${problems.map((p) => `• ${p}`).join('\n')}\n\n` : '';
  return { response_type: 'ephemeral', text: `${what}${USAGE}` };
}
