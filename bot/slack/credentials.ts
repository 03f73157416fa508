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

/**
 * The value the stack's new secret holds until an administrator sets the real ones. It is public (it is
 * in this repository): a bot that accepted it as a signing secret would take requests anyone can sign.
 */
export const SECRET_PLACEHOLDER = 'SET_AFTER_DEPLOY';

/** The secret (or the environment) still holds the placeholder in one field or both: serve nothing. */
export class SlackSecretPlaceholderError extends SlackCredentialsError {
  override name = 'SlackSecretPlaceholderError';
  constructor(readonly fields: string[]) {
    super(
      `the Slack secret still holds the placeholder ${SECRET_PLACEHOLDER} in ${fields.join(' and ')}: put the Slack app's real signing secret and bot token in it (README, Deploy step 3); nothing is served until then`,
    );
  }
}

/** The fields that still hold the placeholder (anywhere in the value: a half-edited one counts). */
export const placeholderFields = (raw: unknown): string[] =>
  typeof raw === 'object' && raw !== null
    ? (['signingSecret', 'botToken'] as const).filter((k) => {
        const v = (raw as Record<string, unknown>)[k];
        return typeof v === 'string' && v.includes(SECRET_PLACEHOLDER);
      })
    : [];

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
    if (settings.SLACK_SIGNING_SECRET && settings.SLACK_BOT_TOKEN) {
      const fromEnv = { signingSecret: settings.SLACK_SIGNING_SECRET, botToken: settings.SLACK_BOT_TOKEN };
      const placeholders = placeholderFields(fromEnv);
      if (placeholders.length) throw new SlackSecretPlaceholderError(placeholders);
      return fromEnv;
    }
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
    // Before the shape: a placeholder token fails the shape too, but this says what to do.
    const placeholders = placeholderFields(raw);
    if (placeholders.length) throw new SlackSecretPlaceholderError(placeholders);
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
