import { createHash, randomUUID } from 'node:crypto';
import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { clientTokenFor, launchRunner, RunnerLaunchError } from '../../runner/launch';
import { describeError } from '../../runner/log';
import {
  commandFieldsShape,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  runIdSchema,
  runRequestSchema,
  slackUserIdSchema,
} from '../../runner/request';
import { CLI_ROUTE_PATH } from '../../runner/stack-outputs';
import { parseCallerArn, principalKeyOf, principalOf } from '../auth/principal';
import { checkRun } from '../deferred/checked-targets';
import { sendOnce } from '../deferred/confirmed-run';
import type { WorkDeps } from '../deferred/deps';
import { newErrorId } from '../../runner/error-id';
import { releaseLocks } from '../deferred/run-locks';
import { launchedRunItem } from '../../runner/ledger/items';
import { lockHolderPlain, lockTtlSeconds } from '../../runner/ledger/locks';
import { writeOrLog } from '../../runner/ledger/store';
import type { RateLimiter } from '../../runner/ledger/limits';
import { cliHistory, isCliHistoryRequest } from './history';
import { IDENTITY_PROOF_HEADER } from '../../runner/identity-proof';
import { regionRefusal } from '../doors/region';
import type { CallerIdentityVerifier } from './sts-identity';

/** The command line's route as API Gateway names it (method and path). */
export const CLI_ROUTE_KEY = `POST ${CLI_ROUTE_PATH}`;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** An HTTP API (v2) event for the command line's route (by the route API Gateway matched, not the path sent). */
export const isCliRouteEvent = (event: unknown): boolean =>
  isObj(event) && isObj(event.requestContext) && event.requestContext.routeKey === CLI_ROUTE_KEY;

export const cliRunBodySchema = z
  .object({
    ...commandFieldsShape,
    /**
     * The caller's key for this request, so that a retried request launches nothing twice. It is
     * scoped to the caller's principal: the run id is derived from both (the bot assigns every run
     * id), so it can never name, or rewrite, another principal's run or an older run.
     */
    idempotencyKey: runIdSchema.optional(),
    /** Older command lines sent their own run id: taken as an idempotency key, never as the run id. */
    runId: runIdSchema.optional(),
    drainTimeoutSeconds: z.number().int().min(1).max(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
    executionTimeoutSeconds: z.number().int().min(60).max(MAX_EXECUTION_TIMEOUT_SECONDS).optional(),
  })
  .strict();
export type CliRunBody = z.infer<typeof cliRunBodySchema>;

export interface CliRouteResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
const answer = (
  statusCode: number,
  body: object,
  headers: Record<string, string> = {},
): CliRouteResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * The ARN the event's request context claims (API Gateway's IAM authorizer fills it). Never believed:
 * whoever may invoke the function can write any; it is only logged next to a refusal.
 */
function claimedArnOf(event: Obj): string | undefined {
  const ctx = isObj(event.requestContext) ? event.requestContext : {};
  const iam = isObj(ctx.authorizer) && isObj(ctx.authorizer.iam) ? ctx.authorizer.iam : {};
  return typeof iam.userArn === 'string' && iam.userArn !== '' ? iam.userArn.slice(0, 300) : undefined;
}

/** The body exactly as sent (the identity proof carries its SHA-256). */
function rawBodyOf(event: Obj): string {
  const raw = typeof event.body === 'string' ? event.body : '';
  return event.isBase64Encoded === true ? Buffer.from(raw, 'base64').toString('utf8') : raw;
}

function parseBody(text: string): unknown {
  if (text.length > 4096) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A header of the event, whatever the case of its name. */
function headerOf(event: Obj, name: string): string | undefined {
  if (!isObj(event.headers)) return undefined;
  for (const [key, value] of Object.entries(event.headers))
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

/**
 * The command line's door: `POST /cli/runs` on the stack's HTTP API. API Gateway's IAM authorization
 * is the first wall; the bot believes nothing of the event on its own: the caller is the ARN STS
 * answers for the request's identity proof (sts-identity.ts), an assumed role only when the stack
 * lists it (`cliRoles`). The caller is then authorized by the same rules as a Slack user (checkRun),
 * and the bot launches the runner with its own rights, so operators need only `execute-api:Invoke`.
 */
export async function handleCliRun(
  deps: WorkDeps & {
    iam: IAMClient;
    account: string;
    /** Who signed the request's identity proof, as STS says. */
    verifyCaller: CallerIdentityVerifier;
    /** Roles whose sessions are accepted (CLI_ROLES); IAM users need no listing. */
    cliRoles: readonly string[];
    newRunId?: () => string;
    /** The Slack commands' per-minute budget, here keyed by the caller's principal ARN. */
    commandLimit?: RateLimiter;
  },
  event: unknown,
): Promise<CliRouteResponse> {
  const e = isObj(event) ? event : {};
  const rawBody = rawBodyOf(e);
  const identity = await deps.verifyCaller(headerOf(e, IDENTITY_PROOF_HEADER), rawBody);
  if (!identity.ok) {
    // A direct invocation with a made-up request context ends here too: it acts as nobody.
    deps.logger.warn('cli_request_rejected', {
      reason: `no valid identity proof: ${identity.reason}`,
      claimedArn: claimedArnOf(e) ?? null,
    });
    return answer(identity.status, {
      error: identity.status === 401 ? 'unauthenticated' : 'unavailable',
      detail: identity.reason,
    });
  }
  const callerArn = identity.arn;
  // `snowwhite history` shares the signed route (issue 21): its own handler, after the caller is known.
  if (isCliHistoryRequest(parseBody(rawBody))) {
    const history = await cliHistory(deps, callerArn, parseBody(rawBody));
    return answer(history.statusCode, history.body);
  }
  const parsed = cliRunBodySchema.safeParse(parseBody(rawBody));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    deps.logger.info('cli_request_rejected', { callerArn, problems });
    return answer(400, { error: 'bad_request', problems });
  }
  const { idempotencyKey: key, runId: legacyKey, ...body } = parsed.data;
  const idempotencyKey = key ?? legacyKey;
  const principalKey = principalKeyOf(callerArn);
  const runId =
    idempotencyKey !== undefined
      ? cliRunIdFor(principalKey, idempotencyKey)
      : (deps.newRunId ?? (() => `cli-${randomUUID()}`))();
  const what = {
    action: body.action,
    envPattern: body.envPattern,
    application: body.application,
    region: body.region,
  };
  // The run request's own rules (timeouts) before anything is asked of IAM.
  const request = runRequestSchema.safeParse({ runId, ...body, requestedBy: { iamUserName: 'caller' } });
  if (!request.success) {
    const problems = request.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    return answer(400, { error: 'bad_request', problems });
  }

  // The doors' order: the fleet regions, then the limit, then the person, then the simulation.
  const notServed = regionRefusal(deps.fleetRegions, what.region);
  if (notServed) {
    deps.logger.info('cli_request_rejected', {
      callerArn,
      runId,
      reason: 'region not served',
      region: what.region,
    });
    return answer(403, { error: 'refused', reason: notServed.reason, detail: notServed.detail });
  }
  // Before any IAM call: the flood this brakes is of simulations and Fargate tasks.
  const limited = await deps.commandLimit?.take(principalKey);
  if (limited && !limited.ok) {
    deps.logger.warn('cli_request_rejected', { callerArn, runId, reason: 'rate limited' });
    return answer(
      429,
      {
        error: 'rate_limited',
        detail: `too many Snow White requests from ${principalKey} in the last minute; nothing was done. Try again in ${limited.retryAfterSeconds} s`,
        retryAfterSeconds: limited.retryAfterSeconds,
      },
      { 'retry-after': String(limited.retryAfterSeconds) },
    );
  }

  const caller = parseCallerArn(callerArn, deps.account);
  if (caller.kind === 'role' && !deps.cliRoles.includes(caller.name)) {
    const detail = `role ${caller.name} is not one the stack lists for the command line (cliRoles); its sessions are refused`;
    deps.logger.info('authorization', {
      callerArn,
      ...what,
      allowed: false,
      reason: `role_not_listed: ${detail}`,
    });
    return answer(403, { error: 'refused', reason: 'role_not_listed', detail });
  }
  let principal;
  try {
    principal = await principalOf(deps.iam, caller);
  } catch (err) {
    deps.logger.info('authorization', {
      callerArn,
      ...what,
      allowed: false,
      reason: `unsupported_principal: ${describeError(err)}`,
    });
    return answer(403, { error: 'refused', reason: 'unsupported_principal', detail: describeError(err) });
  }

  const checked = await checkRun(deps, { runId, principal }, what);
  if (!checked.ok) {
    switch (checked.kind) {
      case 'refused':
        return answer(checked.decision.reason === 'iam_error' ? 503 : 403, {
          error: 'refused',
          reason: checked.decision.reason,
          detail: checked.decision.detail,
          ...(checked.decision.deniedEnvironments
            ? { deniedEnvironments: checked.decision.deniedEnvironments }
            : {}),
        });
      case 'lookup_failed':
        return answer(502, { error: 'lookup_failed', detail: checked.error });
      case 'no_targets':
        return answer(404, {
          error: 'no_targets',
          detail: `no running environment of ${what.application} in ${what.region} has a name containing "${what.envPattern}"`,
        });
    }
  }

  const requestedBy = {
    iamUserName: principal.userName,
    ...(caller.kind === 'user' ? await slackUserIdFor(deps, principal.userName, runId) : {}),
  };
  const environments = checked.preview.environments.map((env) => ({
    name: env.name,
    instances: env.instanceCount,
  }));
  // A key used before: the run it launched, as answered then; never a second run under that id.
  const earlier = deps.ledger ? await deps.ledger.getRun(runId) : undefined;
  if (earlier) {
    const same =
      earlier.action === what.action &&
      earlier.envPattern === what.envPattern &&
      earlier.application === what.application &&
      earlier.region === what.region &&
      earlier.iamUserName === principal.userName;
    if (!same || !earlier.taskArn)
      return answer(409, {
        error: 'conflict',
        runId,
        detail: 'this idempotency key was already used for another request: use a new key',
      });
    return answer(200, { runId, taskArn: earlier.taskArn, requestedBy: principal.userName, environments });
  }

  // One state-changing run per environment, as from Slack.
  const locked = what.action === 'status' ? [] : checked.preview.environments.map((e) => e.name);
  if (deps.locks && locked.length) {
    const request = runRequestSchema.parse({ runId, ...what, ...body, requestedBy });
    let taken;
    try {
      taken = await deps.locks.acquire({ runId, ...what, ...requestedBy }, locked, {
        nowMs: deps.nowMs(),
        ttlSeconds: lockTtlSeconds(request.executionTimeoutSeconds),
      });
    } catch (err) {
      deps.logger.warn('lock_take_failed', { runId, error: describeError(err) });
      return answer(503, {
        error: 'ledger_unavailable',
        detail:
          'could not lock the environments for the run (the ledger did not answer); nothing was launched',
      });
    }
    if (!taken.ok) {
      deps.logger.info('run_locked_out', { runId, via: 'cli', heldBy: taken.holder?.runId });
      return answer(409, {
        error: 'locked',
        detail: `${lockHolderPlain(taken.holder, taken.environment)}; nothing was launched`,
        ...(taken.holder
          ? {
              heldBy: {
                runId: taken.holder.runId,
                action: taken.holder.action,
                iamUserName: taken.holder.iamUserName,
                since: taken.holder.since,
                ...(taken.holder.permalink ? { thread: taken.holder.permalink } : {}),
              },
            }
          : {}),
      });
    }
  }

  // The bot sends the commands to exactly the targets it just authorized; the runner follows them.
  const out = await sendOnce(deps, { runId, command: { ...what, ...body }, preview: checked.preview });
  // Nothing sent: the environments are free again (a busy or launched attempt of this run keeps them).
  const sentNothing = out.ok ? out.sent.commands.length === 0 : out.kind === 'failed';
  if (sentNothing) await releaseLocks(deps, { runId, ...what }, locked);
  if (!out.ok) {
    if (out.kind === 'launched')
      return answer(200, { runId, taskArn: out.taskArn, requestedBy: principal.userName, environments });
    if (out.kind === 'busy')
      return answer(409, {
        error: 'conflict',
        runId,
        detail: 'this run is being started by another request',
      });
    return answer(502, { error: 'send_failed', runId, errorId: out.errorId, detail: out.error });
  }
  if (out.sent.commands.length === 0)
    return answer(409, {
      error: 'unreachable',
      runId,
      detail: 'no instance of the matched environments is reachable by SSM; no command was sent',
      unreachable: out.sent.unreachable,
    });
  try {
    const taskArn = await launchRunner(
      deps.ecs,
      deps.launch,
      {
        runId,
        ...what,
        ...body,
        requestedBy,
        commands: out.sent.commands,
        ...(out.sent.unreachable.length ? { unreachable: out.sent.unreachable.slice(0, 100) } : {}),
      },
      { clientToken: clientTokenFor(runId) },
    );
    await deps.sendClaims
      .recordLaunched(runId, taskArn)
      .catch((err: unknown) =>
        deps.logger.error('ledger_write_lost', { runId, write: 'launched', error: describeError(err) }),
      );
    // Recorded before answering: the run is in App Home (with its Cancel) whatever happens next.
    if (deps.ledger) {
      const ledger = deps.ledger;
      const item = launchedRunItem(
        { runId, ...what, requestedBy },
        {
          taskArn,
          ...(locked.length ? { locked } : {}),
          commandIds: out.sent.commands.map((c) => c.commandId),
          nowMs: deps.nowMs(),
        },
      );
      await writeOrLog(deps.logger, runId, 'launched', () => ledger.recordLaunch(item));
    }
    deps.logger.info('run_launched', {
      runId,
      taskArn,
      ...what,
      via: 'cli',
      callerArn,
      principalArn: principal.arn,
      ...requestedBy,
      instances: checked.preview.totalInstances,
    });
    return answer(200, { runId, taskArn, requestedBy: principal.userName, environments });
  } catch (err) {
    if (err instanceof RunnerLaunchError && err.kind === 'conflict')
      return answer(409, {
        error: 'conflict',
        runId,
        detail: 'this run id was already launched with other parameters',
      });
    // The commands are out: the locks hold until the run's end or their expiry.
    const errorId = newErrorId();
    deps.logger.error('launch_failed', { runId, errorId, via: 'cli', error: describeError(err) });
    return answer(502, { error: 'launch_failed', runId, errorId, detail: describeError(err) });
  }
}

/**
 * The run id for a command-line request with an idempotency key: derived from the caller's principal
 * and the key, so one principal's retry finds its own run and nobody can name another's.
 */
export const cliRunIdFor = (principalKey: string, idempotencyKey: string): string =>
  `cli-${createHash('sha256').update(`${principalKey}\n${idempotencyKey}`).digest('hex').slice(0, 40)}`;

/**
 * The Slack id an IAM user caller's `slack_userid` tag names (the bot's tag index), so the runner DMs
 * them the summary and the ledger lists the run as theirs. An assumed role has no tag to go by. A
 * failed look-up costs only the DM: the run goes ahead without it.
 */
async function slackUserIdFor(
  deps: Pick<WorkDeps, 'directory' | 'logger'>,
  iamUserName: string,
  runId: string,
): Promise<{ slackUserId?: string }> {
  try {
    const tag = await deps.directory.slackUserIdOf(iamUserName);
    return tag !== undefined && slackUserIdSchema.safeParse(tag).success ? { slackUserId: tag } : {};
  } catch (err) {
    deps.logger.warn('slack_user_lookup_failed', { runId, iamUserName, error: describeError(err) });
    return {};
  }
}
