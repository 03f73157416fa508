import * as z from 'zod';
import { loadSettings, ssmDocumentNamesSchema } from './env-settings';
import { slackChannelIdSchema } from './request';
import { ledgerSettingsShape } from './ledger/schema';
import { type Action } from '../ssm/actions';

export const SLACK_OWN_API_URL = 'https://slack.com/api/';

/** The Fargate runner's environment. The run request itself comes in RUN_REQUEST (JSON). */
export const runnerSettingsSchema = z
  .object({
    RUN_REQUEST: z.string().min(2, 'must hold the run request as JSON'),
    SLACK_BOT_TOKEN: z.string().regex(/^xox[bp]-/, 'must be a Slack bot token (xoxb-…)'),
    /**
     * Base URL of Slack's Web API; tests and local runs point it at a fake Slack. Honoured only with
     * SNOWWHITE_ALLOW_SLACK_API_URL=1: the runner holds the bot token, and a container override that
     * pointed it elsewhere would hand the token out.
     */
    SLACK_API_URL: z.url().default(SLACK_OWN_API_URL),
    /** `1`: SLACK_API_URL may name another server than Slack's (tests, local runs, a stack that opts in). */
    SNOWWHITE_ALLOW_SLACK_API_URL: z.literal('1', 'must be 1 when set').optional(),
    /** Where every run's summary goes, besides the thread and the requester's DM. */
    SLACK_NOTIFY_CHANNEL: slackChannelIdSchema.optional(),
    ...ssmDocumentNamesSchema,
    /** Seconds between two progress-message edits in Slack. */
    PROGRESS_UPDATE_SECONDS: z.coerce.number().min(1).max(300).default(5),
    /** The fleet-memory table (runs and fleet states); unset: nothing is recorded. */
    ...ledgerSettingsShape,
  })
  .refine((s) => s.SLACK_API_URL === SLACK_OWN_API_URL || s.SNOWWHITE_ALLOW_SLACK_API_URL === '1', {
    path: ['SLACK_API_URL'],
    message:
      "is not Slack's own API and SNOWWHITE_ALLOW_SLACK_API_URL is not 1: the runner sends its bot token only to Slack unless explicitly allowed",
  });

export type RunnerSettings = z.output<typeof runnerSettingsSchema>;

export const loadRunnerSettings = (env: NodeJS.ProcessEnv = process.env): RunnerSettings =>
  loadSettings('snowwhite runner', runnerSettingsSchema, env);

/** The SSM document of each action, from the SSM_DOCUMENT_* settings (the bot's or the runner's). */
export function documentNames(
  settings: Pick<RunnerSettings, keyof typeof ssmDocumentNamesSchema>,
): Record<Action, string> {
  return {
    quiet: settings.SSM_DOCUMENT_QUIET,
    stop: settings.SSM_DOCUMENT_STOP,
    wake: settings.SSM_DOCUMENT_WAKE,
    status: settings.SSM_DOCUMENT_STATUS,
  };
}
