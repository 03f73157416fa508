import type { z } from 'zod';
import type { botSettingsSchema } from '../bot/settings';
import type { runnerLaunchSettingsShape } from '../runner/launch';
import type { runnerSettingsSchema } from '../runner/settings';

/**
 * Environment variables named as a program's settings schema reads them, each value as text (tokens
 * included; the program parses it at start). A name the schema does not read, or a required one left
 * out, fails the type check: renaming a setting breaks the stack's build, not its first run.
 */
export type SettingsEnv<S extends z.ZodType> = { [K in keyof z.input<S>]: string };

/** The bot Lambda's environment (bot/settings.ts). */
export type BotEnv = SettingsEnv<typeof botSettingsSchema>;

/** The RUNNER_* variables: how the bot launches the runner task (runner/launch.ts). */
export type RunnerLaunchEnv = SettingsEnv<z.ZodObject<typeof runnerLaunchSettingsShape>>;

/** The runner's own settings (runner/settings.ts). */
type RunnerSettingsEnv = SettingsEnv<typeof runnerSettingsSchema>;

/** The runner setting each RunTask passes as a container override (runner/launch.ts). */
type RunnerOverrideName = 'RUN_REQUEST';
/** The runner setting ECS fills from the Slack secret. */
type RunnerSecretName = 'SLACK_BOT_TOKEN';

/** The runner task definition's environment: every runner setting but the override and the secret. */
export type RunnerEnv = Omit<RunnerSettingsEnv, RunnerOverrideName | RunnerSecretName>;

/** The runner's settings that ECS fills from secrets. */
export type RunnerSecrets<T> = { [K in RunnerSecretName & keyof RunnerSettingsEnv]: T };

/** Settings both programs read, with one value for both. */
export type SharedEnv = Pick<BotEnv, keyof BotEnv & keyof RunnerEnv> &
  Pick<RunnerEnv, keyof BotEnv & keyof RunnerEnv>;
