import { regionSchema } from '../request';

// Which regions the command line works in: the fleet's (where its Elastic Beanstalk environments
// are) and the one its AWS clients use for the SnowWhite stack. Without this, a person with no
// AWS_REGION got the SDK's "Region is missing" though they had typed one.

export interface RegionSources {
  /** The <region> argument, already checked by the argument parser. */
  argument?: string;
  env: NodeJS.ProcessEnv;
  /** The region of the AWS profile in use (~/.aws/config), if any. */
  profile?: string;
}

export type Regions = { fleet: string; aws: string } | { error: string };

/**
 * Pure: the fleet's region is the argument, else AWS_REGION, AWS_DEFAULT_REGION, the profile's;
 * the clients' is where the SDK would look (AWS_REGION, AWS_DEFAULT_REGION, the profile), else the
 * fleet's. A region from the environment is untrusted too: an invalid one is named, not used.
 */
export function resolveRegions(sources: RegionSources): Regions {
  const configured: Array<[string, string | undefined]> = [
    ['AWS_REGION', sources.env.AWS_REGION],
    ['AWS_DEFAULT_REGION', sources.env.AWS_DEFAULT_REGION],
    ['the AWS profile', sources.profile],
  ];
  let aws: string | undefined;
  for (const [source, value] of configured) {
    if (!value) continue;
    const parsed = regionSchema.safeParse(value.toLowerCase());
    if (!parsed.success)
      return {
        error: `${source} is "${value.slice(0, 40)}", which is not an AWS region (for example us-east-1)`,
      };
    aws = parsed.data;
    break;
  }
  const fleet = sources.argument ?? aws;
  if (!fleet)
    return {
      error:
        'no AWS region: give the fleet region as the 4th argument (for example us-east-1), or set AWS_REGION or a region in your AWS profile',
    };
  return { fleet, aws: aws ?? fleet };
}
