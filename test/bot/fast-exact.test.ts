/**
 * "Fast and exact" through the real bot handler: Confirm acts on exactly what the prompt showed, the bot
 * sends the SSM commands itself (once), and `status` is answered without a runner.
 */
import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { ecsMock, World } from './world';

jest.setTimeout(60_000);

let world: World;
beforeEach(async () => {
  world = await World.start({ STATUS_ANSWER_SECONDS: '2' });
});
afterEach(() => world.stop());

async function askFor(text: string, options: { userId?: string } = {}) {
  const { result, responseId } = await world.slash(text, options);
  expect(result.statusCode).toBe(200);
  await world.playHandoffs();
  return responseId;
}

const promptOf = (world: World, responseId: string) =>
  world
    .responses(responseId)
    .filter((c) => Array.isArray(c.args.blocks))
    .at(-1)!.args;

describe('Confirm is bound to the preview', () => {
  test('an environment created between prompt and Confirm: no command anywhere, a new prompt naming it; its Confirm acts on what it shows', async () => {
    const responseId = await askFor('stop workers MY-APP us-east-1');
    const first = JSON.stringify(promptOf(world, responseId).blocks);
    expect(first).toContain('This shuts down the Sidekiq workers on 2 environments, 4 instances');

    world.environments.push({ name: 'myapp-workers-eu', instances: 5 });
    const click = await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();

    expect(world.ssm.sent).toHaveLength(0);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    const again = world.lastResponse(click.responseId)!;
    expect(again.replace_original).toBe(true);
    const text = JSON.stringify(again.blocks);
    expect(text).toContain('The targets changed since the prompt');
    expect(text).toContain('environment `myapp-workers-eu` added');
    // The red dialog quotes the targets as they are now.
    expect(text).toContain('This shuts down the Sidekiq workers on 3 environments, 9 instances');

    // Confirming the new prompt acts on exactly what it shows, the new environment included.
    await world.click(world.confirmValue(click.responseId), 'confirm');
    await world.playHandoffs();
    expect(world.ssm.instancesSentTo('snowwhite-stop').sort()).toEqual(
      world
        .instanceIds()
        .filter((id) => id.includes('workers'))
        .sort(),
    );
    expect(world.launchedTasks).toBe(1);
  });

  test('an instance replaced between prompt and Confirm (same count): nothing is sent, the change is named', async () => {
    world.environments = [
      {
        name: 'myapp-workers-prod',
        instances: 2,
        instanceIds: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'],
      },
    ];
    const responseId = await askFor('quiet workers MY-APP us-east-1');
    world.environments = [
      {
        name: 'myapp-workers-prod',
        instances: 2,
        instanceIds: ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb3'],
      },
    ];
    const click = await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.ssm.sent).toHaveLength(0);
    expect(JSON.stringify(world.lastResponse(click.responseId)!.blocks)).toContain(
      'instances of `myapp-workers-prod` changed (2 → 2, replaced)',
    );
  });

  test('an environment gone since the prompt: nothing is sent; the new prompt shows what is left', async () => {
    const responseId = await askFor('quiet workers MY-APP us-east-1');
    world.environments = world.environments.filter((e) => e.name !== 'myapp-workers-staging');
    const click = await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.ssm.sent).toHaveLength(0);
    const text = JSON.stringify(world.lastResponse(click.responseId)!.blocks);
    expect(text).toContain('environment `e-myapp-workers-staging` gone');
    expect(text).toContain('1 environment, 3 instances');
  });
});

describe('the bot sends the commands, once', () => {
  test('double click in one container, then the same hand-off delivered again: each instance gets the command once, one runner', async () => {
    const responseId = await askFor('wake workers MY-APP us-east-1');
    const value = world.confirmValue(responseId);
    await world.click(value, 'confirm');
    await world.click(value, 'confirm');
    const handoffs = world.pendingHandoffs();
    await world.playHandoffs();
    await world.handler(handoffs[0], {});
    expect(world.ssm.instancesSentTo().sort()).toEqual([
      'i-e-myapp-workers-prod-0',
      'i-e-myapp-workers-prod-1',
      'i-e-myapp-workers-prod-2',
      'i-e-myapp-workers-staging-0',
    ]);
    expect(world.launchedTasks).toBe(1);
  });

  test('without the ledger, a repeated delivery to a fresh container finds the commands by their Comment and sends nothing', async () => {
    const responseId = await askFor('quiet workers MY-APP us-east-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    const [event] = world.pendingHandoffs();
    await world.playHandoffs();
    const sent = world.ssm.sent.length;
    await world.newContainer()(event, {});
    expect(world.ssm.sent).toHaveLength(sent);
    expect(world.launchedTasks).toBe(1);
  });

  test('an instance SSM cannot reach gets no command; the runner is told it is unreachable', async () => {
    const responseId = await askFor('quiet workers MY-APP us-east-1');
    world.ssm.offline.add('i-e-myapp-workers-prod-1');
    await world.click(world.confirmValue(responseId), 'confirm');
    await world.playHandoffs();
    expect(world.ssm.instancesSentTo()).not.toContain('i-e-myapp-workers-prod-1');
    expect(world.ssm.instancesSentTo()).toHaveLength(3);
    expect(world.runRequestOf(0).unreachable).toEqual([
      {
        instanceId: 'i-e-myapp-workers-prod-1',
        environment: 'myapp-workers-prod',
        reason: 'SSM agent lost its connection',
      },
    ]);
  });

  test('SendCommand refused: nothing launched, the prompt stays, and Confirm again sends', async () => {
    const responseId = await askFor('quiet workers MY-APP us-east-1');
    world.ssm.failSends = 2;
    const value = world.confirmValue(responseId);
    const click = await world.click(value, 'confirm');
    await world.playHandoffs();
    expect(world.launchedTasks).toBe(0);
    const told = world.lastResponse(click.responseId)!;
    expect(told.replace_original).toBe(false);
    expect(String(told.text)).toContain('No command was sent; press Confirm again to retry');
    expect(String(told.text)).toContain('AccessDeniedException');

    await world.click(value, 'confirm');
    await world.playHandoffs();
    expect(world.ssm.instancesSentTo()).toHaveLength(4);
    expect(world.launchedTasks).toBe(1);
  });
});

describe('status from the bot', () => {
  test('answers with per-environment and per-process counts, and launches no task', async () => {
    world.ssm.processes.set('i-e-myapp-workers-prod-0', [
      { pid: 11, busy: 2, concurrency: 3, quiet: false },
      { pid: 12, busy: 0, concurrency: 3, quiet: true },
    ]);
    const responseId = await askFor('status workers MY-APP us-east-1');
    expect(world.launchedTasks).toBe(0);
    expect(ecsMock).not.toHaveReceivedCommand(RunTaskCommand);
    const answer = world.lastResponse(responseId)!;
    expect(answer.response_type).toBe('ephemeral');
    const text = String(answer.text);
    expect(text).toContain('4 reported');
    expect(text).toMatch(/\*myapp-workers-prod\* \(3\).*1 quiet/);
    expect(text).toContain('myapp-workers-staging');
    expect(text).not.toContain('pending');
    expect(world.ssm.sent.every((c) => c.documentName === 'snowwhite-status')).toBe(true);
  });

  test('an instance that never answers is listed as pending, with Status to look again', async () => {
    world.ssm.silent.add('i-e-myapp-workers-prod-2');
    const responseId = await askFor('status workers MY-APP us-east-1');
    const answer = world.lastResponse(responseId)!;
    const text = String(answer.text);
    expect(text).toContain('3 reported');
    expect(text).toContain(
      '1 instance had not answered yet (pending): `i-e-myapp-workers-prod-2` (myapp-workers-prod)',
    );
    const buttons = JSON.stringify(answer.blocks);
    expect(buttons).toContain('snowwhite_request:status');
    expect(world.launchedTasks).toBe(0);
  });

  test('hostile names and process data reach the status answer escaped', async () => {
    const app = '<!channel>&x';
    world.environments = [{ name: 'workers-<!here>', instances: 2, application: app }];
    const [first, second] = world.instanceIds();
    world.ssm.silent.add(second!);
    world.ssm.processes.set(first!, [{ pid: 7, busy: 1, concurrency: 2, quiet: false }]);
    const responseId = await askFor(`status workers ${app} us-east-1`);
    const text = String(world.lastResponse(responseId)!.text);
    expect(text).toContain('1 reported');
    expect(text).toContain('workers-&lt;!here&gt;');
    expect(text).not.toMatch(/<!channel>|<!here>/);
  });

  test('a fleet larger than STATUS_MAX_INSTANCES gets a runner, and the answer says so', async () => {
    const handler = world.newContainer({ STATUS_MAX_INSTANCES: '3' });
    const { responseId } = await world.slash('status workers MY-APP us-east-1', { handler });
    await world.playHandoffs(handler);
    expect(
      world
        .responses(responseId)
        .map((c) => String(c.args.text))
        .join('\n'),
    ).toContain('4 instances is more than I check myself (3): a runner reports the status in a thread');
    expect(world.launchedTasks).toBe(1);
    expect(world.runRequestOf(0).commands?.length).toBe(2);
  });
});
