import type { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { SLACK_USER_TAG, slackUserIdTagOf } from '../aws/slack-user-tag';
import { iamUserNameSchema, slackUserIdSchema } from '../request';

/**
 * Who is running `snowwhite`: the run request names them (ECS tags, Slack messages), and their Slack
 * id — from their IAM user's `slack_userid` tag, the same tag the bot authorizes with — lets the
 * runner DM them the summary.
 */
export interface Caller {
  iamUserName: string;
  slackUserId?: string;
  /** Why there is no Slack id, when there is none (shown to the user; the run goes on). */
  note?: string;
}

/** Pure: the name to record for a caller ARN (IAM user, assumed-role session, or the root user). */
export function callerNameFromArn(arn: string): { name: string; isIamUser: boolean } {
  const user = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) return { name: user[1]!, isIamUser: true };
  const session = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/[^/]+\/([^/]+)$/.exec(arn);
  if (session) return { name: session[1]!, isIamUser: false };
  if (/^arn:aws[\w-]*:iam::\d{12}:root$/.test(arn)) return { name: 'root', isIamUser: false };
  const last = arn.split(/[/:]/).pop() ?? 'unknown';
  return { name: last, isIamUser: false };
}

/** Pure: a name that fits the run request's IAM-user-name rule (role sessions and login names may not). */
export const asIamUserName = (name: string): string =>
  iamUserNameSchema.safeParse(name).success
    ? name
    : name.replace(/[^\w+=,.@-]/g, '_').slice(0, 64) || 'unknown';

export async function identifyCaller(sts: STSClient, iam: IAMClient): Promise<Caller> {
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new Error('sts:GetCallerIdentity returned no ARN');
  const { name, isIamUser } = callerNameFromArn(identity.Arn);
  const safeName = asIamUserName(name);
  if (!isIamUser)
    return { iamUserName: safeName, note: 'not an IAM user: no slack_userid tag to DM you the summary' };
  try {
    const tag = await slackUserIdTagOf(iam, name);
    if (tag === undefined)
      return { iamUserName: safeName, note: `IAM user ${name} has no ${SLACK_USER_TAG} tag` };
    if (!slackUserIdSchema.safeParse(tag).success)
      return {
        iamUserName: safeName,
        note: `IAM user ${name}'s ${SLACK_USER_TAG} tag is not a Slack user id`,
      };
    return { iamUserName: safeName, slackUserId: tag };
  } catch (err) {
    // Not being allowed to read one's own tags must not stop a drain; it only costs the DM.
    return { iamUserName: safeName, note: `could not read your IAM tags (${(err as Error).name})` };
  }
}
