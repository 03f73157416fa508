import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { memoize } from '../../runner/memo';
import type { BotSettings } from '../settings';

export interface SlackCredentials {
  signingSecret: string;
  botToken: string;
  /** The workspace (T…) and app (A…) to serve, when the secret names them (they win over the stack's). */
  teamId?: string;
  appId?: string;
}

const secretSchema = z.object({
  signingSecret: z.string().min(8),
  botToken: z.string().regex(/^xox[bp]-/),
  // Optional: set once the app exists, with no redeploy (the stack's slackTeamId/slackAppId need one).
  teamId: z
    .string()
    .regex(/^T[A-Z0-9]{2,}$/)
    .optional(),
  appId: z
    .string()
    .regex(/^A[A-Z0-9]{2,}$/)
    .optional(),
});

export class SlackCredentialsError extends Error {
  override name = 'SlackCredentialsError';
}

export const CREDENTIALS_MAX_AGE_MS = 5 * 60_000;
/** A flood of badly signed requests must not become a flood of GetSecretValue calls. */
export const MIN_REFRESH_INTERVAL_MS = 30_000;

export interface SlackCredentialsSource {
  (): Promise<SlackCredentials>;
  /**
   * Reads the secret again now (a signature did not match: it may just have been rotated), at most
   * once per MIN_REFRESH_INTERVAL_MS; undefined when nothing new could be read.
   */
  refresh(): Promise<SlackCredentials | undefined>;
}

/**
 * The Slack signing secret and bot token: from the environment when both are set (local runs,
 * tests), otherwise from the Secrets Manager secret `{"signingSecret": "...", "botToken": "xoxb-..."}`,
 * kept for 5 minutes, so a rotation reaches warm containers. Errors name what is wrong, never a value.
 */
export function createSlackCredentialsSource(
  settings: Pick<BotSettings, 'SLACK_SECRET_ARN' | 'SLACK_SIGNING_SECRET' | 'SLACK_BOT_TOKEN'>,
  secretsManager: () => SecretsManagerClient,
  now: () => number = Date.now,
): SlackCredentialsSource {
  const fromEnv = !!(settings.SLACK_SIGNING_SECRET && settings.SLACK_BOT_TOKEN);
  const cached = () => memoize(load, { maxAgeMs: CREDENTIALS_MAX_AGE_MS, now });
  let current = cached();
  let lastRefresh = -Infinity;
  const source = (() => current()) as SlackCredentialsSource;
  source.refresh = async () => {
    if (fromEnv || now() - lastRefresh < MIN_REFRESH_INTERVAL_MS) return undefined;
    lastRefresh = now();
    current = cached();
    return current();
  };
  return source;

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
        `the Slack secret must be {"signingSecret": "...", "botToken": "xoxb-..."} (optionally "teamId": "T...", "appId": "A..."); wrong: ${parsed.error.issues
          .map((i) => i.path.join('.') || '(root)')
          .join(', ')}`,
      );
    return parsed.data;
  }
}
