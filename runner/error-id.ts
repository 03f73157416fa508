import { randomBytes } from 'node:crypto';
import { describeError } from './log';

// The one rule for failures people see, for the bot and the runner alike: a public message says what
// failed and carries an error id; the details (AWS error text names accounts, ARNs, roles) go to the
// log under that id, and to the person who asked, never to a channel.

/** A short id that ties a public "something failed" line to the log line with the details. */
export const newErrorId = (): string => `E${randomBytes(4).toString('hex')}`;

/** What only the log and the requester get. */
export interface ErrorDetail {
  errorId: string;
  detail: string;
}

/** `publicText` with a fresh error id, and the error's details kept apart. */
export function withErrorId(publicText: string, err: unknown): ErrorDetail & { text: string } {
  const errorId = newErrorId();
  return { errorId, detail: describeError(err), text: `${publicText} (error id \`${errorId}\`)` };
}
