import { randomUUID } from 'node:crypto';
// Bolt's own modules rather than its index: the index also loads ExpressReceiver (express, mime-db),
// about 330 kB of bundle this Lambda never uses.
import App from '@slack/bolt/dist/App';
import AwsLambdaReceiver from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import type { BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { CANCEL_ACTION_ID, CONFIRM_ACTION_ID, openButtonValue } from './buttons';
import { parseCommand } from './command';
import {
  CANCEL_RUN_ACTION_ID,
  cancelRunButtonValueSchema,
  decodeButtonValue as decodeRunnerButtonValue,
  REQUEST_ACTION_ID,
  requestButtonValueSchema,
} from '../../runner/slack/buttons';
import { hasValidSlackSignature, normalizeHttpEvent, refusalAnswer } from './http-event';
import type { Work } from '../deferred/handoff';
import { describeError, type Logger } from '../../runner/log';
import { boltLogger } from './bolt-logger';
import { where } from './messages';
import { usageReply } from './usage';
import { regionRefusal } from '../doors/region';
import { foreignOrigin, type Installation } from './workspace';
import type { RateLimiter } from '../../runner/ledger/limits';

export interface BotDeps {
  signingSecret: string;
  botToken: string;
  slackApiUrl: string;
  handOff: (work: Work) => Promise<void>;
  logger: Logger;
  /** Seconds since the epoch (signature timestamps). */
  nowSeconds?: () => number;
  newRunId?: () => string;
  /**
   * The per-person budget every door draws on (commands, every button, history), shared by every
   * container through the ledger table; absent without a ledger.
   */
  commandLimit?: RateLimiter;
  /** Opening App Home: its own budget, so browsing Home never costs a command. */
  homeLimit?: RateLimiter;
  /** The one workspace and app whose requests are served (unset: not checked). */
  installation?: Installation;
  /** Regions with Snow White's SSM documents; a command for another region is refused at once. */
  fleetRegions?: readonly string[];
}

export interface Bot {
  app: App;
  /** API Gateway event (HTTP API v2 or REST v1) → HTTP response. */
  handle(event: unknown, context: unknown): Promise<APIGatewayProxyResult>;
}

const tooManyText = (retryAfterSeconds: number) => ({
  response_type: 'ephemeral' as const,
  text: `:raised_hand: Too many Snow White requests from you in the last minute; nothing was done. Try again in ${retryAfterSeconds} s.`,
});

const SLOW_START_TEXT = (action: string, whereText: string) =>
  `:hourglass_flowing_sand: Checking your permissions and looking up ${whereText} for \`${action}\`…`;

/**
 * The HTTP side: a Bolt app behind AwsLambdaReceiver whose listeners only acknowledge. Anything
 * slow (IAM, Elastic Beanstalk, ECS) is handed off through `handOff` (bot/lambda.ts: the function
 * invoking itself asynchronously) and answers later through the response_url.
 */
export function createBot(deps: BotDeps): Bot {
  const { logger } = deps;
  const nowSeconds = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const newRunId = deps.newRunId ?? (() => randomUUID());
  const log = boltLogger(logger);
  // Bolt would check the signature a second time: `handle` checks it first, before anything parses
  // the body, and is the one check.
  const receiver = new AwsLambdaReceiver({
    signingSecret: deps.signingSecret,
    signatureVerification: false,
    logger: log,
  });
  const app = new App({
    receiver,
    // A fixed token: no auth.test at start or per request.
    authorize: async () => ({ botToken: deps.botToken }),
    clientOptions: { slackApiUrl: deps.slackApiUrl },
    logger: log,
    ignoreSelf: false,
    convoStore: false,
    tokenVerificationEnabled: false,
  });

  /**
   * Takes one request from the person's budget. Over it: logged, and `tell` is called with the
   * message on the window's first refusal only (one clear "slow down", not one per click).
   */
  const overLimit = async (
    slackUserId: string,
    door: string,
    tell: ((text: string) => Promise<unknown>) | undefined,
    /** The region the click acts in: a region not served is refused first, as for a typed command. */
    region?: string,
  ): Promise<boolean> => {
    const notServed = region === undefined ? undefined : regionRefusal(deps.fleetRegions, region);
    if (notServed) {
      logger.info('request_rejected', { slackUserId, door, reason: 'region not served', region });
      await tell?.(`:x: ${notServed.detail}. Nothing was launched.`);
      return true;
    }
    const limited = await deps.commandLimit?.take(slackUserId);
    if (!limited || limited.ok) return false;
    logger.warn('request_rejected', { slackUserId, door, reason: 'rate limited' });
    if (limited.firstRefusal) await tell?.(tooManyText(limited.retryAfterSeconds).text);
    return true;
  };
  /** A direct message to the person (App Home clicks have nowhere else to answer); a failure is logged. */
  const dm = (slackUserId: string) => (text: string) =>
    app.client.chat
      .postMessage({ token: deps.botToken, channel: slackUserId, text })
      .catch((e: unknown) => logger.error('dm_failed', { error: describeError(e) }));

  app.command(/^\/snowwhite/, async ({ command, ack }) => {
    const parsed = parseCommand(command.text);
    if (!parsed.ok) {
      logger.info('command_rejected', { slackUserId: command.user_id, problems: parsed.problems });
      return ack(usageReply(parsed.problems));
    }
    if (parsed.command.kind === 'help') return ack(usageReply());
    if (parsed.command.kind === 'history') {
      const limited = await deps.commandLimit?.take(command.user_id);
      if (limited && !limited.ok) {
        logger.warn('command_rejected', { slackUserId: command.user_id, reason: 'rate limited' });
        return ack(tooManyText(limited.retryAfterSeconds));
      }
      const { application } = parsed.command;
      try {
        await deps.handOff({
          kind: 'history',
          slackUserId: command.user_id,
          channelId: command.channel_id,
          responseUrl: command.response_url,
          ...(application ? { application } : {}),
        });
      } catch (err) {
        logger.error('handoff_failed', { kind: 'history', error: describeError(err) });
        return ack({ response_type: 'ephemeral', text: ':x: Could not read the history; try again.' });
      }
      return ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Looking up the last runs…' });
    }
    const { kind: _kind, ...what } = parsed.command;
    if (deps.fleetRegions && !deps.fleetRegions.includes(what.region)) {
      logger.info('command_rejected', {
        slackUserId: command.user_id,
        reason: 'region not served',
        region: what.region,
      });
      return ack({
        response_type: 'ephemeral',
        text: `:x: Snow White is not set up for ${what.region}: its SSM documents exist in ${deps.fleetRegions.join(', ')}. Nothing was launched.`,
      });
    }
    const limited = await deps.commandLimit?.take(command.user_id);
    if (limited && !limited.ok) {
      logger.warn('command_rejected', { slackUserId: command.user_id, reason: 'rate limited' });
      return ack(tooManyText(limited.retryAfterSeconds));
    }
    const runId = newRunId();
    try {
      await deps.handOff({
        kind: 'command',
        runId,
        slackUserId: command.user_id,
        channelId: command.channel_id,
        responseUrl: command.response_url,
        command: what,
      });
    } catch (err) {
      logger.error('handoff_failed', { runId, error: describeError(err) });
      return ack({
        response_type: 'ephemeral',
        text: ':x: Could not start the check; nothing was launched. Try again.',
      });
    }
    logger.info('command_accepted', { runId, slackUserId: command.user_id, ...what });
    return ack({ response_type: 'ephemeral', text: SLOW_START_TEXT(what.action, where(what)) });
  });

  /** A reply below the clicked message (ephemeral: seen by the clicker only); not delivered is logged. */
  const replyBelow =
    (respond: RespondFn, ephemeral = false) =>
    (text: string): Promise<unknown> =>
      respond({
        text,
        replace_original: false,
        ...(ephemeral ? { response_type: 'ephemeral' as const } : {}),
      }).catch((e: unknown) => logger.error('respond_failed', { error: describeError(e) }));

  /** Hands a click's work off; when that fails, logs it and tells the clicker through `tell`, if anywhere. */
  const handOffClick = async (
    work: Work,
    logFields: Record<string, unknown>,
    tell: ((text: string) => Promise<unknown>) | undefined,
    failureText: string,
  ): Promise<void> => {
    try {
      await deps.handOff(work);
    } catch (err) {
      logger.error('handoff_failed', { ...logFields, error: describeError(err) });
      await tell?.(failureText);
    }
  };

  const onButton = (choice: 'confirm' | 'cancel') =>
    (async ({ body, action, ack, respond }) => {
      await ack();
      const opened = openButtonValue(action.value, deps.signingSecret, nowSeconds());
      if (!opened.ok) {
        logger.warn('button_rejected', {
          slackUserId: body.user.id,
          reason: `${opened.reason} button value`,
          ...(opened.runId ? { runId: opened.runId } : {}),
        });
        return void (await respond({
          text:
            opened.reason === 'expired'
              ? ':hourglass: This prompt is more than 15 minutes old; nothing was launched. Run the command again.'
              : 'This button is not valid; nothing was launched. Run the command again.',
          replace_original: true,
        }));
      }
      const { value } = opened;
      // The prompt stays: pressing again once the wait is over works.
      if (
        await overLimit(
          body.user.id,
          `prompt ${choice}`,
          replyBelow(respond, true),
          choice === 'confirm' ? value.region : undefined,
        )
      )
        return;
      const channelId = body.channel?.id ?? body.container?.channel_id;
      if (!channelId) {
        logger.warn('button_rejected', { slackUserId: body.user.id, reason: 'no channel in the payload' });
        return void (await respond({
          text: 'This button is not valid here; run the command again.',
          replace_original: true,
        }));
      }
      // On failure the prompt stays: pressing the button again retries with the same run id (and
      // client token).
      await handOffClick(
        {
          kind: 'button',
          choice,
          slackUserId: body.user.id,
          channelId,
          responseUrl: body.response_url,
          value,
        },
        { runId: value.runId },
        replyBelow(respond),
        `:x: Could not ${choice === 'confirm' ? 'start the run' : 'cancel'}; nothing was launched. Press the button again.`,
      );
    }) satisfies Parameters<typeof app.action<BlockAction<ButtonAction>>>[1];
  app.action<BlockAction<ButtonAction>>(CONFIRM_ACTION_ID, onButton('confirm'));
  app.action<BlockAction<ButtonAction>>(CANCEL_ACTION_ID, onButton('cancel'));

  // Wake, Retry, Status under a run's summary: as if the clicker typed the command (authorized,
  // then the usual prompt), so the value needs no signature. Ids may carry a suffix (":wake").
  app.action<BlockAction<ButtonAction>>(
    { action_id: new RegExp(`^${REQUEST_ACTION_ID}(:|$)`) },
    async ({ body, action, ack, respond }) => {
      await ack();
      const value = decodeRunnerButtonValue(requestButtonValueSchema, action.value);
      // App Home has neither channel nor response URL: the answers go to the clicker's DM.
      const fromHome = !body.response_url;
      const channelId = fromHome ? body.user.id : (body.channel?.id ?? body.container?.channel_id);
      if (!value || !channelId) {
        logger.warn('button_rejected', { slackUserId: body.user.id, reason: 'invalid request button' });
        if (fromHome) return;
        return void (await respond({
          text: 'This button is not valid; type the command instead.',
          replace_original: false,
          response_type: 'ephemeral',
        }));
      }
      if (
        await overLimit(
          body.user.id,
          'request button',
          fromHome ? dm(body.user.id) : replyBelow(respond, true),
          value.region,
        )
      )
        return;
      const { v: _v, ...command } = value;
      const runId = newRunId();
      await handOffClick(
        {
          kind: 'request',
          runId,
          slackUserId: body.user.id,
          channelId,
          ...(fromHome ? {} : { responseUrl: body.response_url }),
          command,
        },
        { runId },
        fromHome ? undefined : replyBelow(respond, true),
        ':x: Could not start the check; nothing was launched. Press the button again.',
      );
    },
  );

  // Cancel on a run's progress message or in App Home. An App Home click has no response_url nor
  // channel: the slow half then answers by direct message.
  app.action<BlockAction<ButtonAction>>(CANCEL_RUN_ACTION_ID, async ({ body, action, ack, respond }) => {
    await ack();
    const channelId = body.channel?.id ?? body.container?.channel_id;
    const reply = body.response_url && channelId ? { responseUrl: body.response_url, channelId } : undefined;
    const answer = reply ? replyBelow(respond, true) : undefined;
    const value = decodeRunnerButtonValue(cancelRunButtonValueSchema, action.value);
    if (!value) {
      logger.warn('button_rejected', { slackUserId: body.user.id, reason: 'invalid cancel button' });
      return void (await answer?.('This Cancel button is not valid; nothing was stopped.'));
    }
    if (await overLimit(body.user.id, 'cancel', answer ?? dm(body.user.id), value.region)) return;
    await handOffClick(
      { kind: 'cancel', slackUserId: body.user.id, ...(reply ? { reply } : {}), value },
      { kind: 'cancel', runId: value.runId },
      answer,
      ':x: Could not cancel; nothing was stopped. Press Cancel again.',
    );
  });

  // Events API (same URL). Bolt acknowledges events itself; the ledger read and views.publish are
  // handed off like every other slow step, so Slack gets its answer at once and does not retry.
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    const limited = await deps.homeLimit?.take(event.user);
    if (limited && !limited.ok) {
      // The Home tab keeps its last view; nothing to tell.
      logger.warn('request_rejected', { slackUserId: event.user, door: 'home', reason: 'rate limited' });
      return;
    }
    try {
      await deps.handOff({ kind: 'home', slackUserId: event.user });
    } catch (err) {
      logger.error('handoff_failed', { kind: 'home', error: describeError(err) });
    }
  });

  app.error(async (err) => {
    logger.error('bolt_error', { error: describeError(err) });
  });

  const boltHandler = receiver.toHandler();
  return {
    app,
    async handle(event, context) {
      const request = normalizeHttpEvent(event);
      if (!hasValidSlackSignature(deps.signingSecret, request, nowSeconds())) {
        logger.warn('request_rejected', {
          reason: 'missing, stale or invalid Slack signature',
          path: request.path,
        });
        return { statusCode: 401, body: '' };
      }
      const foreign = foreignOrigin(request.body, request.headers['content-type'], deps.installation ?? {});
      if (foreign) {
        logger.warn('request_rejected', {
          reason: `another Slack installation: ${foreign}`,
          path: request.path,
        });
        // Anything but a slash command gets only an empty acknowledgement.
        return refusalAnswer(
          request,
          ':no_entry: Snow White serves only the workspace it is installed in; nothing was done.',
          200,
        );
      }
      try {
        return (await boltHandler(request, context)) as APIGatewayProxyResult;
      } catch (err) {
        logger.error('request_failed', { error: describeError(err) });
        return { statusCode: 400, body: '' };
      }
    },
  };
}
