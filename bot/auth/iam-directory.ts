import { ListUsersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { slackUserIdTagOf } from '../../runner/aws/slack-user-tag';
import { memoize } from '../../runner/memo';
import pLimit from 'p-limit';

export interface IamUserRef {
  userName: string;
  arn: string;
}
export type SlackUserIndex = ReadonlyMap<string, readonly IamUserRef[]>;

export interface IndexBuildOptions {
  concurrency?: number;
}

/**
 * The Slack-user → IAM-user index: every IAM user carrying the tag `slack_userid`, keyed by its
 * value. Built from ListUsers pages and one ListUserTags per user, at most `concurrency` at a time
 * (throttled calls are retried by the client's own retry strategy).
 */
export async function buildSlackUserIndex(
  iam: IAMClient,
  options: IndexBuildOptions = {},
): Promise<SlackUserIndex> {
  const { concurrency = 10 } = options;
  const users: IamUserRef[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListUsersCommand({ Marker: marker, MaxItems: 1000 }));
    for (const u of page.Users ?? [])
      if (u.UserName && u.Arn) users.push({ userName: u.UserName, arn: u.Arn });
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const limit = pLimit(Math.max(1, concurrency));
  const tagged = await Promise.all(
    users.map((user) =>
      limit(async () => ({ user, slackUserId: await slackUserIdTagOf(iam, user.userName) })),
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

export interface IamDirectory {
  /** The IAM users tagged with this Slack user id (zero, one or several). */
  usersFor(slackUserId: string): Promise<readonly IamUserRef[]>;
  /**
   * The Slack user id an IAM user's tag names, only when no other IAM user carries the same id: the
   * same one-to-one rule as `usersFor` for acting, so a summary never goes to a person the bot would
   * refuse to act for.
   */
  slackUserIdOf(iamUserName: string): Promise<string | undefined>;
}

export interface IamDirectoryOptions extends IndexBuildOptions {
  iam: IAMClient;
  cacheSeconds: number;
  now?: () => number;
}

/** The Slack-user → IAM-user index, kept for `cacheSeconds`; concurrent look-ups share one build. */
export function createIamDirectory(options: IamDirectoryOptions): IamDirectory {
  const index = memoize(() => buildSlackUserIndex(options.iam, options), {
    maxAgeMs: options.cacheSeconds * 1000,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    usersFor: async (slackUserId) => (await index()).get(slackUserId) ?? [],
    slackUserIdOf: async (iamUserName) => {
      for (const [slackUserId, users] of await index())
        if (users.some((u) => u.userName === iamUserName))
          return users.length === 1 ? slackUserId : undefined;
      return undefined;
    },
  };
}
