import { ListUsersCommand, ListUserTagsCommand, type IAMClient } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { withThrottlingRetry, type RetryOptions } from '../throttling';

/**
 * The Slack-user → IAM-user index: every IAM user carrying the tag `slack_userid`, keyed by its
 * value. Built from ListUsers pages and one ListUserTags per user, at most `concurrency` at a time,
 * retrying throttled calls; kept for `cacheSeconds`; concurrent look-ups share one build.
 */
export const SLACK_USER_TAG = 'slack_userid';

export interface IamUserRef {
  userName: string;
  arn: string;
}
export type SlackUserIndex = ReadonlyMap<string, readonly IamUserRef[]>;

export interface IndexBuildOptions {
  concurrency?: number;
  retry?: RetryOptions;
}

export async function buildSlackUserIndex(
  iam: IAMClient,
  options: IndexBuildOptions = {},
): Promise<SlackUserIndex> {
  const { concurrency = 10, retry } = options;
  const users: IamUserRef[] = [];
  let marker: string | undefined;
  do {
    const page = await withThrottlingRetry(
      () => iam.send(new ListUsersCommand({ Marker: marker, MaxItems: 1000 })),
      retry,
    );
    for (const u of page.Users ?? [])
      if (u.UserName && u.Arn) users.push({ userName: u.UserName, arn: u.Arn });
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const limit = pLimit(Math.max(1, concurrency));
  const tagged = await Promise.all(
    users.map((user) =>
      limit(async () => ({ user, slackUserId: await slackUserIdTagOf(iam, user.userName, retry) })),
    ),
  );
  const index = new Map<string, IamUserRef[]>();
  for (const { user, slackUserId } of tagged) {
    if (slackUserId === undefined) continue;
    const list = index.get(slackUserId) ?? [];
    list.push(user);
    index.set(slackUserId, list);
  }
  return index;
}

/** The value of one IAM user's `slack_userid` tag (all pages of its tags), if it has one. */
export async function slackUserIdTagOf(
  iam: IAMClient,
  userName: string,
  retry?: RetryOptions,
): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await withThrottlingRetry(
      () => iam.send(new ListUserTagsCommand({ UserName: userName, Marker: marker })),
      retry,
    );
    const tag = page.Tags?.find((t) => t.Key === SLACK_USER_TAG);
    if (tag) return tag.Value?.trim() || undefined;
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return undefined;
}

export interface IamDirectory {
  /** The IAM users tagged with this Slack user id (zero, one or several). */
  usersFor(slackUserId: string): Promise<readonly IamUserRef[]>;
}

export interface IamDirectoryOptions extends IndexBuildOptions {
  iam: IAMClient;
  cacheSeconds: number;
  now?: () => number;
}

export function createIamDirectory(options: IamDirectoryOptions): IamDirectory {
  const { iam, cacheSeconds, now = Date.now } = options;
  let cached: { builtAt: number; index: Promise<SlackUserIndex> } | undefined;
  const index = (): Promise<SlackUserIndex> => {
    const fresh = cached && now() - cached.builtAt < cacheSeconds * 1000;
    if (!cached || !fresh) {
      const building = buildSlackUserIndex(iam, options);
      const entry = { builtAt: now(), index: building };
      cached = entry;
      // A failed build is not cached: the next look-up tries again.
      building.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.index;
  };
  return { usersFor: async (slackUserId) => (await index()).get(slackUserId) ?? [] };
}
