import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { build, type Metafile } from 'esbuild';
import { botSettingsSchema, MAX_STATUS_ANSWER_SECONDS } from '../../bot/settings';
import { SEND_CLAIM_STALE_MS } from '../../runner/ledger/sends';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import { REPO_ROOT, SIDEKIQCTL_SCRIPT, type SnowWhite } from '../../infra/snowwhite';
import { SnowWhiteStack } from '../../infra/snowwhite-stack';
import { ACTIONS } from '../../ssm/actions';
import { embeddedScript, sidekiqctlDocument, type SsmCommandDocument } from '../../ssm/documents';
import {
  acknowledgments,
  actionsOf,
  allStatements,
  logicalId,
  nagFindings,
  policyStatementsForRole,
  tempApp,
  type Statement,
} from './helpers';

// One real synth for the whole file: the bot is bundled by the local esbuild, the runner's
// build context is staged; both land in a temporary folder removed at the end.
let env: ReturnType<typeof tempApp>;
let stack: SnowWhiteStack;
let sw: SnowWhite;
let template: Template;
let json: {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: object;
};
const r = (value: unknown): unknown => stack.resolve(value);
const script = fs.readFileSync(SIDEKIQCTL_SCRIPT, 'utf8');

beforeAll(() => {
  env = tempApp();
  stack = new SnowWhiteStack(env.app, 'SnowWhite', { notifyChannelId: 'C0123456789' });
  sw = stack.snowWhite;
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
});
afterAll(() => env?.cleanup());

const ofType = (type: string) => Object.values(json.Resources).filter((res) => res.Type === type);
const bySid = (statements: Statement[]) =>
  Object.fromEntries(statements.map((s) => [s.Sid ?? '(no sid)', s]));

describe('HTTP API → bot Lambda', () => {
  test("two routes: POST /slack/events (Slack's signature) and POST /cli/runs (IAM), both proxied to the bot", () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /slack/events',
      AuthorizationType: 'NONE', // Slack signs its requests itself; the bot checks that signature
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /cli/runs',
      AuthorizationType: 'AWS_IAM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: r(sw.botFunction.functionArn),
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: r(sw.botFunction.functionArn),
      Principal: 'apigateway.amazonaws.com',
    });
  });

  test('the stage logs every request and is throttled', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });

  test('bot: its timeout covers the longest status wait, and ends before a claimed send counts as abandoned', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]!;
    const timeoutSeconds = fn.Properties.Timeout as number;
    expect(timeoutSeconds).toBeGreaterThanOrEqual(MAX_STATUS_ANSWER_SECONDS + 30);
    expect(timeoutSeconds * 1000).toBeLessThan(SEND_CLAIM_STALE_MS);
  });

  test('bot: Node 24 on arm64, 512 MB, 60 s, its own log group with retention', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 60,
      LoggingConfig: { LogGroup: r(sw.botFunction.logGroup.logGroupName) },
    });
    const botLogs = json.Resources[logicalId(stack, sw.botFunction.logGroup)];
    expect(botLogs?.Properties.RetentionInDays).toBe(30);
  });

  test('bot: asynchronous hand-offs are not retried by Lambda (a retry after a timeout would prompt twice)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: r(sw.botFunction.functionName),
      MaximumRetryAttempts: 0,
    });
  });

  test("bot environment: every variable bot/settings.ts reads, from this stack's resources", () => {
    const fn = ofType('AWS::Lambda::Function')[0];
    const vars = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      SLACK_SECRET_ARN: r(sw.slackSecret.secretArn),
      SLACK_NOTIFY_CHANNEL: 'C0123456789',
      RUNNER_CLUSTER: r(sw.cluster.clusterArn),
      RUNNER_TASK_DEFINITION_ARN: r(sw.taskDefinition.taskDefinitionArn),
      RUNNER_CONTAINER_NAME: 'runner',
      RUNNER_SUBNET_IDS: r(sw.runnerSubnets.subnetIds.join(',')),
      RUNNER_SECURITY_GROUP_IDS: r(sw.runnerSecurityGroups[0]?.securityGroupId),
      RUNNER_ASSIGN_PUBLIC_IP: 'ENABLED',
      FLEET_REGIONS: r(stack.region),
      SNOWWHITE_INSTALLATION_ID: r(sw.installationId),
      SSM_DOCUMENT_QUIET: 'SnowWhite-Quiet',
      SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
      SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
      SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
      LEDGER_TABLE_NAME: r(sw.fleetMemory.table.tableName),
    });
    // Every name set is one the bot knows (NODE_OPTIONS is Node's), and every variable it requires is set.
    const known = Object.keys(botSettingsSchema.shape);
    expect(Object.keys(vars).filter((k) => k !== 'NODE_OPTIONS' && !known.includes(k))).toEqual([]);
    const required = Object.entries(botSettingsSchema.shape)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([k]) => k);
    expect(required.filter((k) => !(k in vars))).toEqual([]);
  });

  test('the bundle was built by the local esbuild: minified, with a source map', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(env.outdir, 'SnowWhite.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const code = ofType('AWS::Lambda::Function')[0]?.Properties.Code as { S3Key: string };
    const hash = code.S3Key.replace(/\.zip$/, '');
    const dir = path.join(env.outdir, String(manifest.files[hash]?.source.path));
    const bundle = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    expect(bundle).toMatch(/sourceMappingURL=index\.js\.map/);
    // Minified: unminified code averages about 40 characters a line.
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    // The AWS SDK clients are bundled (the versions tested), not taken from the Lambda runtime.
    expect(bundle).not.toMatch(/require\("@aws-sdk\/client-/);
    // Built with esbuild.config.ts's substitutions: the stand-in for Bolt's unused receivers' packages is in.
    expect(bundle).toContain("is not in the bot's bundle");
    expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(1.2e6);
  });
});

describe('Slack secret', () => {
  test('one secret, placeholder JSON with the two keys the bot and runner read', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const secret = ofType('AWS::SecretsManager::Secret')[0];
    const value = JSON.parse(String(secret?.Properties.SecretString)) as Record<string, string>;
    expect(Object.keys(value).sort()).toEqual(['botToken', 'signingSecret']);
    expect(Object.values(value).join()).not.toMatch(/^xox/); // no real-looking token in the template
  });
});

describe('runner: ECS Fargate task', () => {
  test('a new cluster; a task definition of 256 CPU / 512 MiB on ARM64', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'SnowWhite-Runner',
      Cpu: '256',
      Memory: '512',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
  });

  test('container "runner": init process, stopTimeout 120, awslogs, token through ECS secrets', () => {
    const td = ofType('AWS::ECS::TaskDefinition')[0];
    const containers = td?.Properties.ContainerDefinitions as Array<Record<string, unknown>>;
    expect(containers).toHaveLength(1);
    const c = containers[0] as Record<string, unknown>;
    expect(c.Name).toBe('runner');
    expect(c.LinuxParameters).toMatchObject({ InitProcessEnabled: true });
    expect(c.StopTimeout).toBe(120);
    expect(c.LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: {
        'awslogs-group': r(sw.runnerLogGroup.logGroupName),
        'awslogs-stream-prefix': 'runner',
        'awslogs-region': { Ref: 'AWS::Region' },
      },
    });
    expect(c.Secrets).toEqual([
      {
        Name: 'SLACK_BOT_TOKEN',
        ValueFrom: { 'Fn::Join': ['', [r(sw.slackSecret.secretArn), ':botToken::']] },
      },
    ]);
    expect(c.Environment).toEqual([
      { Name: 'SLACK_NOTIFY_CHANNEL', Value: 'C0123456789' },
      { Name: 'SSM_DOCUMENT_QUIET', Value: 'SnowWhite-Quiet' },
      { Name: 'SSM_DOCUMENT_STOP', Value: 'SnowWhite-Stop' },
      { Name: 'SSM_DOCUMENT_WAKE', Value: 'SnowWhite-Wake' },
      { Name: 'SSM_DOCUMENT_STATUS', Value: 'SnowWhite-Status' },
      { Name: 'LEDGER_TABLE_NAME', Value: r(sw.fleetMemory.table.tableName) },
    ]);
    expect(json.Resources[logicalId(stack, sw.runnerLogGroup)]?.Properties.RetentionInDays).toBe(30);
  });

  test('the image is built from runner/Dockerfile: multi-stage, runs as a non-root user', () => {
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'runner', 'Dockerfile'), 'utf8');
    const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const finalStage = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1] as string));
    const users = finalStage.filter((l) => l.startsWith('USER '));
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/USER\s+(root|0)\b/);
    expect(finalStage.some((l) => /^COPY --from=/.test(l))).toBe(true);
    expect(finalStage.find((l) => l.startsWith('CMD '))).toMatch(/"node".*main\.js/);
    expect(finalStage.some((l) => /^RUN .*npm (ci|install)/.test(l))).toBe(false); // no build tools at run time
  });

  test('the staged build context holds the build inputs only (no node_modules, .git, tests, cdk.out)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(env.outdir, 'SnowWhite.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const source = images[0]?.source;
    expect(source).toMatchObject({ dockerFile: 'runner/Dockerfile', platform: 'linux/arm64' });
    const dir = path.join(env.outdir, String(source?.directory));
    const top = fs.readdirSync(dir).sort();
    expect(top).toEqual(['package-lock.json', 'package.json', 'runner', 'ssm', 'tsconfig.json']);
    // Only what runner/main.ts bundles: a change to the bot, the command line or the script leaves the image as it is.
    expect(fs.readdirSync(path.join(dir, 'ssm')).sort()).toEqual(['actions.ts', 'documents.ts']);
    const all = fs.readdirSync(dir, { recursive: true }).map(String);
    expect(all.filter((f) => /node_modules|\.test\.ts$/.test(f))).toEqual([]);
    expect(all).toContain(path.join('runner', 'main.ts'));
    expect(all).toContain(path.join('runner', 'Dockerfile'));
    expect(all.filter((f) => /^runner[/\\](cli|local)/.test(f))).toEqual([]);
  });

  test("the staged build context holds every source the Dockerfile's esbuild step bundles", async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(env.outdir, 'SnowWhite.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string } }>;
    };
    const dir = path.join(env.outdir, String(Object.values(manifest.dockerImages)[0]?.source.directory));
    // The Dockerfile's bundle step, run in the staged folder (packages from the repository's install).
    const bundle = (root: string) =>
      build({
        absWorkingDir: root,
        entryPoints: ['runner/main.ts'],
        bundle: true,
        platform: 'node',
        target: 'node24',
        mainFields: ['module', 'main'],
        nodePaths: [path.join(REPO_ROOT, 'node_modules')],
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
    const ownSources = (metafile: Metafile) =>
      Object.keys(metafile.inputs)
        .filter((f) => !f.includes('node_modules'))
        .sort();
    const fromRepo = await bundle(REPO_ROOT);
    const fromContext = await bundle(dir);
    expect(ownSources(fromContext.metafile)).toEqual(ownSources(fromRepo.metafile));
    expect(ownSources(fromRepo.metafile)).toContain('ssm/actions.ts');
  });
});

describe('networking', () => {
  test('a VPC of public subnets, no NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
  });

  test('the runner security group has no ingress and only HTTPS egress', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const sg = ofType('AWS::EC2::SecurityGroup')[0];
    expect(sg?.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sg?.Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: expect.any(String), FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
  });
});

describe('SSM documents', () => {
  const docs = () =>
    Object.fromEntries(
      ofType('AWS::SSM::Document').map((d) => [
        d.Properties.Name as string,
        d.Properties as {
          Content: SsmCommandDocument;
          DocumentType: string;
          TargetType: string;
          UpdateMethod: string;
        },
      ]),
    );

  test('one Command document per action, named for IAM', () => {
    expect(Object.keys(docs()).sort()).toEqual([
      'SnowWhite-Quiet',
      'SnowWhite-Status',
      'SnowWhite-Stop',
      'SnowWhite-Wake',
    ]);
    for (const d of Object.values(docs())) {
      expect(d.DocumentType).toBe('Command');
      expect(d.TargetType).toBe('/AWS::EC2::Instance');
      expect(d.UpdateMethod).toBe('NewVersion'); // named documents cannot be replaced in place
    }
  });

  test.each(ACTIONS)(
    '%s: embeds ssm/sidekiqctl.sh as it is in the repository, less its comments',
    (action) => {
      const name = `SnowWhite-${action[0]?.toUpperCase()}${action.slice(1)}`;
      const content = docs()[name]?.Content as SsmCommandDocument;
      expect(content).toEqual(sidekiqctlDocument(action, script));
      const runCommand = content.mainSteps.flatMap((s) => s.inputs.runCommand).join('\n');
      expect(runCommand).toContain(embeddedScript(script).replace(/\n$/, ''));
    },
  );

  test.each(ACTIONS)('%s: runs a shell step only; nothing is downloaded', (action) => {
    const content = sidekiqctlDocument(action, script);
    const stored = Object.values(docs()).find((d) => d.Content.description === content.description)?.Content;
    expect(stored?.mainSteps.map((s) => s.action)).toEqual(['aws:runShellScript']);
    const text = JSON.stringify(stored);
    expect(text).not.toMatch(
      /aws:downloadContent|aws:runDocument|\bcurl\b|\bwget\b|https?:\/\/(?!127\.0\.0\.1:|localhost:)|s3:\/\//,
    );
  });

  test('executionTimeout (default 7200, at most 172800) and drainTimeout parameters', () => {
    for (const d of Object.values(docs())) {
      const p = d.Content.parameters;
      expect(p.executionTimeout?.default).toBe('7200');
      const pattern = new RegExp(String(p.executionTimeout?.allowedPattern));
      expect(['1', '7200', '172800'].every((v) => pattern.test(v))).toBe(true);
      expect(['0', '172801', '999999', '-1'].some((v) => pattern.test(v))).toBe(false);
      expect(p.drainTimeout?.default).toMatch(/^\d+$/);
      expect(d.Content.mainSteps[0]?.inputs.timeoutSeconds).toBe('{{executionTimeout}}');
    }
  });
});

describe('IAM: least privilege', () => {
  test('no statement anywhere allows a wildcard action', () => {
    const statements = allStatements(json);
    expect(statements.length).toBeGreaterThan(10);
    const wildcards = statements.flatMap(actionsOf).filter((a) => a.includes('*'));
    expect(wildcards).toEqual([]);
    expect(statements.filter((s) => s.Effect !== 'Allow')).toEqual([]);
  });

  test('Resource "*" only for actions that support nothing narrower', () => {
    const allowedOnStar = new Set([
      'iam:ListUsers',
      'elasticbeanstalk:DescribeEnvironments',
      'elasticbeanstalk:DescribeEnvironmentResources',
      'autoscaling:DescribeAutoScalingGroups',
      'ec2:DescribeInstances',
      'ssm:DescribeInstanceInformation',
      'ssm:GetCommandInvocation',
      'ssm:ListCommandInvocations',
      'ssm:ListCommands',
      'ssm:CancelCommand',
      'ecr:GetAuthorizationToken',
    ]);
    const onStar = allStatements(json)
      .filter((s) => s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*')))
      .flatMap(actionsOf);
    expect(onStar.filter((a) => !allowedOnStar.has(a))).toEqual([]);
  });

  test('bot role: exactly the listed statements', () => {
    const stmts = policyStatementsForRole(json, logicalId(stack, sw.botRole));
    const arn = (service: string, resource: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:${service}:`,
          ...(service === 'iam' ? [] : [{ Ref: 'AWS::Region' }, ':']),
          { Ref: 'AWS::AccountId' },
          `:${resource}`,
        ],
      ],
    });
    const byId = bySid(stmts);
    expect(Object.keys(byId).sort()).toEqual(
      [
        '(no sid)', // log group write (LogGroup.grantWrite) and the secret (Secret.grantRead)
        'DescribeElasticBeanstalk',
        'ElasticBeanstalkInstances',
        'ElasticBeanstalkStacks',
        'LedgerRead', // fleet-memory.test.ts checks the ledger statements
        'LedgerWrite',
        'ListIamUsers',
        'PassRunnerRoles',
        'ReadCommandResults',
        'ReadIamRoles',
        'ReadIamUsers',
        'RunRunnerTask',
        'SendCommandDocuments',
        'SendCommandInstances',
        'StopRunnerTasks',
        'TagRunnerTasks',
      ].sort(),
    );
    expect(stmts.filter((s) => !s.Sid)).toHaveLength(2);
    expect(stmts).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: r(sw.botFunction.logGroup.logGroupArn),
    });
    expect(byId.ListIamUsers).toMatchObject({ Action: 'iam:ListUsers', Resource: '*' });
    expect(byId.ReadIamUsers).toEqual({
      Sid: 'ReadIamUsers',
      Effect: 'Allow',
      Action: ['iam:ListUserTags', 'iam:SimulatePrincipalPolicy'],
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':user/*']],
      },
    });
    expect(byId.RunRunnerTask).toEqual({
      Sid: 'RunRunnerTask',
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: r(sw.taskDefinition.taskDefinitionArn),
      Condition: { ArnEquals: { 'ecs:cluster': r(sw.cluster.clusterArn) } },
    });
    expect(byId.TagRunnerTasks).toEqual({
      Sid: 'TagRunnerTasks',
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: r(
        stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${sw.cluster.clusterName}/*` }),
      ),
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    });
    expect(byId.StopRunnerTasks).toEqual({
      Sid: 'StopRunnerTasks',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
      Resource: r(
        stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${sw.cluster.clusterName}/*` }),
      ),
      Condition: { ArnEquals: { 'ecs:cluster': r(sw.cluster.clusterArn) } },
    });
    expect(byId.PassRunnerRoles).toEqual({
      Sid: 'PassRunnerRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [r(sw.taskDefinition.taskRole.roleArn), r(sw.taskDefinition.executionRole?.roleArn)],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(byId.DescribeElasticBeanstalk).toMatchObject({
      Action: ['elasticbeanstalk:DescribeEnvironmentResources', 'elasticbeanstalk:DescribeEnvironments'],
      Resource: '*',
    });
    expect(byId.ElasticBeanstalkStacks).toMatchObject({
      Action: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStackResources'],
      Resource: arn('cloudformation', 'stack/awseb-*'),
    });
    expect(byId.ElasticBeanstalkInstances).toMatchObject({
      Action: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
      Resource: '*',
    });
    expect(byId.ReadIamRoles).toEqual({
      Sid: 'ReadIamRoles',
      Effect: 'Allow',
      Action: ['iam:GetRole', 'iam:SimulatePrincipalPolicy'],
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/*']],
      },
    });
    // The secret through grantRead (KMS included when a customer-managed key encrypts it).
    expect(stmts).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: r(sw.slackSecret.secretArn),
    });

    // Invoking itself lives in a policy of its own (the function's ARN in the default policy would be a cycle).
    expect(policyStatementsForRole(json, logicalId(stack, sw.botRole), 'SelfInvoke')).toEqual([
      {
        Sid: 'InvokeSelf',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: r(sw.botFunction.functionArn),
      },
    ]);
    // No managed policy (AWSLambdaBasicExecutionRole would allow logs on every log group).
    const role = json.Resources[logicalId(stack, sw.botRole)];
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }],
    });
  });

  test('bot role sends the documents, to Elastic Beanstalk instances only, and reads the invocations', () => {
    const byId = bySid(policyStatementsForRole(json, logicalId(stack, sw.botRole)));
    const docArn = (name: string) =>
      r(stack.formatArn({ service: 'ssm', resource: 'document', resourceName: name }));
    expect(byId.SendCommandDocuments).toEqual({
      Sid: 'SendCommandDocuments',
      Effect: 'Allow',
      Action: 'ssm:SendCommand',
      Resource: ['SnowWhite-Quiet', 'SnowWhite-Stop', 'SnowWhite-Wake', 'SnowWhite-Status'].map(docArn),
    });
    expect(byId.SendCommandInstances).toEqual({
      Sid: 'SendCommandInstances',
      Effect: 'Allow',
      Action: 'ssm:SendCommand',
      Resource: r(stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })),
      Condition: { StringLike: { 'ssm:resourceTag/elasticbeanstalk:environment-name': ['*'] } },
    });
    expect(byId.ReadCommandResults).toEqual({
      Sid: 'ReadCommandResults',
      Effect: 'Allow',
      Action: [
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
        'ssm:ListCommandInvocations',
        'ssm:ListCommands',
      ],
      Resource: '*',
    });
  });

  test('runner task role: it follows and cancels commands; it sends none and reads no environment', () => {
    const stmts = policyStatementsForRole(json, logicalId(stack, sw.taskDefinition.taskRole));
    const byId = bySid(stmts);
    expect(Object.keys(byId).sort()).toEqual([
      'FollowCommands',
      'LedgerWrite', // fleet-memory.test.ts checks the ledger statements
    ]);
    expect(stmts).toHaveLength(2);
    expect(byId.FollowCommands).toEqual({
      Sid: 'FollowCommands',
      Effect: 'Allow',
      Action: ['ssm:CancelCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'],
      Resource: '*',
    });
    const actions = stmts.flatMap(actionsOf);
    expect(actions).not.toContain('ssm:SendCommand');
    expect(actions.filter((a) => a.startsWith('elasticbeanstalk:'))).toEqual([]);
  });

  test('runner execution role: pull its image, write its logs, read the one secret', () => {
    const role = sw.taskDefinition.executionRole;
    expect(role).toBeDefined();
    const stmts = policyStatementsForRole(json, logicalId(stack, role!));
    expect(stmts.map((s) => [actionsOf(s).sort().join(' '), s.Resource])).toEqual([
      [
        'ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer',
        expect.objectContaining({ 'Fn::Join': expect.anything() }), // the CDK asset repository
      ],
      ['ecr:GetAuthorizationToken', '*'],
      ['logs:CreateLogStream logs:PutLogEvents', r(sw.runnerLogGroup.logGroupArn)],
      ['secretsmanager:DescribeSecret secretsmanager:GetSecretValue', r(sw.slackSecret.secretArn)],
    ]);
    expect(JSON.stringify(stmts[0]?.Resource)).toContain(':repository/');
  });
});

describe('outputs and checks', () => {
  test('stack outputs: the API and Slack URLs, secret, and what the CLI needs to launch the runner', () => {
    const outputs = json.Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
    expect(outputs.ApiUrl?.Value).toEqual(r(sw.api.apiEndpoint));
    expect(outputs.SlackRequestUrl?.Value).toEqual({
      'Fn::Join': ['', [r(sw.api.apiEndpoint), '/slack/events']],
    });
    expect(outputs.SlackSecretArn?.Value).toEqual(r(sw.slackSecret.secretArn));
    expect(outputs.RunnerTaskDefinitionArn?.Value).toEqual(r(sw.taskDefinition.taskDefinitionArn));
    expect(outputs.RunnerAssignPublicIp?.Value).toBe('ENABLED');
    expect(outputs.SsmDocumentStop?.Value).toBe('SnowWhite-Stop');
    // What the deploy walkthrough needs, all outputs: the exact route to grant, the ledger, the rule.
    expect(outputs.CliInvokeResource?.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':execute-api:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':',
          r(sw.api.apiId),
          '/*/POST/cli/runs',
        ],
      ],
    });
    expect(outputs.LedgerTableName?.Value).toEqual(r(sw.fleetMemory.table.tableName));
    expect(outputs.ReminderRuleName?.Value).toEqual(r(sw.fleetMemory.reminderRule.ruleName));
    expect(outputs.FleetRegions?.Value).toEqual({ Ref: 'AWS::Region' });
  });

  test('the Slack manifest output is bot/manifest.yml with the request URL in all three places', () => {
    const value = (json.Outputs as Record<string, { Value: unknown }>).SlackManifest?.Value;
    // Resolve the join as CloudFormation would, with a made-up API endpoint.
    const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
    const resolve = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const join = (v as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      if (join) return join[1].map(resolve).join(join[0]);
      if (JSON.stringify(v) === JSON.stringify(r(sw.api.apiEndpoint))) return endpoint;
      throw new Error(`unexpected ${JSON.stringify(v)}`);
    };
    const manifest = JSON.parse(resolve(value)) as {
      features: { slash_commands: Array<{ url: string }> };
      settings: { event_subscriptions: { request_url: string }; interactivity: { request_url: string } };
      oauth_config: { scopes: { bot: string[] } };
    };
    const url = `${endpoint}/slack/events`;
    expect(manifest.features.slash_commands[0]!.url).toBe(url);
    expect(manifest.settings.event_subscriptions.request_url).toBe(url);
    expect(manifest.settings.interactivity.request_url).toBe(url);
    expect(manifest.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'im:write', 'files:write']);
    expect(JSON.stringify(manifest)).not.toContain('API_ID');
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('every acknowledged cdk-nag finding carries its reason', () => {
    const acks = acknowledgments(stack).filter((a) => a.id.includes('AwsSolutions-'));
    expect(acks.length).toBeGreaterThanOrEqual(9);
    for (const a of acks)
      expect({ id: a.id, reason: a.reason.length >= 60 }).toEqual({ id: a.id, reason: true });
  });
});
