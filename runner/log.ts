/**
 * Structured log lines (one JSON object per line on stderr), which CloudWatch Logs Insights can
 * query. Callers pass facts, never credentials: nothing here knows the Slack token.
 */
export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export const jsonLogger =
  (base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stderr.write(l)) =>
  (level: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields })}\n`);
  };

export const silentLogger: Logger = () => undefined;

/** A short, secret-free description of an error for logs and reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message}`.slice(0, 500);
  }
  return String(err).slice(0, 500);
}
