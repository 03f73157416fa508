/**
 * Text from outside (names, instance output, AWS errors, echoed input) made inert in Slack mrkdwn:
 * `<!channel>`, `<@U…>` and `<https://…|label>` only work with a raw `<`, and `&` would start an entity.
 */
export const escapeMrkdwn = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
