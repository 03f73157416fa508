import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** DescribeInstanceInformation accepts at most 50 ids per InstanceIds filter. */
const SSM_FILTER_MAX = 50;

/** SSM's PingStatus of each instance id; ids SSM does not know are absent. */
export async function pingStatuses(
  ssm: SSMClient,
  instanceIds: readonly string[],
): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  for (let i = 0; i < instanceIds.length; i += SSM_FILTER_MAX) {
    const chunk = instanceIds.slice(i, i + SSM_FILTER_MAX);
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(
        new DescribeInstanceInformationCommand({
          Filters: [{ Key: 'InstanceIds', Values: chunk }],
          MaxResults: 50,
          NextToken,
        }),
      );
      for (const info of page.InstanceInformationList ?? []) {
        if (info.InstanceId) status.set(info.InstanceId, info.PingStatus ?? 'Unknown');
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return status;
}

/** Pure: why an instance whose PingStatus is not Online cannot run a command. */
export const unreachableReason = (ping: string | undefined): string =>
  ping === undefined
    ? 'not registered with SSM (no agent, or no instance profile allowing SSM)'
    : `SSM agent ${ping === 'ConnectionLost' ? 'lost its connection' : `is ${ping}`}`;
