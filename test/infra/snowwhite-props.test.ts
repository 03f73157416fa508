import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Errors, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { REPO_ROOT, SnowWhite, SnowWhiteDocuments, type SnowWhiteProps } from '../../infra/snowwhite';
import { SnowWhiteStack } from '../../infra/snowwhite-stack';
import { allStatements, logicalId, nagFindings, tempApp, type Statement } from './helpers';

// These variants check the construct's props; the bot is not bundled here (the stack test does it).
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function synth(build: (stack: Stack) => void) {
  const env = tempApp({ bundle: false });
  cleanups.push(env.cleanup);
  const stack = new Stack(env.app, 'Host');
  build(stack);
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() };
}

const statementsWithSid = (json: object, sid: string): Statement[] =>
  allStatements(json).filter((s) => s.Sid === sid);

describe('the construct in an existing network', () => {
  let result: ReturnType<typeof synth>;
  let sw: SnowWhite;
  beforeAll(() => {
    result = synth((stack) => {
      const vpc = new ec2.Vpc(stack, 'TeamVpc', { maxAzs: 2, natGateways: 1 });
      const cluster = new ecs.Cluster(stack, 'TeamCluster', { vpc });
      const slackSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'TeamSecret', 'team/slack');
      sw = new SnowWhite(stack, 'SW', {
        notifyChannelId: 'C0TEAM',
        cluster,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        slackSecret,
        documentNamePrefix: 'TeamDrain',
        slackApiUrl: 'https://slack.example.test/api/',
        runnerArchitecture: ecs.CpuArchitecture.X86_64,
      });
    });
  });

  test('reuses the VPC, cluster and secret instead of creating them', () => {
    result.template.resourceCountIs('AWS::EC2::VPC', 1); // the team's
    result.template.resourceCountIs('AWS::ECS::Cluster', 1); // the team's
    result.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(sw.vpc).toBe(sw.cluster.vpc);
  });

  test('private subnets: no public IP, and the bot launches there', () => {
    type Fn = { Type: string; Properties: { Environment: { Variables: Record<string, unknown> } } };
    const fn = Object.values(result.json.Resources as Record<string, Fn>).find(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    const vars = fn?.Properties.Environment.Variables ?? {};
    expect(vars.RUNNER_ASSIGN_PUBLIC_IP).toBe('DISABLED');
    expect(vars.RUNNER_SUBNET_IDS).toEqual(result.stack.resolve(sw.runnerSubnets.subnetIds.join(',')));
    expect(sw.runnerSubnets.hasPublic).toBe(false);
    expect(vars.SLACK_API_URL).toBe('https://slack.example.test/api/');
    expect(vars.SSM_DOCUMENT_WAKE).toBe('TeamDrain-Wake');
  });

  test('X86_64 task and image; names follow the prefix', () => {
    result.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'TeamDrain-Runner',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    result.template.resourceCountIs('AWS::SSM::Document', 4);
    result.template.hasResourceProperties('AWS::SSM::Document', { Name: 'TeamDrain-Stop' });
  });

  test('the imported secret is the one read by the bot and the task', () => {
    const read = allStatements(result.json).filter((s) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(read.length).toBeGreaterThanOrEqual(1);
    for (const s of read) expect(JSON.stringify(s.Resource)).toContain(':secret:team/slack-??????');
  });

  test('cdk-nag: clean (no acknowledgments for resources the construct did not create)', () => {
    expect(nagFindings(sw)).toEqual([]);
  });
});

describe('IAM variants', () => {
  test('fleetRegions: documents and instances allowed in each region, nag still clean', () => {
    let sw: SnowWhite | undefined;
    const { json, template } = synth((stack) => {
      sw = new SnowWhite(stack, 'SW', { notifyChannelId: 'C01', fleetRegions: ['eu-west-1', 'us-east-1'] });
    });
    const [docs] = statementsWithSid(json, 'SendCommandDocuments');
    const arns = (docs?.Resource as unknown[]).map((r) => JSON.stringify(r));
    expect(arns).toHaveLength(8);
    for (const region of ['eu-west-1', 'us-east-1'])
      for (const action of ['Quiet', 'Stop', 'Wake', 'Status'])
        expect(
          arns.filter((a) => a.includes(`:ssm:${region}:`) && a.includes(`:document/SnowWhite-${action}"`)),
        ).toHaveLength(1);
    const [instances] = statementsWithSid(json, 'SendCommandInstances');
    expect((instances?.Resource as unknown[]).map((r) => JSON.stringify(r))).toEqual([
      expect.stringContaining(':ec2:eu-west-1:'),
      expect.stringContaining(':ec2:us-east-1:'),
    ]);
    const bots = template.findResources('AWS::Lambda::Function');
    const botEnv = Object.values(bots)[0]?.Properties.Environment.Variables as Record<string, unknown>;
    expect(botEnv.FLEET_REGIONS).toBe('eu-west-1,us-east-1');
    expect(nagFindings(sw!)).toEqual([]);
  });

  test('cliRoles: the bot accepts sessions of exactly these roles (CLI_ROLES); none by default', () => {
    const listed = synth((stack) => {
      new SnowWhite(stack, 'SW', { notifyChannelId: 'C01', cliRoles: ['payments-oncall', 'ci.deploy'] });
    });
    const envOf = (t: typeof listed.template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment.Variables as Record<
        string,
        unknown
      >;
    expect(envOf(listed.template).CLI_ROLES).toBe('payments-oncall,ci.deploy');
    const none = synth((stack) => {
      new SnowWhite(stack, 'SW', { notifyChannelId: 'C01' });
    });
    expect(envOf(none.template).CLI_ROLES).toBeUndefined();
    expect(envOf(none.template).SNOWWHITE_INSTALLATION_ID).toBeDefined();
  });

  test('instanceTag: custom values, or no condition at all', () => {
    const withTag = synth((stack) => {
      new SnowWhite(stack, 'SW', {
        notifyChannelId: 'C01',
        instanceTag: { key: 'team', values: ['payments-*'] },
      });
    });
    expect(statementsWithSid(withTag.json, 'SendCommandInstances')[0]?.Condition).toEqual({
      StringLike: { 'ssm:resourceTag/team': ['payments-*'] },
    });
    const without = synth((stack) => {
      new SnowWhite(stack, 'SW', { notifyChannelId: 'C01', instanceTag: false });
    });
    expect(statementsWithSid(without.json, 'SendCommandInstances')[0]?.Condition).toBeUndefined();
  });
});

describe('hardening props', () => {
  test('a secret encrypted with a customer-managed KMS key: the bot may decrypt it (grantRead)', () => {
    let sw: SnowWhite | undefined;
    const { json } = synth((stack) => {
      const key = new kms.Key(stack, 'TeamKey', { enableKeyRotation: true });
      const slackSecret = new secretsmanager.Secret(stack, 'TeamSecret', { encryptionKey: key });
      sw = new SnowWhite(stack, 'SW', { notifyChannelId: 'C01', slackSecret });
    });
    // Secret.grantRead puts the decrypt right in the key's policy, for the bot role, via Secrets Manager.
    const botRoleId = logicalId(sw!.botRole.stack, sw!.botRole);
    const key = Object.values(
      json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find((r) => r.Type === 'AWS::KMS::Key');
    const keyStatements = (
      key?.Properties.KeyPolicy as { Statement: (Statement & { Principal?: unknown })[] }
    ).Statement;
    const forBot = keyStatements.filter((st) => JSON.stringify(st.Principal).includes(botRoleId));
    expect(forBot.some((st) => [st.Action].flat().includes('kms:Decrypt'))).toBe(true);
    expect(JSON.stringify(forBot)).toContain('kms:ViaService');
  });

  test('workspace and app ids reach the bot; reserved concurrency 10 by default, a number, or none', () => {
    const env = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties as {
        Environment: { Variables: Record<string, unknown> };
        ReservedConcurrentExecutions?: number;
      };
    const plain = synth((stack) => new SnowWhite(stack, 'SW', { notifyChannelId: 'C01' }));
    expect(env(plain.template).ReservedConcurrentExecutions).toBe(10);
    expect(env(plain.template).Environment.Variables.SLACK_TEAM_ID).toBeUndefined();
    const set = synth(
      (stack) =>
        new SnowWhite(stack, 'SW', {
          notifyChannelId: 'C01',
          slackTeamId: 'T0TEAM',
          slackAppId: 'A0APP',
          botReservedConcurrency: 3,
        }),
    );
    expect(env(set.template).Environment.Variables).toMatchObject({
      SLACK_TEAM_ID: 'T0TEAM',
      SLACK_APP_ID: 'A0APP',
    });
    expect(env(set.template).ReservedConcurrentExecutions).toBe(3);
    const none = synth(
      (stack) => new SnowWhite(stack, 'SW', { notifyChannelId: 'C01', botReservedConcurrency: false }),
    );
    expect(env(none.template).ReservedConcurrentExecutions).toBeUndefined();
  });

  test('grantCliRuns: execute-api:Invoke on the one route, nothing else', () => {
    const { json } = synth((stack) => {
      const sw = new SnowWhite(stack, 'SW', { notifyChannelId: 'C01' });
      sw.grantCliRuns(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    const policies = Object.entries(
      json.Resources as Record<string, { Type: string; Properties: { Roles?: unknown } }>,
    )
      .filter(
        ([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('Operators'),
      )
      .flatMap(
        ([, r]) =>
          (r.Properties as unknown as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument
            .Statement,
      );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Action).toBe('execute-api:Invoke');
    expect(JSON.stringify(policies[0]?.Resource)).toContain('/*/POST/cli/runs');
  });
});

describe('validation', () => {
  const make = (props: Partial<SnowWhiteProps>) => () => {
    const env = tempApp({ bundle: false });
    cleanups.push(env.cleanup);
    new SnowWhite(new Stack(env.app, 'S'), 'SW', { notifyChannelId: 'C01', ...props });
  };
  /** What `build` threw: CDK's ValidationError, whose message starts with the construct's path. */
  const validationError = (build: () => void, constructPath: string): Error => {
    let thrown: unknown;
    try {
      build();
    } catch (err) {
      thrown = err;
    }
    expect(Errors.isValidationError(thrown)).toBe(true);
    const error = thrown as Error & { constructPath?: string };
    expect(error.constructPath).toBe(constructPath);
    expect(error.message.startsWith(`${constructPath}: `)).toBe(true);
    return error;
  };
  test('rejects a notifyChannelId that is not a channel id', () => {
    expect(make({ notifyChannelId: '#general' })).toThrow(/not a Slack channel id/);
    expect(validationError(make({ notifyChannelId: '#general' }), 'S/SW').message).toMatch(
      /notifyChannelId "#general" is not a Slack channel id/,
    );
  });
  test('rejects document prefixes SSM or ECS would refuse', () => {
    expect(make({ documentNamePrefix: 'AWS-Drain' })).toThrow(/not start with aws/);
    expect(make({ documentNamePrefix: 'a b' })).toThrow(/documentNamePrefix/);
    expect(make({ documentNamePrefix: 'x' })).toThrow(/documentNamePrefix/);
    for (const prefix of ['AWS-Drain', 'a b', 'x'])
      expect(validationError(make({ documentNamePrefix: prefix }), 'S/SW/Documents').message).toMatch(
        /documentNamePrefix/,
      );
    const alone = () => {
      const env = tempApp({ bundle: false });
      cleanups.push(env.cleanup);
      new SnowWhiteDocuments(new Stack(env.app, 'S'), 'Docs', { documentNamePrefix: 'amazon-x' });
    };
    expect(validationError(alone, 'S/Docs').message).toMatch(/not start with aws, amazon or amzn/);
  });
  test('rejects cliRoles that are not role names (an ARN, a space)', () => {
    for (const role of ['arn:aws:iam::123456789012:role/ops', 'two words', ''])
      expect(validationError(make({ cliRoles: [role] }), 'S/SW').message).toMatch(
        /cliRoles: ".*" is not an IAM role name/,
      );
  });
  test('rejects an empty fleetRegions, or a region the bot would refuse', () => {
    expect(validationError(make({ fleetRegions: [] }), 'S/SW').message).toMatch(
      /fleetRegions must name at least one region/,
    );
    expect(validationError(make({ fleetRegions: ['eu-west-1', 'eu-wset-1'] }), 'S/SW').message).toMatch(
      /"eu-wset-1" is not an AWS region/,
    );
  });
  test('SnowWhiteDocuments alone deploys the four documents (for another region)', () => {
    const { template } = synth((stack) => {
      new SnowWhiteDocuments(stack, 'Docs', { documentNamePrefix: 'SnowWhite' });
    });
    template.resourceCountIs('AWS::SSM::Document', 4);
    expect(Object.keys(template.toJSON().Resources as object)).toHaveLength(4);
  });
});

describe('the app (cdk.json entry point)', () => {
  test('without context, the channel becomes a stack parameter validated by CloudFormation', () => {
    const env = tempApp({ bundle: false });
    cleanups.push(env.cleanup);
    const stack = new SnowWhiteStack(env.app, 'SnowWhite');
    const template = Template.fromStack(stack);
    template.hasParameter('NotifyChannelId', { Type: 'String', AllowedPattern: '^[CGD][A-Z0-9]{2,}$' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SLACK_NOTIFY_CHANNEL: { Ref: 'NotifyChannelId' } } },
    });
  });

  test('infra/app.ts synthesizes the SnowWhite stack with no flags, credentials or network', async () => {
    const env = tempApp();
    cleanups.push(env.cleanup);
    const { AWS_PROFILE: _p, AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...rest } = process.env;
    await promisify(execFile)(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [path.join(REPO_ROOT, 'infra', 'app.ts')],
      {
        cwd: REPO_ROOT,
        env: {
          ...rest,
          CDK_OUTDIR: env.outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
        },
      },
    );
    const template = JSON.parse(
      fs.readFileSync(path.join(env.outdir, 'SnowWhite.template.json'), 'utf8'),
    ) as {
      Parameters: object;
      Outputs: object;
    };
    expect(Object.keys(template.Parameters)).toContain('NotifyChannelId');
    expect(Object.keys(template.Outputs)).toContain('SlackRequestUrl');
  });
});
