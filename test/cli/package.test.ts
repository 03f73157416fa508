import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupAllHosts, SidekiqHost } from '../support/sidekiq-host';
import { buildCli } from './support/build-cli';

/**
 * The package a teammate installs: `npm pack` of this package.json (its `bin` and `files`) with the
 * bundle, installed offline into an empty prefix — so it must need nothing from a registry — and run
 * from outside the checkout. Built in a temporary directory: dist/ belongs to the other tests.
 */
jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
let tmp: string;
let bin: string;
let tarball: string;
let host: SidekiqHost;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'snowwhite-package-'));
  const pkg = join(tmp, 'src');
  mkdirSync(join(pkg, 'dist', 'runner'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(ROOT, 'README.md'), join(pkg, 'README.md'));
  await buildCli(join(pkg, 'dist', 'runner'));
  const npm = (args: string[], cwd: string) =>
    execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } });
  // --ignore-scripts: the bundle is built above (`prepare` would rebuild dist/ in place).
  const packed = JSON.parse(
    npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], pkg),
  ) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(tmp, packed[0]!.filename);
  (globalThis as { packedFiles?: string[] }).packedFiles = packed[0]!.files.map((f) => f.path).sort();
  const prefix = join(tmp, 'prefix');
  npm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], tmp);
  bin = join(prefix, 'bin', 'snowwhite');
  host = await SidekiqHost.start({ heartbeat: 0.5 });
});
afterAll(async () => {
  await cleanupAllHosts();
  rmSync(tmp, { recursive: true, force: true });
});

test('the package holds the bundle, the README and package.json, and needs no other package', () => {
  expect((globalThis as { packedFiles?: string[] }).packedFiles).toEqual([
    'README.md',
    'dist/runner/cli.js',
    'package.json',
  ]);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.dependencies).toBeUndefined();
  const installed = join(tmp, 'prefix', 'lib', 'node_modules', 'snowwhite');
  expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'package.json']);
});

/** The installed command, run from a directory far from the checkout, with no AWS settings. */
function installed(
  argv: string[],
  inside = false,
): Promise<{ code: number | null; out: string; err: string }> {
  const cwd = mkdtempSync(join(tmp, 'elsewhere-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: cwd,
    SIDEKIQCTL_STATE_DIR: mkdtempSync(join(tmp, 'state-')),
  };
  const child = inside
    ? host.exec(bin, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
}

test('--version and doctor --help work from anywhere', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(await installed(['--version'])).toEqual({ code: 0, out: `snowwhite ${version}\n`, err: '' });
  const doctor = await installed(['doctor', '--help']);
  expect(doctor.code).toBe(0);
  expect(doctor.out).toMatch(/^usage: snowwhite doctor/);
});

test('status --local finds a real Sidekiq with the script the bundle carries', async () => {
  const tag = `package-${process.pid}`;
  const worker = await host.startSidekiq({ concurrency: 2, tag });
  const r = await installed(['status', '--local', '--match', tag], true);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain(`pid ${worker.pid} (${tag}) awake 0/2 busy`);
  expect(r.out).toMatch(/\nstatus on this host finished in \d+s: 1 reported\n/);
  host.exec('sh', [worker.ctl, 'stop']);
});
