import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { memoize } from '../../runner/memo';
import type { BotSettings } from '../settings';

/**
 * The Slack signing secret and bot token: from the environment when both are set (local runs,
 * tests), otherwise from the Secrets Manager secret `{"signingSecret": "...", "botToken": "xoxb-..."}`,
 * fetched once per container. Errors name what is wrong, never a value.
 */
export interface SlackCredentials {
  signingSecret: string;
  botToken: string;
}

const secretSchema = z.object({
  signingSecret: z.string().min(8),
  botToken: z.string().regex(/^xox[bp]-/),
});

export class SlackCredentialsError extends Error {
  override name = 'SlackCredentialsError';
}

export function createSlackCredentialsSource(
  settings: Pick<BotSettings, 'SLACK_SECRET_ARN' | 'SLACK_SIGNING_SECRET' | 'SLACK_BOT_TOKEN'>,
  secretsManager: () => SecretsManagerClient,
): () => Promise<SlackCredentials> {
  return memoize(load);

  async function load(): Promise<SlackCredentials> {
    if (settings.SLACK_SIGNING_SECRET && settings.SLACK_BOT_TOKEN)
      return { signingSecret: settings.SLACK_SIGNING_SECRET, botToken: settings.SLACK_BOT_TOKEN };
    if (!settings.SLACK_SECRET_ARN) throw new SlackCredentialsError('no Slack credentials configured');
    let text: string | undefined;
    try {
      text = (await secretsManager().send(new GetSecretValueCommand({ SecretId: settings.SLACK_SECRET_ARN })))
        .SecretString;
    } catch (err) {
      throw new SlackCredentialsError(`could not read the Slack secret: ${(err as Error).name ?? 'error'}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text ?? '');
    } catch {
      throw new SlackCredentialsError('the Slack secret is not JSON');
    }
    const parsed = secretSchema.safeParse(raw);
    if (!parsed.success)
      throw new SlackCredentialsError(
        `the Slack secret must be {"signingSecret": "...", "botToken": "xoxb-..."}; wrong: ${parsed.error.issues
          .map((i) => i.path.join('.') || '(root)')
          .join(', ')}`,
      );
    return parsed.data;
  }
}
