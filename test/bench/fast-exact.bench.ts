/**
 * Confirm → first SendCommand, and status → answer: the bot that sends (and answers status) itself,
 * beside the previous path where a Fargate runner started after Confirm resolved the pattern again and
 * sent the commands (and answered status in a thread). Both through the real bot handler against the
 * test world (mocked AWS with 30 ms per IAM call; scripts answer STATUS_SCRIPT_MS after delivery). The
 * Fargate start is not slept: it is a fixed 40 s added to the old path (30–60 s measured on AWS), and
 * the old runner's own part (resolve the pattern with the runner's lister, dispatch the first batch,
 * poll at its 2 s initial interval) is run for real on the same world.
 */
import pLimit from 'p-limit';
import { ElasticBeanstalkTargets } from '../../runner/aws/eb-targets';
import { DEFAULT_LOOKUP_DELAYS_MS, dispatch } from '../../runner/aws/ssm-executor/dispatch';
import { DEFAULT_POLL_INTERVAL } from '../../runner/aws/ssm-executor/poll-interval';
import { systemClock } from '../../runner/drain/clock';
import { silentLogger } from '../../runner/log';
import { ebClient, ssmClient, World } from '../bot/world';

export const name = 'fast and exact (Confirm → first SendCommand, status → answer; new vs Fargate path)';

const FARGATE_START_MS = 40_000;
const STATUS_SCRIPT_MS = 1_500;
const SIZES = [4, 200];
const s = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

function fleet(world: World, instances: number): void {
  // Environments of at most 25 instances, as Elastic Beanstalk fleets often are.
  world.environments = Array.from({ length: Math.ceil(instances / 25) }, (_, i) => ({
    name: `myapp-workers-${String(i).padStart(2, '0')}`,
    instances: Math.min(25, instances - i * 25),
  }));
  world.iamDelayMs = 30;
}

/** The old runner's part after its start: resolve the pattern, then send the first batch. */
async function oldRunnerToFirstSend(world: World): Promise<number> {
  const t = performance.now();
  const plan = await new ElasticBeanstalkTargets(ebClient, ssmClient).resolve({
    application: 'MY-APP',
    envPattern: 'workers',
  });
  const targets = plan.environments.flatMap((e) => e.reachable).slice(0, 50);
  const before = world.ssm.sent.length;
  await dispatch(
    {
      runId: `bench-old-${Date.now()}`,
      action: 'quiet',
      targets,
      drainTimeoutSeconds: 3600,
      executionTimeoutSeconds: 7200,
      deadline: Number.POSITIVE_INFINITY,
    },
    { dispatched: () => undefined, running: () => undefined, finished: () => undefined },
    new AbortController().signal,
    {
      ssm: ssmClient,
      sendClient: ssmClient,
      clock: systemClock,
      log: silentLogger,
      limit: pLimit(8),
      documentName: 'snowwhite-quiet',
      batchSize: 50,
      deliveryTimeoutSeconds: 600,
      lookupDelaysMs: DEFAULT_LOOKUP_DELAYS_MS,
    },
  );
  if (world.ssm.sent.length === before) throw new Error('the old path sent nothing');
  return performance.now() - t;
}

async function confirmToFirstSend(world: World, instances: number): Promise<void> {
  fleet(world, instances);
  const { responseId } = await world.slash('quiet workers MY-APP us-east-1');
  await world.playHandoffs();
  await world.click(world.confirmValue(responseId), 'confirm');
  world.ssm.reset();
  const clicked = Date.now();
  const t = performance.now();
  await world.playHandoffs();
  const confirmWork = performance.now() - t;
  const firstSend = Math.min(...world.ssm.sent.map((c) => c.at)) - clicked;
  const oldRunner = await oldRunnerToFirstSend(world);
  // Before: the Confirm work ended with RunTask (no send); the runner started ~40 s later.
  const old = confirmWork + FARGATE_START_MS + oldRunner;
  console.log(
    `  ${String(instances).padStart(3)} instances  Confirm → first SendCommand: new ${s(firstSend)} ` +
      `(whole Confirm work incl. runner launch ${s(confirmWork)})  ·  old ${s(old)} ` +
      `(= bot ${s(confirmWork)} + Fargate start ${s(FARGATE_START_MS)} + runner resolve and send ${s(oldRunner)})`,
  );
}

async function statusToAnswer(world: World, instances: number): Promise<void> {
  fleet(world, instances);
  world.ssm.reset();
  world.ssm.answerAfterMs = STATUS_SCRIPT_MS;
  const tasksBefore = world.launchedTasks;
  const { responseId } = await world.slash('status workers MY-APP us-east-1');
  const t = performance.now();
  await world.playHandoffs();
  const answered = performance.now() - t;
  const text = String(world.lastResponse(responseId)?.text);
  const reported = /(\d+) reported/.exec(text)?.[1] ?? '0';
  const pending = /(\d+) instances? had not answered/.exec(text)?.[1] ?? '0';
  const tasks = world.launchedTasks - tasksBefore;
  // Before: the bot launched a runner (its work ≈ the same checks), which after its start resolved the
  // pattern, sent, and polled first after its 2 s initial interval (the script needs STATUS_SCRIPT_MS).
  world.ssm.answerAfterMs = 0;
  const oldRunner = await oldRunnerToFirstSend(world);
  const firstPoll = Math.max(DEFAULT_POLL_INTERVAL.initialMs, STATUS_SCRIPT_MS);
  const old = answered + FARGATE_START_MS + oldRunner + firstPoll;
  console.log(
    `  ${String(instances).padStart(3)} instances  status → answer: new ${s(answered)} ` +
      `(${reported} reported, ${pending} pending, ${tasks} Fargate task)  ·  old ≥ ${s(old)} ` +
      `(= bot + Fargate start + runner resolve and send ${s(oldRunner)} + first poll ${s(firstPoll)}, 1 task)`,
  );
}

export async function run(): Promise<void> {
  const world = await World.start();
  try {
    console.log(`Confirm → first SendCommand (goal ≤ 5 s; Fargate start taken as ${s(FARGATE_START_MS)}):`);
    for (const n of SIZES) await confirmToFirstSend(world, n);
    console.log(`status → answer (goal ≤ 10 s for up to 200 instances, no task):`);
    for (const n of SIZES) await statusToAnswer(world, n);
  } finally {
    await world.stop();
  }
}
