export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

/**
 * The one logger of the bot, the runner and the command line: one JSON object per line,
 * `{"time","level","event",...fields}`, which CloudWatch Logs Insights can query by field.
 * Every line passes a redactor that blanks registered secrets and anything shaped like a Slack
 * token, so a secret quoted by an error message never reaches the logs.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (and shares this one's secrets and level). */
  with(fields: LogFields): Logger;
  /** Registers a value that must never be printed. */
  addSecret(value: string): void;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  /** Lowest level written; `LOG_LEVEL` in the environment when not given; default info. */
  level?: string;
  /** Fields on every line (for example the program's name). */
  fields?: LogFields;
  write?: (line: string) => void;
}

const SLACK_TOKEN_PATTERN = /xox[abposr]-[A-Za-z0-9-]+/g;

/** The level named by `LOG_LEVEL` (any case), or `info`. */
export const logLevelFrom = (value: string | undefined): LogLevel =>
  LOG_LEVELS.find((l) => l === value?.toLowerCase()) ?? 'info';

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = logLevelFrom(options.level ?? process.env.LOG_LEVEL);
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text.replace(SLACK_TOKEN_PATTERN, '[redacted]');
    for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  };
  const threshold = LOG_LEVELS.indexOf(level);
  const make = (base: LogFields): Logger => {
    const emit =
      (lineLevel: LogLevel) =>
      (event: string, fields: LogFields = {}) => {
        if (LOG_LEVELS.indexOf(lineLevel) < threshold) return;
        let line: string;
        try {
          line = JSON.stringify(
            { time: new Date().toISOString(), level: lineLevel, event, ...base, ...fields },
            errorReplacer,
          );
        } catch {
          line = JSON.stringify({
            level: lineLevel,
            event: 'log_failure',
            note: `a ${event} line could not be serialized`,
          });
        }
        write(redact(line));
      };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      with: (fields) => make({ ...base, ...fields }),
      addSecret: (value) => void secrets.add(value),
      level,
    };
  };
  return make(options.fields ?? {});
}

/** Writes nothing (tests and callers whose only audience is the exit code). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });

/** Errors become `{name, message}`: no stack, since stacks can quote request data. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** A short, secret-free description of an error for logs and reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message}`.slice(0, 500);
  }
  return String(err).slice(0, 500);
}
