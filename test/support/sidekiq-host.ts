/**
 * A private "host" with real Redis and real Sidekiq (Debian 6.4.1) for tests, the benchmark and the demo.
 *
 * Each SidekiqHost is its own Linux PID namespace (`unshare -p -f --mount-proc`, needs root): the
 * processes started in it, and ssm/sidekiqctl.sh run in it, see only that host's Sidekiqs, so
 * scenarios can run side by side on one machine. Its PID 1 (sidekiq-app/ns-init.rb) reaps orphans and
 * exits when the test process goes away; the kernel then kills the whole namespace, so nothing leaks
 * even if jest is killed. `cleanup()` does the same at once.
 *
 *   const host = await SidekiqHost.start({ heartbeat: 0.5 });  // omit heartbeat for the real 5 s
 *   const sk = await host.startSidekiq({ concurrency: 2, tag: 'a', shutdownTimeout: 1 });
 *   const jids = await host.enqueue(3, 4);                      // four jobs sleeping 3 s each
 *   await host.waitForRunning(2);
 *   const r = await host.runScript(['quiet', '--timeout', '30']); // r.code, r.json, r.stderr, r.seconds
 *   expect(await host.accounting()).toMatchObject({ lost: 0 });
 *   await host.cleanup();
 *
 * API
 *   SidekiqHost.start(opts?: { heartbeat?: number }): Promise<SidekiqHost>
 *       heartbeat: Sidekiq's heartbeat in seconds for every Sidekiq of this host (default: the real 5 s).
 *   host.dir, host.markerDir, host.redisPort, host.redisUrl, host.heartbeat
 *   host.startSidekiq(opts?: SidekiqOptions): Promise<SidekiqProc>   starts one and waits for its title
 *       SidekiqOptions { concurrency?: number (3); tag?: string; shutdownTimeout?: number (-t);
 *                        titleExtra?: string (a PROCTITLES word after "busy]", as Enterprise's `leader`) }
 *       SidekiqProc { name, pid (in the host), hostPid, ctl }: `ctl` is a supervisor-like script,
 *       `sh <ctl> start|stop|restart`, usable as a --restart-command.
 *   host.startUnit(unit, opts?, alongside?): Promise<number>   a Sidekiq as systemd unit `unit` (e.g.
 *       `worker.service`, `sidekiq@2.service`) under the systemctl stand-in (bin/systemctl): a real cgroup
 *       `…/system.slice/<unit>` and Restart=always; returns its main pid once it has its title.
 *       `alongside`: shell text the unit starts in the background first (a non-Sidekiq process in it).
 *       A file `stop-delay` (seconds) in $dir/systemd/units/<unit>/ makes `systemctl stop` that slow.
 *   host.startRunitFakes(count, env): Promise<string[]>   `count` runit services each running
 *       sidekiq-app/fake-sidekiq.rb with `env` (light: 50 of them fit a small machine); their svDirs
 *   host.recordName(match?): string         the file stop writes for wake in this host's PID namespace
 *   host.spawnAtPid(pid, title, marker): Promise<boolean>   a process (nobody) titled `title`, given
 *       pid `pid` inside the host through ns_last_pid (retried: other forks race for it); it writes
 *       `marker` if it ever gets TERM. false when the pid could not be had.
 *   host.enqueue(seconds, count?, klass?)   klass: 'SleepJob' | 'RenameJob' | 'CpuJob' (app.rb)
 *   host.unitMainPid(unit): number          the unit's current main pid (0: none)
 *   host.startSwarm(count, opts?, unit?): Promise<{ parent, children }>   a `sidekiqswarm` stand-in
 *       (sidekiq-app/sidekiqswarm) forking `count` real Sidekiqs, in systemd unit `unit` if given;
 *       host.swarmChildren(parent): the live titled children of that swarm now
 *   host.startSupervisord(program, opts?): Promise<number>   a real supervisord (nodaemon) running one
 *       Sidekiq as [program:<program>] with autorestart=true; returns the Sidekiq's pid
 *   host.supervisorctl(args): string        supervisorctl against that supervisord, from outside
 *   host.startRunit(name, opts?): Promise<{ svDir, pid }>   a real runit (runsvdir -> runsv -> sidekiq)
 *       with the service directory `svDir`; host.svPid(svDir) its current pid (0: down); host.sv(args)
 *   host.spawnHostile(title): ChildProcess  an unprivileged process (nobody, via setpriv) titled `title`
 *   host.joinCgroup(pid, path): void      moves a process into a real cgroup `…/path` (e.g.
 *       `system.slice/sidekiq.service`: what /proc/PID/cgroup shows for a process of that unit)
 *   host.systemctlCalls(): string[]                            what the stand-in was asked, in order
 *   host.stateDir                           SIDEKIQCTL_STATE_DIR of runScript (the script makes it, mode 700)
 *   host.stoppedRecords(): string           what stop recorded for wake (all record files, concatenated)
 *   host.spawnFake(env: Record<string, string>): ChildProcess  sidekiq-app/fake-sidekiq.rb (4.x, 5.x, 7.x, 8.x)
 *   host.exec(cmd, args, opts?): ChildProcess                  any command inside the host
 *   host.shellInside(script): string       shell text that runs `script` inside the host from outside it
 *   host.processes(): ProcInfo[]            live Sidekiq-titled processes: { pid, hostPid, title, state }
 *   host.isLive(pid): boolean                                  pid inside the host; zombies are not live
 *   host.enqueue(seconds: number, count = 1): Promise<string[]>  SleepJobs; returns their jids
 *   host.accounting(): Promise<Accounting>   { enqueued, completed, queued, running, lost, lostJids }
 *       by jid over every job this host enqueued: queued = still in Redis (queue, retry or schedule
 *       set, including jobs pushed back on shutdown); running = started, not done, not queued, and its
 *       Sidekiq process is alive; lost = the rest. completed + queued + running + lost = enqueued.
 *   host.waitForRunning(n, timeoutMs?), host.waitForCompleted(n, timeoutMs?)
 *   host.waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs?, everyMs?)
 *   host.runScript(args: string[], opts?: { shell?: Shell; env?; timeoutMs? }): Promise<ScriptResult>
 *       runs ssm/sidekiqctl.sh inside the host under `shell` (default dash) with the systemctl
 *       stand-in first on PATH; ScriptResult { code, stdout, stderr, json (last stdout line), seconds }.
 *   host.cleanup(): Promise<void>          kills everything this host started and removes its dir
 *   cleanupAllHosts(): Promise<void>       for afterAll: every host still open in this process
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The script under test; SIDEKIQCTL_SCRIPT runs the suites against another copy (e.g. an older one). */
export const SCRIPT = process.env.SIDEKIQCTL_SCRIPT ?? resolve(__dirname, '../../ssm/sidekiqctl.sh');
const APP_DIR = resolve(__dirname, 'sidekiq-app');
const APP = join(APP_DIR, 'app.rb');
const FAKE_BIN = join(APP_DIR, 'bin');
const SWARM = join(APP_DIR, 'sidekiqswarm');

export type Shell = 'dash' | 'bash' | 'busybox';
const SHELL_ARGV: Record<Shell, string[]> = { dash: ['dash'], bash: ['bash'], busybox: ['busybox', 'sh'] };

export interface SidekiqOptions {
  concurrency?: number;
  tag?: string;
  shutdownTimeout?: number;
  titleExtra?: string;
}
/** The jobs of sidekiq-app/app.rb: sleeping, renaming its thread while it sleeps, or CPU-bound. */
export type JobClass = 'SleepJob' | 'RenameJob' | 'CpuJob';
export interface SidekiqProc {
  name: string;
  pid: number;
  hostPid: number;
  ctl: string;
}
export interface ProcInfo {
  pid: number;
  hostPid: number;
  title: string;
  state: string;
}
export interface Accounting {
  enqueued: number;
  completed: number;
  queued: number;
  running: number;
  lost: number;
  lostJids: string[];
}
export interface ScriptJson {
  action: string;
  result: string;
  elapsed_seconds: number;
  processes: Array<{
    pid: number;
    version: string;
    tag: string;
    busy: number;
    concurrency: number;
    quiet: boolean;
  }>;
}
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: ScriptJson | undefined;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Single-quotes a word for sh. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const openHosts = new Set<SidekiqHost>();
process.on('exit', () => {
  // Last resort when a test forgot cleanup(): the namespace dies with its PID 1.
  for (const h of openHosts) h.killNow();
});

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export class SidekiqHost {
  readonly markerDir: string;
  readonly stateDir: string;
  readonly redisUrl: string;
  private readonly jids: string[] = [];
  private readonly children: ChildProcess[] = [];
  private sidekiqCount = 0;
  private closed = false;
  private readonly cgroupRoots: string[] = [];
  private runsvdir: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly redisPort: number,
    readonly heartbeat: number | undefined,
    private readonly unshare: ChildProcess,
    private readonly initPid: number,
    private readonly pidNs: string,
  ) {
    this.markerDir = join(dir, 'markers');
    this.stateDir = join(dir, 'state');
    this.redisUrl = `redis://127.0.0.1:${redisPort}/0`;
  }

  static async start(opts: { heartbeat?: number } = {}): Promise<SidekiqHost> {
    const dir = mkdtempSync(join(tmpdir(), 'sidekiq-host-'));
    mkdirSync(join(dir, 'markers'));
    mkdirSync(join(dir, 'systemd', 'units'), { recursive: true });
    writeFileSync(join(dir, 'systemd', 'calls'), '');
    const unshare = spawn('unshare', ['-p', '-f', '--mount-proc', 'ruby', join(APP_DIR, 'ns-init.rb')], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const unsharePid = unshare.pid!;
    // The namespace's PID 1 is unshare's only child.
    let initPid = 0;
    for (let i = 0; i < 100 && !initPid; i++) {
      const kids = readProc(`/proc/${unsharePid}/task/${unsharePid}/children`)?.trim();
      if (kids) initPid = Number(kids.split(/\s+/)[0]);
      else await sleep(20);
    }
    if (!initPid) {
      unshare.kill('SIGKILL');
      throw new Error('unshare -p -f --mount-proc did not start (root is needed for PID namespaces)');
    }
    let pidNs = '';
    for (let i = 0; i < 100; i++) {
      pidNs = readlinkSync(`/proc/${initPid}/ns/pid`);
      if (pidNs !== readlinkSync('/proc/self/ns/pid')) break;
      await sleep(20); // still unshare's fork, not yet in the new namespace's exec
    }
    const port = await freePort();
    const host = new SidekiqHost(dir, port, opts.heartbeat, unshare, initPid, pidNs);
    openHosts.add(host);
    try {
      host.exec(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: 'ignore' },
      );
      await host.waitFor('redis', () => host.redis(['PING']).trim() === 'PONG', 10_000, 50);
    } catch (e) {
      await host.cleanup();
      throw e;
    }
    return host;
  }

  /**
   * Shell text that runs `script` inside the host, for a process outside it (a `--restart-command`
   * given to sidekiqctl.sh running on the machine itself, which sees every namespace's processes).
   */
  shellInside(script: string): string {
    return `nsenter -t ${this.initPid} -p -m -- sh -c ${shq(script)}`;
  }

  /**
   * Runs a command inside the host (its PID namespace and /proc). SIDEKIQCTL_STATE_DIR is this host's
   * own unless the caller's environment sets it: a sidekiqctl.sh run inside (the command line's
   * --local, a simulated SSM) never shares the machine's state directory and lock with other tests.
   */
  exec(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('nsenter', ['-t', String(this.initPid), '-p', '-m', '--', cmd, ...args], {
      cwd: this.dir,
      ...opts,
      env: { SIDEKIQCTL_STATE_DIR: this.stateDir, ...(opts.env ?? process.env) },
    });
    this.children.push(child);
    return child;
  }

  private redis(args: string[]): string {
    const r = spawnSync('redis-cli', ['-p', String(this.redisPort), '--raw', ...args], { encoding: 'utf8' });
    return r.stdout ?? '';
  }

  /** A new directory for one Sidekiq, and the environment and argv that start it there. */
  private sidekiqSetup(opts: SidekiqOptions): { name: string; d: string; env: string[]; argv: string[] } {
    const name = `sidekiq${++this.sidekiqCount}`;
    const d = join(this.dir, name);
    mkdirSync(d);
    const env = [
      `REDIS_URL=${shq(this.redisUrl)}`,
      `MARKER_DIR=${shq(this.markerDir)}`,
      `SIDEKIQ_BEAT_PAUSE=${this.heartbeat ?? ''}`,
      `SIDEKIQ_PROCTITLE_EXTRA=${shq(opts.titleExtra ?? '')}`,
    ];
    const argv = ['/usr/bin/sidekiq', '-r', shq(APP), '-c', String(opts.concurrency ?? 3)];
    if (opts.tag !== undefined) argv.push('-g', shq(opts.tag));
    if (opts.shutdownTimeout !== undefined) argv.push('-t', String(opts.shutdownTimeout));
    return { name, d, env, argv };
  }

  /** Starts one real Sidekiq and waits until it has its title (its first heartbeat). */
  async startSidekiq(opts: SidekiqOptions = {}): Promise<SidekiqProc> {
    const { name, d, env, argv } = this.sidekiqSetup(opts);
    const ctl = join(d, 'ctl.sh');
    // Behaves like a supervisor (supervisorctl, a systemd unit): stop waits for the exit.
    writeFileSync(
      ctl,
      `#!/bin/sh
# supervisor stand-in for ${name}: run (foreground) | start (background) | stop | restart | main-pid
set -eu
D=${shq(d)}
gone() { ! [ -r "/proc/$1/stat" ] || case $(sed 's/.*) //' "/proc/$1/stat") in Z* | X*) true ;; *) false ;; esac; }
case $1 in
  run) echo $$ >"$D/pid"; cd "$D"; exec env ${env.join(' ')} ${argv.join(' ')} >>"$D/log" 2>&1 ;;
  start) nohup sh "$0" run </dev/null >/dev/null 2>&1 & ;;
  stop) p=$(cat "$D/pid"); kill -TERM "$p" 2>/dev/null || true; while ! gone "$p"; do sleep 0.1; done ;;
  restart) sh "$0" stop; sh "$0" start ;;
  main-pid) p=$(cat "$D/pid" 2>/dev/null || echo 0); if [ "$p" != 0 ] && ! gone "$p"; then echo "$p"; else echo 0; fi ;;
esac
`,
    );
    chmodSync(ctl, 0o755);
    this.exec('sh', [ctl, 'run'], { stdio: 'ignore' });
    const pid = await this.waitForNewSidekiq(d, 0);
    return { name, pid, hostPid: this.hostPidOf(pid), ctl };
  }

  /** Waits until the pid file of `d` names a process other than `oldPid` that has a Sidekiq title. */
  async waitForNewSidekiq(d: string, oldPid: number, timeoutMs = 30_000): Promise<number> {
    let pid = 0;
    await this.waitFor(
      `sidekiq in ${d} to start`,
      () => {
        pid = Number(readProc(join(d, 'pid'))?.trim() ?? 0);
        return pid !== oldPid && this.processes().some((p) => p.pid === pid);
      },
      timeoutMs,
    );
    return pid;
  }

  /**
   * Moves a process of this host (pid inside the host) into a real cgroup named `path` (e.g.
   * `system.slice/sidekiq.service`), under a test-only root, so that /proc/PID/cgroup ends in
   * `/path` as it does for a process of a systemd unit. Needs writable cgroups (root).
   */
  joinCgroup(pid: number, path: string): void {
    writeFileSync(join(this.cgroupDir(path), 'cgroup.procs'), String(this.hostPidOf(pid)));
  }

  private cgroupDir(path: string): string {
    const hierarchy = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((h) =>
      existsSync(join(h, 'cgroup.procs')),
    );
    if (!hierarchy) throw new Error('no cgroup hierarchy with cgroup.procs under /sys/fs/cgroup');
    const root = join(hierarchy, `snowwhite-test-${this.dir.split('/').pop()}`);
    if (!this.cgroupRoots.includes(root)) this.cgroupRoots.push(root);
    const dir = join(root, path);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Starts a Sidekiq as systemd unit `unit` through the systemctl stand-in (a real cgroup,
   * Restart=always) and returns its main pid once it has its title.
   */
  async startUnit(unit: string, opts: SidekiqOptions = {}, alongside = ''): Promise<number> {
    const { d, env, argv } = this.sidekiqSetup(opts);
    const u = join(this.dir, 'systemd', 'units', unit);
    mkdirSync(u);
    writeFileSync(
      join(u, 'exec'),
      `cd ${shq(d)} && ${alongside ? `${alongside} & ` : ''}exec env ${env.join(' ')} ${argv.join(' ')} >>log 2>&1`,
    );
    writeFileSync(join(u, 'cgroup'), this.cgroupDir(`system.slice/${unit}`));
    await this.runOk('systemctl', ['start', unit]);
    let pid = 0;
    await this.waitFor(`unit ${unit} to run sidekiq`, () => {
      pid = this.unitMainPid(unit);
      return pid !== 0 && this.processes().some((p) => p.pid === pid);
    });
    return pid;
  }

  /**
   * A `sidekiqswarm` stand-in (sidekiq-app/sidekiqswarm: the Enterprise parent's title, signals and
   * restarts) forking `count` real Sidekiq children; in systemd unit `unit` when given. Returns the
   * parent's pid and its children's once every child has its title.
   */
  async startSwarm(
    count: number,
    opts: SidekiqOptions = {},
    unit?: string,
  ): Promise<{ parent: number; children: number[] }> {
    const { d, env, argv } = this.sidekiqSetup(opts);
    const cmd = `cd ${shq(d)} && exec env SIDEKIQ_COUNT=${count} ${env.join(' ')} ruby ${shq(SWARM)} ${argv
      .slice(1)
      .join(' ')} >>log 2>&1`;
    if (unit) {
      const u = join(this.dir, 'systemd', 'units', unit);
      mkdirSync(u);
      writeFileSync(join(u, 'exec'), cmd);
      writeFileSync(join(u, 'cgroup'), this.cgroupDir(`system.slice/${unit}`));
      await this.runOk('systemctl', ['start', unit]);
    } else {
      this.exec('sh', ['-c', cmd], { stdio: 'ignore' });
    }
    let swarm = { parent: 0, children: [] as number[] };
    await this.waitFor(`sidekiqswarm with ${count} titled children`, () => {
      swarm = this.swarm(d);
      return swarm.children.length === count;
    });
    return swarm;
  }

  /** The swarm started in `d` (its parent's cwd): its pid and its live children with a Sidekiq title. */
  private swarm(d: string): { parent: number; children: number[] } {
    const all = this.allProcs();
    const parent = all.find((p) => p.title.startsWith('sidekiqswarm, ') && this.cwdOf(p.hostPid) === d);
    if (!parent) return { parent: 0, children: [] };
    const titled = new Set(this.processes().map((p) => p.hostPid));
    const kids = (readProc(`/proc/${parent.hostPid}/task/${parent.hostPid}/children`) ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((h) => titled.has(h));
    return { parent: parent.pid, children: kids.map((h) => this.nsPidOf(h)) };
  }

  /** The live titled Sidekiq children of the swarm whose parent is `parent` (pid inside the host). */
  swarmChildren(parent: number): number[] {
    const hp = this.allProcs().find((p) => p.pid === parent)?.hostPid;
    if (!hp) return [];
    return this.swarm(this.cwdOf(hp)).children;
  }

  private cwdOf(hostPid: number): string {
    try {
      return readlinkSync(`/proc/${hostPid}/cwd`);
    } catch {
      return '';
    }
  }

  unitMainPid(unit: string): number {
    const pid = Number(readProc(join(this.dir, 'systemd', 'units', unit, 'main.pid'))?.trim() ?? 0);
    return pid && this.isLive(pid) ? pid : 0;
  }

  /** Runs a command inside the host with the stand-ins on PATH; rejects unless it exits 0. */
  runOk(cmd: string, args: string[]): Promise<void> {
    const child = this.exec(cmd, args, { env: this.scriptEnv(), stdio: 'ignore' });
    return new Promise((res, rej) =>
      child.on('exit', (c) => (c === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')}: exit ${c}`)))),
    );
  }

  /** A real supervisord running one Sidekiq as [program:<program>], autorestart=true. */
  async startSupervisord(program: string, opts: SidekiqOptions = {}): Promise<number> {
    const { d, env, argv } = this.sidekiqSetup(opts);
    const conf = join(this.dir, 'supervisord.conf');
    writeFileSync(
      conf,
      `[unix_http_server]
file=${this.dir}/supervisor.sock
[supervisord]
nodaemon=true
logfile=${this.dir}/supervisord.log
pidfile=${this.dir}/supervisord.pid
childlogdir=${this.dir}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://${this.dir}/supervisor.sock
[program:${program}]
command=${argv.join(' ').replace(/'/g, '"')}
directory=${d}
environment=${env.map((e) => e.replace('=', '=').replace(/'/g, '"')).join(',')}
autorestart=true
startsecs=0
stopwaitsecs=60
redirect_stderr=true
stdout_logfile=${d}/log
`,
    );
    this.exec('supervisord', ['-c', conf], { stdio: 'ignore' });
    let pid = 0;
    await this.waitFor(`supervisord to run ${program}`, () => {
      const m = /RUNNING\s+pid (\d+)/.exec(this.supervisorctl(['status', program]));
      pid = m ? Number(m[1]) : 0;
      return pid !== 0 && this.processes().some((p) => p.pid === pid);
    });
    return pid;
  }

  /**
   * A real runit (Debian `runit`): `runsvdir` over `<dir>/service`, where `<name>` is a symlink to the
   * service directory `<dir>/sv/<name>` (as /etc/service -> /etc/sv on a host), whose `run` execs one
   * Sidekiq: runsvdir -> runsv -> sidekiq. Returns the service directory and the Sidekiq's pid.
   */
  async startRunit(name: string, opts: SidekiqOptions = {}): Promise<{ svDir: string; pid: number }> {
    const { d, env, argv } = this.sidekiqSetup(opts);
    const svDir = join(this.dir, 'sv', name);
    const serviceDir = join(this.dir, 'service');
    mkdirSync(svDir, { recursive: true });
    mkdirSync(serviceDir, { recursive: true });
    writeFileSync(
      join(svDir, 'run'),
      `#!/bin/sh\ncd ${shq(d)} && exec env ${env.join(' ')} ${argv.join(' ')} >>log 2>&1\n`,
    );
    chmodSync(join(svDir, 'run'), 0o755);
    symlinkSync(svDir, join(serviceDir, name));
    if (!this.runsvdir) this.runsvdir = this.exec('runsvdir', ['-P', serviceDir], { stdio: 'ignore' });
    let pid = 0;
    await this.waitFor(`runsv to run sidekiq in ${svDir}`, () => {
      pid = this.svPid(svDir);
      return pid !== 0 && this.processes().some((p) => p.pid === pid);
    });
    return { svDir, pid };
  }

  /** The pid (inside the host) runsv reports for the service directory now; 0 when down. */
  svPid(svDir: string): number {
    const pid = Number(readProc(join(svDir, 'supervise', 'pid'))?.trim() || 0);
    return pid && this.isLive(pid) ? pid : 0;
  }

  /** `sv ARGS` against this host's runsv processes (status files; no pid namespace needed). */
  sv(args: string[]): string {
    const r = spawnSync('sv', args, { encoding: 'utf8' });
    return (r.stdout ?? '') + (r.stderr ?? '');
  }

  /** supervisorctl against this host's supervisord (its pids are the host's own, not the namespace's). */
  supervisorctl(args: string[]): string {
    const r = spawnSync('supervisorctl', ['-c', join(this.dir, 'supervisord.conf'), ...args], {
      encoding: 'utf8',
    });
    return (r.stdout ?? '') + (r.stderr ?? '');
  }

  /** An unprivileged process (nobody) whose whole title is `title`: what any local user can do. */
  spawnHostile(title: string): ChildProcess {
    return this.exec(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'ruby', '-e', '$0 = ARGV[0]; sleep 120', title],
      { stdio: 'ignore' },
    );
  }

  /** The record file of stop for wake in this host: `stopped.<pid namespace inode>.<cksum of --match>`. */
  recordName(match = ''): string {
    const ns = /\[(\d+)\]/.exec(this.pidNs)?.[1] ?? '0';
    const sum = spawnSync('cksum', [], { input: match, encoding: 'utf8' }).stdout.split(' ')[0];
    return `stopped.${ns}.${sum}`;
  }

  /** `count` runit services, each running fake-sidekiq.rb with `env`, all started at once. */
  async startRunitFakes(count: number, env: Record<string, string>): Promise<string[]> {
    const serviceDir = join(this.dir, 'service');
    mkdirSync(serviceDir, { recursive: true });
    const dirs: string[] = [];
    for (let i = 0; i < count; i++) {
      const svDir = join(this.dir, 'sv', `fake${i}`);
      mkdirSync(svDir, { recursive: true });
      const vars = Object.entries({ ...env, FAKE_SIGNAL_LOG: join(svDir, 'signals') })
        .map(([k, v]) => `${k}=${shq(v)}`)
        .join(' ');
      writeFileSync(
        join(svDir, 'run'),
        `#!/bin/sh\nexec env ${vars} ruby ${shq(join(APP_DIR, 'fake-sidekiq.rb'))}\n`,
      );
      chmodSync(join(svDir, 'run'), 0o755);
      symlinkSync(svDir, join(serviceDir, `fake${i}`));
      dirs.push(svDir);
    }
    if (!this.runsvdir) this.runsvdir = this.exec('runsvdir', ['-P', serviceDir], { stdio: 'ignore' });
    await this.waitFor(
      `${count} runit fakes with a title`,
      () => {
        const titled = new Set(this.processes().map((p) => p.pid));
        return dirs.every((d) => titled.has(this.svPid(d)));
      },
      120_000,
      250,
    );
    return dirs;
  }

  /** A process titled `title` with pid `pid` inside the host (ns_last_pid), writing `marker` on TERM. */
  async spawnAtPid(pid: number, title: string, marker: string): Promise<boolean> {
    const ruby = `trap("TERM") { File.write(ARGV[1], "TERM") }; t = ARGV[0]; $0 = t; sleep 120`;
    const script = `for i in $(seq 200); do
  echo ${pid - 1} >/proc/sys/kernel/ns_last_pid
  setpriv --reuid=65534 --regid=65534 --clear-groups ruby -e ${shq(ruby)} ${shq(title)} ${shq(marker)} &
  [ "$!" = ${pid} ] && exit 0
  kill $! 2>/dev/null
done
exit 1`;
    const child = this.exec('sh', ['-c', script], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) return false;
    await this.waitFor(`pid ${pid} to take its title`, () =>
      this.processes().some((p) => p.pid === pid && p.title === title),
    );
    return true;
  }

  /** What stop recorded for wake, over every record file (one per PID namespace and --match). */
  stoppedRecords(): string {
    if (!existsSync(this.stateDir)) return '';
    return readdirSync(this.stateDir)
      .filter((n) => n.startsWith('stopped.'))
      .sort()
      .map((n) => readFileSync(join(this.stateDir, n), 'utf8'))
      .join('');
  }

  systemctlCalls(): string[] {
    return readFileSync(join(this.dir, 'systemd', 'calls'), 'utf8')
      .split('\n')
      .filter(Boolean);
  }

  /** Starts sidekiq-app/fake-sidekiq.rb (other versions' titles) inside the host. */
  spawnFake(env: Record<string, string>): ChildProcess {
    return this.exec('ruby', [join(APP_DIR, 'fake-sidekiq.rb')], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
  }

  private nsPidOf(hostPid: number): number {
    return this.allProcs().find((x) => x.hostPid === hostPid)?.pid ?? 0;
  }

  private hostPidOf(nsPid: number): number {
    const p = this.allProcs().find((x) => x.pid === nsPid);
    if (!p) throw new Error(`pid ${nsPid} not found in host`);
    return p.hostPid;
  }

  private allProcs(): ProcInfo[] {
    const out: ProcInfo[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        if (readlinkSync(`/proc/${e}/ns/pid`) !== this.pidNs) continue;
      } catch {
        continue;
      }
      const status = readProc(`/proc/${e}/status`) ?? '';
      const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      const stat = readProc(`/proc/${e}/stat`) ?? '';
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      const title = (readProc(`/proc/${e}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
      if (ns && ns.length > 1) out.push({ pid: Number(ns[ns.length - 1]), hostPid: Number(e), title, state });
    }
    return out;
  }

  /** Live (not zombie) processes of this host with a Sidekiq title. */
  processes(): ProcInfo[] {
    return this.allProcs().filter((p) => /^sidekiq \d/.test(p.title) && !/[ZX]/.test(p.state));
  }

  isLive(pid: number): boolean {
    return this.allProcs().some((p) => p.pid === pid && !/[ZX]/.test(p.state));
  }

  async enqueue(seconds: number, count = 1, klass: JobClass = 'SleepJob'): Promise<string[]> {
    const jids = Array.from({ length: count }, () => randomBytes(12).toString('hex'));
    const now = Date.now() / 1000;
    const payloads = jids.map((jid) =>
      JSON.stringify({
        class: klass,
        args: [seconds],
        queue: 'default',
        jid,
        retry: true,
        created_at: now,
        enqueued_at: now,
      }),
    );
    this.redis(['SADD', 'queues', 'default']);
    // BRPOP takes from the right: push in reverse so jobs run in the order enqueued.
    const n = Number(this.redis(['LPUSH', 'queue:default', ...payloads]).trim());
    if (!(n >= count)) throw new Error(`enqueue failed (LPUSH answered ${n})`);
    this.jids.push(...jids);
    return jids;
  }

  private marker(jid: string, what: 'started' | 'done'): { pid: number; time: number } | undefined {
    const text = readProc(join(this.markerDir, `${jid}.${what}`));
    return text ? (JSON.parse(text) as { pid: number; time: number }) : undefined;
  }

  /** When each completed job finished (epoch seconds), by jid. */
  doneTimes(): Map<string, number> {
    const m = new Map<string, number>();
    for (const jid of this.jids) {
      const d = this.marker(jid, 'done');
      if (d) m.set(jid, d.time);
    }
    return m;
  }

  async accounting(): Promise<Accounting> {
    const inRedis = new Set<string>();
    const lines = [
      ...this.redis(['LRANGE', 'queue:default', '0', '-1']).split('\n'),
      ...this.redis(['ZRANGE', 'retry', '0', '-1']).split('\n'),
      ...this.redis(['ZRANGE', 'schedule', '0', '-1']).split('\n'),
    ];
    for (const line of lines) {
      if (line.startsWith('{')) inRedis.add((JSON.parse(line) as { jid: string }).jid);
    }
    const a: Accounting = {
      enqueued: this.jids.length,
      completed: 0,
      queued: 0,
      running: 0,
      lost: 0,
      lostJids: [],
    };
    for (const jid of this.jids) {
      const started = this.marker(jid, 'started');
      if (this.marker(jid, 'done')) a.completed++;
      else if (inRedis.has(jid)) a.queued++;
      else if (started && this.isLive(started.pid)) a.running++;
      else {
        a.lost++;
        a.lostJids.push(jid);
      }
    }
    return a;
  }

  private countMarkers(): { running: number; completed: number } {
    let running = 0;
    let completed = 0;
    for (const jid of this.jids) {
      if (this.marker(jid, 'done')) completed++;
      else if (this.marker(jid, 'started')) running++;
    }
    return { running, completed };
  }

  async waitForRunning(n: number, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(`${n} jobs running`, () => this.countMarkers().running >= n, timeoutMs);
  }

  async waitForCompleted(n: number, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(`${n} jobs completed`, () => this.countMarkers().completed >= n, timeoutMs);
  }

  async waitFor(
    what: string,
    check: () => boolean | Promise<boolean>,
    timeoutMs = 30_000,
    everyMs = 100,
  ): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(everyMs);
    }
  }

  private scriptEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${FAKE_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      FAKE_SYSTEMD_DIR: join(this.dir, 'systemd'),
      SIDEKIQCTL_STATE_DIR: this.stateDir,
    };
  }

  /** Runs ssm/sidekiqctl.sh (or opts.script) inside the host; the systemctl stand-in comes first on PATH. */
  runScript(
    args: string[],
    opts: { shell?: Shell; env?: Record<string, string>; timeoutMs?: number; script?: string } = {},
  ): Promise<ScriptResult> {
    const [sh, ...shArgs] = SHELL_ARGV[opts.shell ?? 'dash'];
    const started = Date.now();
    const child = this.exec(sh!, [...shArgs, opts.script ?? SCRIPT, ...args], {
      env: { ...this.scriptEnv(), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 120_000);
    return new Promise((res) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        const seconds = (Date.now() - started) / 1000;
        const last = stdout.trimEnd().split('\n').pop() ?? '';
        let json: ScriptJson | undefined;
        try {
          json = JSON.parse(last) as ScriptJson;
        } catch {
          json = undefined;
        }
        res({ code, stdout, stderr, json, seconds });
      });
    });
  }

  /** Synchronous kill of the namespace's PID 1 (the kernel then kills the rest). */
  killNow(): void {
    try {
      process.kill(this.initPid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
  }

  async cleanup(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.killNow();
    if (this.unshare.exitCode === null && this.unshare.signalCode === null) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 5000);
        this.unshare.once('exit', () => {
          clearTimeout(timer);
          r();
        });
      });
    }
    this.unshare.stdin?.destroy();
    for (const root of this.cgroupRoots) await removeCgroupTree(root);
    openHosts.delete(this);
    if (!process.env.KEEP_SIDEKIQ_HOST && existsSync(this.dir))
      rmSync(this.dir, { recursive: true, force: true });
  }
}

/** rmdir a cgroup and its children, deepest first; retries while the dead processes leave it. */
async function removeCgroupTree(root: string): Promise<void> {
  const dirs: string[] = [];
  const walk = (d: string) => {
    dirs.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  if (!existsSync(root)) return;
  walk(root);
  for (const d of dirs.reverse()) {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(d);
        break;
      } catch {
        await sleep(50);
      }
    }
  }
}

export async function cleanupAllHosts(): Promise<void> {
  await Promise.all([...openHosts].map((h) => h.cleanup()));
}
