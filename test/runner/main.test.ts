import {
  DescribeEnvironmentResourcesCommand,
  DescribeEnvironmentsCommand,
  ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type PingStatus,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../runner/log';
import {
  CANCEL_RUN_ACTION_ID,
  cancelRunButtonValueSchema,
  decodeButtonValue,
} from '../../runner/slack/buttons';
import { main } from '../../runner/main';
import { awsError, httpError } from '../support/aws-errors';
import { FakeSlack } from '../support/fake-slack';
import { runRequestInput } from '../support/run-request';
import { sentByTheBot } from '../support/sent-by-bot';
import type { RunRequestInput } from '../../runner/request';
import { mockSsmFleet } from './support/mock-ssm';
import { SCRIPTS, SsmFleet, type InstanceScript } from './support/ssm-fleet';
import { VirtualClock } from './support/virtual-clock';

/** main() end to end: mocked Elastic Beanstalk and SSM, the fake Slack over HTTP, a virtual clock. */

const TOKEN = 'xoxb-test-0000-supersecret';
const request = runRequestInput({
  action: 'quiet',
  envPattern: 'workers',
  application: 'MY-APP',
  region: 'us-east-1',
  requestedBy: { iamUserName: 'alice', slackUserId: 'U0ALICE' },
  slack: { channel: 'C0OPS', threadTs: '1700000000.000100' },
  drainTimeoutSeconds: 1800,
  executionTimeoutSeconds: 3600,
});

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start();
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const eb = mockClient(ElasticBeanstalkClient);

function world(scripts: Record<string, InstanceScript>, ssmStatus: Record<string, string> = {}) {
  eb.reset();
  const ids = Object.keys(scripts);
  eb.on(DescribeEnvironmentsCommand).resolves({
    Environments: [
      { EnvironmentId: 'e-1', EnvironmentName: 'my-app-workers-a', Status: 'Ready' },
      { EnvironmentId: 'e-2', EnvironmentName: 'my-app-web', Status: 'Ready' },
    ],
  });
  eb.on(DescribeEnvironmentResourcesCommand).resolves({
    EnvironmentResources: { Instances: ids.map((Id) => ({ Id })) },
  });
  const clock = new VirtualClock();
  const fleet = new SsmFleet(clock, (id) => scripts[id]!);
  const { client, mock } = mockSsmFleet(fleet);
  mock.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: ids
      .filter((id) => ssmStatus[id] !== 'missing')
      .map((InstanceId) => ({ InstanceId, PingStatus: (ssmStatus[InstanceId] ?? 'Online') as PingStatus })),
  });
  const logs: string[] = [];
  const options = {
    clients: { ssm: client, elasticBeanstalk: new ElasticBeanstalkClient({ region: 'us-east-1' }) },
    clock,
    log: createLogger({ write: (line) => logs.push(line) }),
    slackRetryDelaysMs: [5, 5],
  };
  // The bot sends the commands before it launches the runner: a request names them.
  const env = async (req: unknown = request, extra: Record<string, string> = {}) => ({
    RUN_REQUEST:
      typeof req === 'string'
        ? req
        : JSON.stringify(
            typeof req === 'object' && req !== null && !('commands' in req)
              ? await sentByTheBot(
                  client,
                  req as RunRequestInput,
                  [{ name: 'my-app-workers-a', instanceIds: ids }],
                  `SnowWhite-${(req as { action: string }).action[0]!.toUpperCase()}${(req as { action: string }).action.slice(1)}`,
                  clock,
                )
              : req,
          ),
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: slack.apiUrl,
    SNOWWHITE_ALLOW_SLACK_API_URL: '1',
    SLACK_NOTIFY_CHANNEL: 'C0NOTIFY',
    SSM_DOCUMENT_QUIET: 'SnowWhite-Quiet',
    SSM_DOCUMENT_STOP: 'SnowWhite-Stop',
    SSM_DOCUMENT_WAKE: 'SnowWhite-Wake',
    SSM_DOCUMENT_STATUS: 'SnowWhite-Status',
    ...extra,
  });
  return { clock, fleet, mock, logs, options, env };
}

const posts = (channel: string) =>
  slack
    .callsOf('chat.postMessage')
    .filter((c) => c.args.channel === channel)
    .map((c) => String(c.args.text));

describe('runner main()', () => {
  it('drains every instance: progress in the thread, summary in thread, channel (with link) and DM; exit 0', async () => {
    const w = world({ 'i-a1': SCRIPTS.drained(30_000), 'i-a2': SCRIPTS.drained(90_000) });
    const code = await main(await w.env(), w.options);
    expect(code).toBe(0);

    expect(w.mock).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'SnowWhite-Quiet',
      InstanceIds: ['i-a1', 'i-a2'],
      Parameters: { drainTimeout: ['1800'], executionTimeout: ['3600'] },
    });
    const thread = slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === '1700000000.000100');
    expect(thread).toHaveLength(2);
    expect(String(thread[0]!.args.text)).toContain('0/2 instances done');
    const updates = slack
      .callsOf('chat.update')
      .filter((c) => c.args.ts !== '1700000000.000100')
      .map((c) => String(c.args.text));
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.at(-1)).toContain('2/2 instances done');
    expect(updates.some((t) => t.includes('1/2 instances done'))).toBe(true);
    expect(String(thread[1]!.args.text)).toMatch(
      /^:white_check_mark: quiet `workers` in MY-APP \(us-east-1\) finished/,
    );
    expect(String(thread[1]!.args.text)).toMatch(/`i-a2` drained — pid \d+ quiet 0\/3 busy/);
    // The thread's first message now says how it ended.
    const root = slack.callsOf('chat.update').filter((c) => c.args.ts === '1700000000.000100');
    expect(root).toHaveLength(1);
    expect(String(root[0]!.args.text)).toMatch(
      /^:white_check_mark: <@U0ALICE> ran \*quiet\* on `workers` in MY-APP \(us-east-1\) — done: 2 drained \(2 quiet · 0 awake · 0 busy of 6 threads\) · 1m 3\ds$/,
    );

    // Elsewhere: the headline and the way to the thread, not a copy of the summary.
    const [notify] = posts('C0NOTIFY');
    expect(notify).toContain('2 drained');
    expect(notify).not.toContain('i-a2');
    expect(notify).toContain(
      '<https://example.slack.com/archives/C0OPS/p1700000000000100|Thread of this run>',
    );
    expect(slack.callsOf('conversations.open')[0]!.args.users).toBe('U0ALICE');
    expect(posts('D0ALICE')[0]).toContain('2 drained');
    // The token authenticates every call and appears in no message and no log line.
    expect(slack.calls.every((c) => c.token === TOKEN)).toBe(true);
    expect(JSON.stringify(slack.calls.map((c) => c.args))).not.toContain('supersecret');
    expect(w.logs.join('\n')).not.toContain('supersecret');
  });

  it('reports mixed outcomes per instance and exits 1; an instance without the SSM agent is not waited on', async () => {
    const w = world(
      {
        'i-1': SCRIPTS.drained(),
        'i-2': SCRIPTS.busy(4),
        'i-3': SCRIPTS.noSidekiq(),
        'i-4': SCRIPTS.failed('systemctl stop failed'),
        'i-5': SCRIPTS.executionTimedOut(),
        'i-6': SCRIPTS.undeliverable(),
        'i-7': SCRIPTS.drained(),
      },
      { 'i-7': 'missing' },
    );
    expect(await main(await w.env(), w.options)).toBe(1);
    expect(w.mock.commandCalls(SendCommandCommand)[0]!.args[0].input.InstanceIds).not.toContain('i-7');
    const summary = posts('C0OPS').at(-1)!;
    expect(summary).toContain('`i-2` still busy at the deadline — 4 jobs still running');
    expect(summary).toContain('`i-3` no Sidekiq found');
    expect(summary).toContain('`i-4` failed — systemctl stop failed');
    expect(summary).toContain('`i-5` timed out');
    expect(summary).toContain('`i-6` not reachable by SSM');
    expect(summary).toContain('`i-7` not reachable by SSM — not registered with SSM');
  });

  it('exits 2 when some instances are still busy at the drain timeout and nothing failed', async () => {
    const w = world({ 'i-1': SCRIPTS.drained(), 'i-2': SCRIPTS.busy(1) });
    expect(await main(await w.env(), w.options)).toBe(2);
    expect(posts('C0NOTIFY')[0]).toMatch(/^:hourglass:/);
  });

  it('follows the commands the bot sent: it sends nothing and lists no environment', async () => {
    const w = world({ 'i-1': SCRIPTS.drained(), 'i-2': SCRIPTS.drained() });
    const env = await w.env();
    const sentBefore = w.mock.commandCalls(SendCommandCommand).length;
    expect(sentBefore).toBe(1);
    expect(await main(env, w.options)).toBe(0);
    expect(w.mock.commandCalls(SendCommandCommand)).toHaveLength(sentBefore);
    expect(eb.calls()).toHaveLength(0);
    expect(posts('C0OPS').at(-1)).toContain('`i-2` drained');
  });

  it('refuses a request that names no command (it never sends one itself), exit 64', async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    const code = await main(
      { ...(await w.env()), RUN_REQUEST: JSON.stringify(runRequestInput(request)) },
      w.options,
    );
    expect(code).toBe(64);
    expect(w.mock).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(posts('C0NOTIFY')[0]).toContain('names no SSM command');
  });

  it("refuses to follow a command that is not this run's (another run id in its Comment), exit 1", async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    const other = JSON.parse(
      (await w.env({ ...request, runId: 'another-run' })).RUN_REQUEST,
    ) as RunRequestInput;
    const code = await main(
      { ...(await w.env()), RUN_REQUEST: JSON.stringify({ ...request, commands: other.commands }) },
      w.options,
    );
    expect(code).toBe(1);
    // In public an error id; the reason goes to the requester's DM under the same id.
    const errorId = /error id `(E[0-9a-f]{8})`/.exec(posts('C0OPS').at(-1)!)?.[1];
    expect(errorId).toBeDefined();
    expect(posts('D0ALICE').at(-1)).toContain(`\`${errorId}\``);
    expect(posts('D0ALICE').at(-1)).toContain("is not this run's quiet command");
  });

  it('reports an AWS error in Slack with an error id and no ARN; the details go to the log and the DM only; exits 1', async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    const env = await w.env();
    const awsText =
      'User: arn:aws:sts::123456789012:assumed-role/SnowWhite-RunnerTaskRole-1AB/ecs-task is not authorized to perform: ssm:ListCommandInvocations';
    w.mock.on(ListCommandInvocationsCommand).rejects(awsError('AccessDeniedException', awsText));
    expect(await main(env, w.options)).toBe(1);
    const thread = posts('C0OPS').at(-1)!;
    const errorId = /error id `(E[0-9a-f]{8})`/.exec(thread)?.[1];
    expect(errorId).toBeDefined();
    for (const text of [...posts('C0OPS'), ...posts('C0NOTIFY')]) {
      expect(text).not.toContain('arn:aws');
      expect(text).not.toContain('123456789012');
      expect(text).not.toContain('AccessDeniedException');
    }
    expect(posts('C0NOTIFY')[0]).toContain(errorId);
    // The requester's DM: the headline with the id, then the details under the same id.
    const dm = posts('D0ALICE');
    expect(dm.at(-1)).toContain(
      `\`${errorId}\`: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/`,
    );
    expect(
      w.logs.some((l) => l.includes(`"errorId":"${errorId}"`) && l.includes('AccessDeniedException')),
    ).toBe(true);
  });

  it('keeps draining when Slack fails: errors are retried, then logged, never fatal', async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    slack.failNext('chat.postMessage', 'internal_error', 1);
    slack.failNext('chat.getPermalink', 'internal_error', 5);
    slack.failNext('conversations.open', 'invalid_auth', 1);
    expect(await main(await w.env(), w.options)).toBe(0);
    // The progress post was retried and worked; the permalink never came, so the channel gets no link.
    expect(slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts).length).toBe(3);
    expect(slack.callsOf('chat.getPermalink')).toHaveLength(3);
    expect(posts('C0NOTIFY')[0]).not.toContain('Thread of this run');
    // invalid_auth is permanent: not retried.
    expect(slack.callsOf('conversations.open')).toHaveLength(1);
    expect(w.logs.some((l) => l.includes('"error":"invalid_auth"'))).toBe(true);
  });

  it('on SIGTERM (Cancel), cancels its SSM commands, says so in the thread and offers Wake', async () => {
    const ids = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`i-${i}`, SCRIPTS.drained(3600_000)]),
    );
    const w = world(ids);
    const controller = new AbortController();
    w.clock.onSleep = () => {
      if (w.clock.sleeps.length === 3) controller.abort(); // Fargate stops the task mid-drain
    };
    expect(await main(await w.env(), { ...w.options, signal: controller.signal })).toBe(1);
    expect(w.mock).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-0001' });
    expect(w.mock).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-0002' });
    const post = slack.callsOf('chat.postMessage').at(-1)!;
    const last = String(post.args.text);
    expect(last).toContain('interrupted');
    expect(last).toContain('2 SSM commands were cancelled');
    expect(last).toContain('Workers already quiet stay quiet');
    const blocks = post.args.blocks as Array<{ type: string; elements?: Array<{ text: { text: string } }> }>;
    expect(blocks.at(-1)!.elements!.map((b) => b.text.text)).toEqual(['Wake', 'Status']);
    expect(posts('C0NOTIFY')).toHaveLength(0);
    // The thread's first message says it was interrupted.
    const root = slack.callsOf('chat.update').find((c) => c.args.ts === '1700000000.000100')!;
    expect(String(root.args.text)).toMatch(/^:warning: <@U0ALICE> ran \*quiet\* .* interrupted after/);
  });

  it('on SIGTERM, names the SSM commands it could not cancel: they keep running', async () => {
    const w = world({ 'i-1': SCRIPTS.drained(3600_000) });
    w.mock.on(CancelCommandCommand).rejects(awsError('AccessDeniedException'));
    const controller = new AbortController();
    w.clock.onSleep = () => {
      if (w.clock.sleeps.length === 3) controller.abort();
    };
    expect(await main(await w.env(), { ...w.options, signal: controller.signal })).toBe(1);
    const last = posts('C0OPS').at(-1)!;
    expect(last).toContain('keep running');
    expect(last).toContain('run-command/cmd-0001?region=us-east-1|cmd-0001>');
    expect(last).not.toContain('cancelled on the instances');
  });

  it('on SIGTERM, does not wait out a rate-limited Slack: one quick attempt, then exit', async () => {
    const w = world({ 'i-1': SCRIPTS.drained(3600_000) });
    const controller = new AbortController();
    w.clock.onSleep = () => {
      if (w.clock.sleeps.length === 3) {
        slack.rateLimitNext('chat.postMessage', 30); // Slack says "come back in 30 s"
        controller.abort();
      }
    };
    const started = Date.now();
    expect(await main(await w.env(), { ...w.options, signal: controller.signal })).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    const interruptionPosts = slack
      .callsOf('chat.postMessage')
      .filter((c) => String(c.args.text).includes('interrupted'));
    expect(interruptionPosts).toHaveLength(1);
    expect(w.logs.some((l) => l.includes('interrupted: no retry'))).toBe(true);
  }, 15_000);

  it('keeps following through a polling 5xx that outlasted the SDK’s retries, and exits 0', async () => {
    const w = world({ 'i-1': SCRIPTS.drained(), 'i-2': SCRIPTS.drained() });
    w.mock
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(httpError('InternalServerError', 500))
      .callsFake(async (input) => w.fleet.listCommandInvocations(input));
    expect(await main(await w.env(), w.options)).toBe(0);
    expect(posts('C0NOTIFY')[0]).toContain('2 drained');
  });

  it('when SSM keeps failing, says the runner stopped following and which commands may still run; exit 1', async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    // The runner's first look (which instances each command has) succeeds; then SSM fails for good.
    w.mock
      .on(ListCommandInvocationsCommand)
      .callsFakeOnce(async (input) => w.fleet.listCommandInvocations(input))
      .rejects(httpError('ServiceUnavailable', 503));
    expect(await main(await w.env(), w.options)).toBe(1);
    const summary = posts('C0OPS').at(-1)!;
    expect(summary).toContain('the runner stopped following the SSM commands');
    expect(summary).toContain('may still be running');
    expect(summary).toMatch(/Run Command \(us-east-1\): <https:\/\/\S+\|cmd-0001>/);
    expect(summary).toContain('`i-1` result unknown');
    expect(summary).not.toMatch(/`i-1` failed/);
    expect(posts('C0NOTIFY')[0]).toContain('stopped following');
  });

  it('exits 64 with a clear log on bad request JSON, telling the notification channel', async () => {
    const w = world({});
    expect(await main(await w.env('{"runId": '), w.options)).toBe(64);
    expect(w.logs.join('\n')).toContain('the run request is not valid JSON');
    expect(posts('C0NOTIFY')[0]).toContain('refused a malformed run request');
    expect(eb).toHaveReceivedCommandTimes(DescribeEnvironmentsCommand, 0);
  });

  it('a rejected request whose problems echo hostile input is escaped in the notification channel', async () => {
    const w = world({});
    expect(
      await main(
        await w.env(JSON.stringify({ ...request, region: '<!channel> <https://evil.example|re-auth>' })),
        w.options,
      ),
    ).toBe(64);
    const told = posts('C0NOTIFY')[0]!;
    expect(told).toContain('refused a malformed run request');
    expect(told).toContain('&lt;!channel&gt;');
    expect(told).not.toContain('<!channel>');
    expect(told).not.toContain('<https://');
  });

  it('exits 64 on an invalid request or missing settings, naming the problem, never the token', async () => {
    const w = world({});
    expect(await main(await w.env(JSON.stringify({ ...request, region: 'mars-1' })), w.options)).toBe(64);
    expect(w.logs.join('\n')).toContain('region');
    expect(await main({ ...(await w.env()), SSM_DOCUMENT_WAKE: '' }, w.options)).toBe(64);
    expect(w.logs.join('\n')).toContain('SSM_DOCUMENT_WAKE is missing');
    expect(w.logs.join('\n')).not.toContain('supersecret');
  });

  it('links its own ECS task, its log stream and the SSM commands, learnt from the task metadata endpoint', async () => {
    const taskArn = 'arn:aws:ecs:us-east-1:123456789012:task/snowwhite/0123456789abcdef0123456789abcdef';
    const metadata = createServer((req, res) => {
      expect(req.url).toBe('/v4/abc/task');
      res.end(
        JSON.stringify({
          TaskARN: taskArn,
          Containers: [
            {
              LogDriver: 'awslogs',
              LogOptions: { 'awslogs-group': '/snowwhite/runner', 'awslogs-stream': 'runner/runner/0123' },
            },
          ],
        }),
      );
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    try {
      const { port } = metadata.address() as AddressInfo;
      const w = world({ 'i-1': SCRIPTS.drained() });
      const env = { ...(await w.env()), ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/abc` };
      expect(await main(env, w.options)).toBe(0);
      const summary = posts('C0OPS').at(-1)!;
      expect(summary).toContain(
        '<https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/snowwhite/tasks/0123456789abcdef0123456789abcdef/configuration?region=us-east-1|ECS task>',
      );
      expect(summary).toContain(
        'log-group/$252Fsnowwhite$252Frunner/log-events/runner$252Frunner$252F0123|runner log>',
      );
      expect(summary).toContain('/systems-manager/run-command/cmd-0001?region=us-east-1|cmd-0001>');
      // While it runs, the progress message offers Cancel for this task; the last edit takes it away.
      type Blocks = Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
      const progress = slack.callsOf('chat.postMessage')[0]!;
      const cancel = (progress.args.blocks as Blocks).at(-1)!.elements![0]!;
      expect(cancel.action_id).toBe(CANCEL_RUN_ACTION_ID);
      expect(decodeButtonValue(cancelRunButtonValueSchema, cancel.value)).toMatchObject({
        runId: 'run-1',
        taskArn,
      });
      const edits = slack.callsOf('chat.update').filter((c) => c.args.ts !== '1700000000.000100');
      expect((edits.at(-1)!.args.blocks as Blocks).some((b) => b.type === 'actions')).toBe(false);
    } finally {
      metadata.close();
    }
    // Not on ECS (or the endpoint is gone): no links, the run goes on.
    const w = world({ 'i-1': SCRIPTS.drained() });
    expect(
      await main({ ...(await w.env()), ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:1/v4' }, w.options),
    ).toBe(0);
    expect(posts('C0OPS').at(-1)).not.toContain('ECS task');
  });

  it('without a Slack thread (command-line run), reports to the notification channel and the DM only', async () => {
    const w = world({ 'i-1': SCRIPTS.drained() });
    const { slack: _none, ...cli } = request;
    expect(await main(await w.env(cli), w.options)).toBe(0);
    expect(slack.callsOf('chat.update')).toHaveLength(0);
    // The notification channel holds the summary; the DM links to it.
    expect(posts('C0NOTIFY')).toHaveLength(1);
    expect(posts('C0NOTIFY')[0]).toContain('`i-1` drained');
    const [permalink] = slack.callsOf('chat.getPermalink');
    expect(permalink!.args.channel).toBe('C0NOTIFY');
    expect(posts('D0ALICE')).toHaveLength(1);
    expect(posts('D0ALICE')[0]).toMatch(
      /1 drained\n<https:\/\/example\.slack\.com\/archives\/C0NOTIFY\/p\d+\|Thread of this run>$/,
    );
    expect(posts('C0OPS')).toHaveLength(0);
  });
});
