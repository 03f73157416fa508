/**
 * Fan-out and polling cost of the runner against a simulated SSM fleet (instances finish after
 * random delays on a compressed clock), side by side with the old tool's approach:
 * one SendCommand for every instance (SSM refuses more than 50) and one ListCommandInvocations
 * per instance every cycle. Goal: at most ceil(N/50) calls per poll round, 5,000 instances handled.
 */
import { ListCommandInvocationsCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Target } from '../../runner/drain/targets';
import { isTerminalStatus } from '../../runner/drain/outcome';
import { SsmExecutor } from '../../runner/aws/ssm-executor/executor';
import { SCRIPTS, SsmFleet, type InstanceScript } from '../runner/support/ssm-fleet';
import { VirtualClock } from '../runner/support/virtual-clock';

export const name = 'runner fan-out (SSM calls per poll round, new vs old)';

const SIZES = [10, 100, 1_000, 5_000];
const OLD_POLL_MS = 5_000;

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fleetScripts(n: number): Map<string, InstanceScript> {
  const rnd = random(n);
  const scripts = new Map<string, InstanceScript>();
  for (let i = 0; i < n; i++) {
    const runMs = 30_000 + Math.floor(rnd() * 14.5 * 60_000); // 30 s to 15 min
    const script = rnd() < 0.03 ? SCRIPTS.busy(1 + Math.floor(rnd() * 3), runMs) : SCRIPTS.drained(runMs);
    scripts.set(`i-${String(i).padStart(17, '0')}`, { ...script, deliverAfterMs: Math.floor(rnd() * 5_000) });
  }
  return scripts;
}

interface Row {
  n: number;
  approach: string;
  sendCommand: number;
  list: number;
  get: number;
  total: number;
  maxPerRound: number;
  rounds: number;
  simulated: string;
  wallMs: number;
  result: string;
}

/** Counts SSM calls between two sleeps of the clock: one polling round. */
function roundCounter(clock: VirtualClock, fleet: SsmFleet) {
  let atLastSleep = 0;
  let max = 0;
  let rounds = 0;
  clock.onSleep = () => {
    if (rounds > 0) max = Math.max(max, fleet.totalCalls - atLastSleep);
    rounds += 1;
    atLastSleep = fleet.totalCalls;
  };
  return {
    finish: () => {
      if (rounds > 0) max = Math.max(max, fleet.totalCalls - atLastSleep);
      return { max, rounds };
    },
  };
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

async function newApproach(n: number): Promise<Row> {
  const scripts = fleetScripts(n);
  const clock = new VirtualClock();
  const fleet = new SsmFleet(clock, (id) => scripts.get(id)!);
  const executor = new SsmExecutor(fleet as unknown as SSMClient, {
    documentName: () => 'SnowWhite-Quiet',
    clock,
  });
  const targets: Target[] = [...scripts.keys()].map((instanceId) => ({ instanceId, environment: 'workers' }));
  const counter = roundCounter(clock, fleet);
  const started = clock.now();
  const wall = Date.now();
  let finished = 0;
  let busy = 0;
  await executor.execute(
    {
      runId: 'bench',
      action: 'quiet',
      targets,
      drainTimeoutSeconds: 3600,
      executionTimeoutSeconds: 7200,
      deadline: started + 3 * 3600_000,
    },
    {
      dispatched: () => undefined,
      running: () => undefined,
      finished: (o) => {
        finished += 1;
        if (o.kind === 'busy_at_deadline') busy += 1;
      },
    },
    new AbortController().signal,
  );
  const { max, rounds } = counter.finish();
  return {
    n,
    approach: 'new: batches of 50, 1 list/command',
    sendCommand: fleet.calls.SendCommand ?? 0,
    list: fleet.calls.ListCommandInvocations ?? 0,
    get: fleet.calls.GetCommandInvocation ?? 0,
    total: fleet.totalCalls,
    maxPerRound: max,
    rounds,
    simulated: minutes(clock.now() - started),
    wallMs: Date.now() - wall,
    result: `${finished}/${n} done (${busy} busy at deadline)`,
  };
}

/** The old tool: one SendCommand for all, then every 5 s one ListCommandInvocations per unfinished instance. */
async function oldApproach(n: number, liftLimit: boolean): Promise<Row> {
  const scripts = fleetScripts(n);
  const clock = new VirtualClock();
  const fleet = new SsmFleet(clock, (id) => scripts.get(id)!);
  fleet.enforceLimit = !liftLimit;
  const ids = [...scripts.keys()];
  const counter = roundCounter(clock, fleet);
  const started = clock.now();
  const wall = Date.now();
  const row = (result: string): Row => {
    const { max, rounds } = counter.finish();
    return {
      n,
      approach: liftLimit ? 'old, 50-limit lifted (hypothetical)' : 'old: 1 SendCommand, 1 list/instance',
      sendCommand: fleet.calls.SendCommand ?? 0,
      list: fleet.calls.ListCommandInvocations ?? 0,
      get: 0,
      total: fleet.totalCalls,
      maxPerRound: max,
      rounds,
      simulated: minutes(clock.now() - started),
      wallMs: Date.now() - wall,
      result,
    };
  };
  let commandId: string;
  try {
    const res = (await fleet.send(new SendCommandCommand({ DocumentName: 'd', InstanceIds: ids }))) as {
      Command: { CommandId: string };
    };
    commandId = res.Command.CommandId;
  } catch (err) {
    return row(`FAILED: ${(err as Error).name} (${ids.length} > 50 instance ids)`);
  }
  const pending = new Set(ids);
  while (pending.size > 0) {
    await clock.sleep(OLD_POLL_MS);
    for (const id of [...pending]) {
      const page = (await fleet.send(
        new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: id, Details: true }),
      )) as { CommandInvocations: Array<{ Status?: string; StatusDetails?: string }> };
      const inv = page.CommandInvocations[0];
      if (inv && isTerminalStatus(inv.Status, inv.StatusDetails)) pending.delete(id);
    }
  }
  return row(`${n}/${n} done`);
}

function printTable(rows: Row[]): void {
  const head = [
    'N',
    'approach',
    'Send',
    'List',
    'Get',
    'SSM calls',
    'max/round',
    'goal ceil(N/50)',
    'rounds',
    'simulated',
    'wall',
    'result',
  ];
  const body = rows.map((r) => [
    String(r.n),
    r.approach,
    String(r.sendCommand),
    String(r.list),
    String(r.get),
    String(r.total),
    String(r.maxPerRound),
    String(Math.ceil(r.n / 50)),
    String(r.rounds),
    r.simulated,
    `${r.wallMs} ms`,
    r.result,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const n of SIZES) {
    const fresh = await newApproach(n);
    if (fresh.maxPerRound > Math.ceil(n / 50))
      throw new Error(`goal missed at N=${n}: ${fresh.maxPerRound} calls in a round`);
    rows.push(fresh, await oldApproach(n, false));
    if (n > 50) rows.push(await oldApproach(n, true));
  }
  printTable(rows);
  console.log(
    `(simulated SSM; instances finish 30 s–15 min after delivery, 3% still busy; old tool polls every ${OLD_POLL_MS / 1000} s; "max/round" counts every SSM call between two waits)`,
  );
}
