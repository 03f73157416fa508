import { randomBytes } from 'node:crypto';

/** A short id that ties a public "something failed" line to the log line with the details. */
export const newErrorId = (): string => `E${randomBytes(4).toString('hex')}`;
