import { BotRefusedError } from './signed-route';
import { describeError } from '../log';
import { EXIT_FAILURE, EXIT_REFUSED } from '../drain/outcome';

/**
 * An error as the command line shows it: one line that says what went wrong and what to do, a
 * stable code for scripts (`--json` prints `{"event":"error","error":code,...}`), and the exit code.
 */
export interface CliError {
  code: string;
  message: string;
  exitCode: number;
}

/** What the person was doing, to word the advice. */
export interface ErrorContext {
  profile?: string;
  stack?: string;
  stackRegion?: string;
}

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** Pure: any error thrown while talking to AWS or the bot, as one line with what to do. */
export function cliErrorOf(err: unknown, ctx: ErrorContext = {}): CliError {
  if (err instanceof CliFacingError) return err.cliError;
  if (err instanceof BotRefusedError) {
    // API Gateway's own answers have no Snow White error body: the message is "<status>: <body>".
    if (/^\d{3}: /.test(err.message) && (err.status === 403 || err.status === 401))
      return {
        code: 'not_allowed_to_call',
        message: `API Gateway refused the signed request (${err.message.slice(0, 120)}): your identity needs execute-api:Invoke on the stack's CliInvokeResource output (\`snowwhite doctor\` prints it); ask whoever deployed Snow White`,
        exitCode: EXIT_REFUSED,
      };
    // The bot's answers already say what they are (refused, rate_limited…) and what would help.
    return {
      code: /^(\w+)/.exec(err.message)?.[1] ?? 'bot_error',
      message: err.message,
      exitCode: err.status === 403 || err.status === 409 || err.status === 429 ? EXIT_REFUSED : EXIT_FAILURE,
    };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string };
  };
  const name = e.name ?? '';
  const message = e.message ?? String(err);
  const profile = ctx.profile ? ` --profile ${ctx.profile}` : '';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    if (/sso|token/i.test(message))
      return {
        code: 'sso_login_needed',
        message: `your AWS SSO session is missing or expired: run \`aws sso login${profile}\`, then try again`,
        exitCode: EXIT_FAILURE,
      };
    return {
      code: 'no_credentials',
      message: `no AWS credentials${ctx.profile ? ` for profile ${ctx.profile}` : ''}: give --profile NAME or set AWS_PROFILE (for an SSO profile run \`aws sso login --profile NAME\` first), or use --local to act on this host only`,
      exitCode: EXIT_FAILURE,
    };
  }
  if (/ExpiredToken|TokenRefreshRequired|InvalidClientTokenId|UnrecognizedClient/.test(name))
    return {
      code: 'credentials_expired',
      message: `AWS did not accept your credentials (${name}): renew them (\`aws sso login${profile}\`, or new access keys) and try again`,
      exitCode: EXIT_FAILURE,
    };
  const netCode = e.code ?? e.cause?.code;
  if ((netCode && NETWORK_CODES.has(netCode)) || name === 'TimeoutError')
    return {
      code: 'network',
      message: `could not reach AWS (${netCode ?? name}: ${message.slice(0, 120)}): check your network, HTTPS_PROXY or AWS_ENDPOINT_URL`,
      exitCode: EXIT_FAILURE,
    };
  if (name === 'ValidationError' && /Stack with id .* does not exist/.test(message))
    return {
      code: 'stack_not_found',
      message: `no stack ${ctx.stack ?? ''} in ${ctx.stackRegion ?? 'this region'}: give --stack-region REGION where Snow White is deployed (\`snowwhite setup --stack-region REGION\` remembers it), or --stack NAME`,
      exitCode: EXIT_FAILURE,
    };
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(name))
    return {
      code: 'access_denied',
      message: `${name}: ${message.slice(0, 300)} (ask your AWS administrator for that right; the README's "Say who may do what" lists them)`,
      exitCode: EXIT_FAILURE,
    };
  return { code: 'error', message: describeError(err), exitCode: EXIT_FAILURE };
}

/** An error that already says what to do (the command line's own checks). */
export class CliFacingError extends Error {
  constructor(readonly cliError: CliError) {
    super(cliError.message);
    this.name = 'CliFacingError';
  }
}
