import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import { describeError, type Logger } from '../../runner/log';

/** Bolt's and the Web API client's logger interface, written through our JSON logger as `bolt` lines. */
export function boltLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const text = (msgs: unknown[]) =>
    msgs.map((m) => (m instanceof Error ? describeError(m) : String(m))).join(' ');
  return {
    // Bolt's debug lines dump whole requests (user text, response URLs): never written.
    debug: () => undefined,
    info: (...msgs: unknown[]) => log.info('bolt', { message: text(msgs) }),
    warn: (...msgs: unknown[]) => log.warn('bolt', { message: text(msgs) }),
    error: (...msgs: unknown[]) => log.error('bolt', { message: text(msgs) }),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
