import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';

/** Where the runner's tasks run; `SnowWhiteProps` documents each option and its default. */
export interface RunnerNetworkOptions {
  readonly vpc?: ec2.IVpc;
  readonly cluster?: ecs.ICluster;
  readonly subnets?: ec2.SubnetSelection;
  readonly assignPublicIp?: boolean;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

export interface RunnerNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SelectedSubnets;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly assignPublicIp: boolean;
}

/** The runner's VPC, subnets and security groups: the caller's, else new ones that cost nothing while idle. */
export function runnerNetwork(scope: Construct, options: RunnerNetworkOptions): RunnerNetwork {
  const vpc =
    options.vpc ??
    options.cluster?.vpc ??
    new ec2.Vpc(scope, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      // Nothing uses the default group; closing it would take a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    });
  const subnets = vpc.selectSubnets(
    options.subnets ??
      (vpc.publicSubnets.length > 0
        ? { subnetType: ec2.SubnetType.PUBLIC }
        : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }),
  );
  return {
    vpc,
    subnets,
    assignPublicIp: options.assignPublicIp ?? subnets.hasPublic,
    securityGroups: options.securityGroups ?? [httpsOutOnlySecurityGroup(scope, vpc)],
  };
}

function httpsOutOnlySecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'RunnerSecurityGroup', {
    vpc,
    description: 'Snow White runner: no ingress; HTTPS out to AWS APIs and Slack',
    allowAllOutbound: false,
  });
  group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and Slack');
  return group;
}
