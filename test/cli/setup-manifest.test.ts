import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { cliMain, type CliClients } from '../../runner/cli/main';
import { STACK_OUTPUTS } from '../../runner/stack-outputs';
import { awsError } from '../support/aws-errors';
import { captureIo } from './support/capture-io';

/**
 * `snowwhite setup` finds the stack in the region it is told and remembers it; later commands look
 * for the stack there whatever the profile's region. `snowwhite manifest` prints the stack's finished
 * Slack manifest. CloudFormation mocked at the client.
 */

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'snowwhite-setup-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function world() {
  const regionsAsked: string[] = [];
  const cfn = new CloudFormationClient({ region: 'eu-west-1' });
  const mock = mockClient(cfn);
  const manifest = {
    display_information: { name: 'Snow White' },
    settings: {
      event_subscriptions: { request_url: 'https://abc.execute-api.eu-west-1.amazonaws.com/slack/events' },
    },
  };
  mock.on(DescribeStacksCommand, { StackName: 'SnowWhite' }).resolves({
    Stacks: [
      {
        StackName: 'SnowWhite',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          {
            OutputKey: STACK_OUTPUTS.cliRunsUrl,
            OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/cli/runs',
          },
          { OutputKey: STACK_OUTPUTS.slackManifest, OutputValue: JSON.stringify(manifest) },
        ],
      },
    ],
  });
  const cli = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const { io, out, err } = captureIo();
    const code = await cliMain(argv, {
      io,
      env: { SNOWWHITE_CONFIG: join(dir, 'snowwhite', 'config.json'), ...env },
      clients: (regions) => {
        regionsAsked.push(regions.aws);
        return { cloudFormation: cfn } as unknown as CliClients;
      },
      profileRegion: async () => 'us-west-2', // the teammate's profile points elsewhere
    });
    return { code, out: out(), err: err() };
  };
  return { cli, mock, regionsAsked, manifest };
}

test('setup remembers the stack and its region; later commands look there, not in the profile region', async () => {
  const w = world();
  const setup = await w.cli(['setup', '--stack-region', 'eu-west-1']);
  expect(setup.err).toBe('');
  expect(setup.code).toBe(0);
  const path = join(dir, 'snowwhite', 'config.json');
  expect(setup.out).toBe(
    `found stack SnowWhite in eu-west-1 (https://abc.execute-api.eu-west-1.amazonaws.com/cli/runs); saved to ${path}: snowwhite now finds it whatever your profile's region\n`,
  );
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ stack: 'SnowWhite', stackRegion: 'eu-west-1' });
  expect(statSync(path).mode & 0o777).toBe(0o600);

  const manifest = await w.cli(['manifest']);
  expect(manifest.code).toBe(0);
  expect(JSON.parse(manifest.out)).toEqual(w.manifest);
  // To create the app before the secret is set: everything but the Events URL Slack would verify.
  const first = await w.cli(['manifest', '--without-events']);
  expect(JSON.parse(first.out)).toEqual({ ...w.manifest, settings: {} });
  expect(w.regionsAsked).toEqual(['eu-west-1', 'eu-west-1', 'eu-west-1']);
});

test('setup where the stack is not: nothing saved, one line saying where to look', async () => {
  const w = world();
  w.mock
    .on(DescribeStacksCommand)
    .rejects(awsError('ValidationError', 'Stack with id SnowWhite does not exist'));
  const r = await w.cli(['setup']);
  expect(r.code).toBe(1);
  expect(r.err).toBe(
    'snowwhite: no stack SnowWhite in us-west-2: give --stack-region REGION where Snow White is deployed (`snowwhite setup --stack-region REGION` remembers it), or --stack NAME\n',
  );
  expect(() => readFileSync(join(dir, 'snowwhite', 'config.json'))).toThrow();
});

test('a config file that is not ours is named, not used', async () => {
  const w = world();
  const r = await w.cli(['manifest'], { SNOWWHITE_CONFIG: __filename });
  expect(r.code).toBe(1);
  expect(r.err).toBe(
    `snowwhite: ${__filename} is not a snowwhite config: run \`snowwhite setup\` again, or delete it\n`,
  );
});
