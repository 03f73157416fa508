/** The Web API's error code of a failed call (`not_in_channel`, `ratelimited`…), when Slack answered with one. */
export const slackErrorCode = (err: unknown): string | undefined =>
  (err as { data?: { error?: string } } | undefined)?.data?.error;

/** What to log of a failed Slack call: Slack's error code, else the client's own code or message. */
export function describeSlackError(err: unknown): string {
  const e = err as { code?: string; message?: string } | undefined;
  return slackErrorCode(err) ?? e?.code ?? String(e?.message ?? err).slice(0, 200);
}
