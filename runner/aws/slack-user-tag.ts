import { ListUserTagsCommand, type IAMClient } from '@aws-sdk/client-iam';

/** The IAM user tag that names a person's Slack user id: the bot authorizes by it, the command line DMs by it. */
export const SLACK_USER_TAG = 'slack_userid';

/** The value of one IAM user's `slack_userid` tag (all pages of its tags), if it has one. */
export async function slackUserIdTagOf(iam: IAMClient, userName: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListUserTagsCommand({ UserName: userName, Marker: marker }));
    const tag = page.Tags?.find((t) => t.Key === SLACK_USER_TAG);
    if (tag) return tag.Value?.trim() || undefined;
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return undefined;
}
