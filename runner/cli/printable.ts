// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Pure: text from outside (environment names, process titles, runner log lines) made safe for a
 * terminal: control characters, which could move the cursor or rewrite the screen, become "?".
 * Newlines and tabs stay where the caller put them.
 */
export const printable = (text: string): string => text.replace(CONTROL, '?');
