/**
 * `npm run demo`: Snow White's main job on this machine, no AWS or Slack account needed.
 *
 * Starts a private Redis and two real Sidekiq workers with slow jobs in flight and more queued, runs
 * `snowwhite quiet … --local` (the real command line and runner, the real ssm/sidekiqctl.sh), shows
 * that every in-flight job finished and every queued job is still queued (lost: 0), then
 * `snowwhite wake … --local` restarts the workers, which take the queued jobs. Everything it starts
 * lives in a private PID namespace that dies with this process, Ctrl-C included.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cleanupAllHosts, shq, SidekiqHost, type Accounting } from '../support/sidekiq-host';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/runner/cli.js');
const TAG = 'snowwhite-demo';
const JOB_SECONDS = 8;
const WORKERS = 2;
const THREADS = 3;
const JOBS = 10;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n: number, text: string) => console.log(`\n${bold(`${n}. ${text}`)}`);

/** `snowwhite` run on the demo's "machine": inside its PID namespace, where --local acts. */
function snowwhite(host: SidekiqHost, args: string[]): Promise<number> {
  console.log(`$ snowwhite ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shq(a))).join(' ')}`);
  return new Promise((done) => {
    const child = host.exec(process.execPath, [CLI, ...args], { stdio: 'inherit' });
    child.once('close', (code) => done(code ?? 1));
  });
}

const describe = (a: Accounting) =>
  `${a.enqueued} enqueued · ${a.completed} completed · ${a.queued} still queued · ${a.running} running · ${a.lost} lost`;

async function main(): Promise<number> {
  console.log(bold('Snow White demo: drain real Sidekiq workers on this machine'));

  step(
    1,
    `Starting Redis and ${WORKERS} Sidekiq workers (${THREADS} threads each, tag ${TAG}-N, real 5 s heartbeat)`,
  );
  const host = await SidekiqHost.start();
  const workers = [];
  for (let i = 1; i <= WORKERS; i++)
    workers.push(await host.startSidekiq({ concurrency: THREADS, tag: `${TAG}-${i}` }));
  for (const p of host.processes()) console.log(`   pid ${p.hostPid}: ${p.title}`);

  const inFlight = WORKERS * THREADS;
  step(
    2,
    `Enqueuing ${JOBS} jobs of ${JOB_SECONDS} s: ${inFlight} start at once, ${JOBS - inFlight} wait in the queue`,
  );
  await host.enqueue(JOB_SECONDS, JOBS);
  await host.waitForRunning(inFlight);
  console.log(`   ${describe(await host.accounting())}`);

  step(3, 'Quieting them: no new jobs, wait until the jobs in flight have finished');
  const quiet = await snowwhite(host, [
    'quiet',
    'workers',
    'DEMO-APP',
    'us-east-1',
    '--local',
    '--match',
    TAG,
  ]);
  const afterQuiet = await host.accounting();
  console.log(`\n   accounting: ${describe(afterQuiet)}`);
  const quietOk =
    quiet === 0 && afterQuiet.lost === 0 && afterQuiet.running === 0 && afterQuiet.queued === JOBS - inFlight;
  console.log(
    quietOk
      ? `   every job in flight finished; the ${afterQuiet.queued} queued jobs are still in Redis; nothing lost.`
      : `   UNEXPECTED: snowwhite quiet exited ${quiet}; lost ${afterQuiet.lost} (${afterQuiet.lostJids.join(', ')})`,
  );

  step(4, 'Waking them: quiet workers are restarted; the fresh ones take the queued jobs');
  // No systemd here: a supervisor-like script restarts each worker (as `supervisorctl restart` would).
  const restartScript = join(host.dir, 'restart-workers.sh');
  writeFileSync(restartScript, `${workers.map((w) => `sh ${shq(w.ctl)} restart`).join('\n')}\n`);
  const wake = await snowwhite(host, [
    'wake',
    'workers',
    'DEMO-APP',
    'us-east-1',
    '--local',
    '--match',
    TAG,
    '--restart-command',
    `sh ${restartScript}`,
  ]);
  await host.waitForCompleted(JOBS, (JOB_SECONDS + 20) * 1000).catch(() => undefined);
  const end = await host.accounting();
  console.log(`\n   accounting: ${describe(end)}`);

  step(5, 'Cleaning up');
  await host.cleanup();
  const ok = quietOk && wake === 0 && end.lost === 0 && end.completed === JOBS;
  console.log(
    ok
      ? bold('\nDone: every job accounted for, lost: 0.')
      : bold('\nThe demo did not go as expected (see above).'),
  );
  return ok ? 0 : 1;
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.log('\ninterrupted: cleaning up');
  void cleanupAllHosts().finally(() => process.exit(130));
});

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanupAllHosts();
    process.exit(1);
  },
);
