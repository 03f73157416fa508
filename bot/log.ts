import { describeError } from '../runner/log';

/**
 * Structured logging: one JSON object per line. Every line passes through a redactor that blanks
 * the Slack signing secret and bot token (and anything that looks like a Slack token), so a secret
 * can never reach the logs, even by accident (an error message quoting a request, for example).
 */
export type LogFields = Record<string, unknown>;

export interface JsonLogger {
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
  /** Registers a value that must never be printed (called once the secrets are loaded). */
  addSecret(value: string): void;
}

const SLACK_TOKEN_PATTERN = /xox[abposr]-[A-Za-z0-9-]+/g;

export function createJsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
) {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text.replace(SLACK_TOKEN_PATTERN, '[redacted]');
    for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  };
  const emit = (level: string, fields: LogFields) => {
    let line: string;
    try {
      line = JSON.stringify({ level, time: new Date().toISOString(), ...fields }, errorReplacer);
    } catch {
      line = JSON.stringify({ level, event: 'log_failure', note: 'a log line could not be serialized' });
    }
    write(redact(line));
  };
  const logger: JsonLogger = {
    info: (fields) => emit('info', fields),
    warn: (fields) => emit('warn', fields),
    error: (fields) => emit('error', fields),
    addSecret: (value) => {
      secrets.add(value);
    },
  };
  return logger;
}

/** Errors become `{name, message}` (no stack: stacks can quote request data). */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

// Errors are described the runner's way, so bot and runner logs say them alike.
export { describeError };

/** Bolt's Logger interface, routed into the JSON logger (debug is dropped: it dumps whole requests). */
export function boltLogger(log: JsonLogger) {
  let level = 'info';
  const text = (msgs: unknown[]) =>
    msgs.map((m) => (m instanceof Error ? describeError(m) : String(m))).join(' ');
  return {
    debug: () => undefined,
    info: (...msgs: unknown[]) => log.info({ event: 'bolt', message: text(msgs) }),
    warn: (...msgs: unknown[]) => log.warn({ event: 'bolt', message: text(msgs) }),
    error: (...msgs: unknown[]) => log.error({ event: 'bolt', message: text(msgs) }),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
