import * as z from 'zod';
import { loadSettings, ssmDocumentNamesSchema } from '../runner/env-settings';
import { runnerLaunchSettingsShape } from '../runner/launch';
import { ledgerSettingsShape } from '../runner/ledger/schema';
import { AWS_REGIONS, slackChannelIdSchema } from '../runner/request';

/** The longest a status answer may be waited for (the function's timeout leaves room for it). */
export const MAX_STATUS_ANSWER_SECONDS = 20;

/**
 * The bot Lambda's environment. Slack credentials come from Secrets Manager (SLACK_SECRET_ARN),
 * or, for local runs and tests, straight from SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN.
 */
export const botSettingsSchema = z
  .object({
    SLACK_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN').optional(),
    SLACK_SIGNING_SECRET: z.string().min(8, 'is too short to be a Slack signing secret').optional(),
    SLACK_BOT_TOKEN: z
      .string()
      .regex(/^xox[bp]-/, 'must be a Slack bot token (xoxb-…)')
      .optional(),
    SLACK_API_URL: z.url().default('https://slack.com/api/'),
    SLACK_NOTIFY_CHANNEL: slackChannelIdSchema,
    /** The workspace (T…) and app (A…) the bot serves; requests from others are refused. Unset: not checked. */
    SLACK_TEAM_ID: z
      .string()
      .regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack workspace id (T…)')
      .optional(),
    SLACK_APP_ID: z
      .string()
      .regex(/^A[A-Z0-9]{2,}$/, 'must be a Slack app id (A…)')
      .optional(),
    ...runnerLaunchSettingsShape,
    ...ssmDocumentNamesSchema,
    /** Set by Lambda itself; the bot invokes itself asynchronously to do slow work after the ack. */
    AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).optional(),
    /**
     * Seconds the Slack-user → IAM-user index is kept: rebuilding it costs one IAM call per user, so
     * not per request; policies are simulated afresh every time regardless.
     */
    IAM_TAG_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(900),
    /**
     * Requests one person (Slack user, or the command line's principal) may make per minute, through
     * every door and container together: commands, every button, history, the command line.
     */
    COMMANDS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(10),
    /** App Home openings per person per minute (its own budget: browsing Home costs no command). */
    HOME_OPENS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(20),
    /** ListUserTags calls in flight at once while building that index (throttled calls are retried). */
    IAM_LOOKUP_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(10),
    /**
     * Regions where the SSM documents are deployed (the stack's `fleetRegions`). A command for
     * another region is refused at once: the runner could only fail there. Unset: every region.
     */
    FLEET_REGIONS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(AWS_REGIONS, { error: 'each item must be an AWS region' })).min(1))
      .optional(),
    /**
     * This installation's id (the stack sets it): a command-line identity proof must name it, so a
     * proof made for another installation (or another service using the same pattern) is refused.
     * Unset: the command line's route refuses every request.
     */
    SNOWWHITE_INSTALLATION_ID: z.string().min(8).max(1024).optional(),
    /**
     * IAM roles (names) whose sessions may use the command line, comma-separated: a session is
     * simulated as its role, blind to any session policy, so only listed roles are accepted. IAM users
     * need no listing. Unset: no role.
     */
    CLI_ROLES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/, 'each item must be an IAM role name')))
      .default([]),
    /** The fleet-memory table; unset: no ledger, no App Home history, no reminders. */
    ...ledgerSettingsShape,
    /**
     * `status` on at most this many instances is answered by the bot itself (send, poll, answer);
     * a larger fleet gets a runner in a thread, as the answer says.
     */
    STATUS_MAX_INSTANCES: z.coerce.number().int().min(1).max(2000).default(200),
    /**
     * Seconds from the request to the status answer: instances that have not answered by then are
     * listed as pending. The function's timeout (infra) leaves room for it.
     */
    STATUS_ANSWER_SECONDS: z.coerce.number().min(1).max(MAX_STATUS_ANSWER_SECONDS).default(9),
    /** A fleet quiet or stopped this long (not woken, not redeployed) gets a reminder. */
    REMINDER_AFTER_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .default(7200),
    /** At most one reminder per fleet per this many seconds. */
    REMINDER_EVERY_SECONDS: z.coerce
      .number()
      .int()
      .min(600)
      .max(30 * 24 * 3600)
      .default(14400),
  })
  .superRefine(
    (s, ctx) => {
      const fromEnv = s.SLACK_SIGNING_SECRET !== undefined || s.SLACK_BOT_TOKEN !== undefined;
      if (fromEnv) {
        if (s.SLACK_SIGNING_SECRET === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['SLACK_SIGNING_SECRET'],
            message: 'is missing (SLACK_BOT_TOKEN is set)',
          });
        if (s.SLACK_BOT_TOKEN === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['SLACK_BOT_TOKEN'],
            message: 'is missing (SLACK_SIGNING_SECRET is set)',
          });
      } else if (s.SLACK_SECRET_ARN === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['SLACK_SECRET_ARN'],
          message: 'is missing (or set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN for local runs)',
        });
      }
      // Run even when other variables are invalid, so one message names every problem.
    },
    { when: () => true },
  );

export type BotSettings = z.output<typeof botSettingsSchema>;

export const loadBotSettings = (env: NodeJS.ProcessEnv = process.env): BotSettings =>
  loadSettings('snowwhite bot', botSettingsSchema, env);
