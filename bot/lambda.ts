// The bot's Lambda entry point (API Gateway HTTP API and REST events). Filled in by the bot issue.
export const handler = async (
  _event: unknown,
  _context: unknown,
): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 503,
  body: 'snowwhite bot: not implemented yet',
});
