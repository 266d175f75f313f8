// Runs the Workers entry locally and offline under `wrangler dev --local` (workerd, local D1 and Durable Objects), for
// `npm run dev:worker`, the Worker tests and the Worker benchmark.
//
// - Offline: WRANGLER_SEND_METRICS=false and CLOUDFLARE_CF_FETCH_ENABLED=false, `--local`, state in `--persist-to`.
// - Migrations: the drizzle migrations in schema/migrations are applied with `wrangler d1 migrations apply --local`
//   once into a template folder (keyed by the migrations' content), which fresh state folders are copied from.
// - Secrets go into an env file (mode 0600) passed with `--env-file`, never on the command line.
// - wrangler is started in its own process group (setsid) and stopped by signalling the whole group: stopping only
//   the wrangler process leaves workerd running.
// - `wrangler dev` always watches its sources and restarts the Worker (and its Durable Objects) when one changes, and
//   every running `wrangler dev` restarts when another one starts or stops (they share a dev registry). Tests and
//   benchmarks therefore run on a snapshot of the sources (`snapshotTo`) that nothing edits meanwhile, with a dev
//   registry of their own and no config watching.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const MIGRATIONS = join(ROOT, 'schema', 'migrations');

/** The environment every wrangler command runs with: no metrics, no network look-ups. */
export function offlineEnv(): NodeJS.ProcessEnv {
  return { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(args: string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: options.cwd ?? ROOT, env: offlineEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`wrangler ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS).filter((n) => n.endsWith('.sql')).sort()) {
    hash.update(name).update('\0').update(readFileSync(join(MIGRATIONS, name))).update('\0');
  }
  hash.update(readFileSync(join(ROOT, 'wrangler.toml')));
  return hash.digest('hex').slice(0, 16);
}

/** Applies the migrations to the local D1 under `persistTo` (what `wrangler d1 migrations apply --local` does). */
export async function applyMigrations(persistTo: string): Promise<void> {
  await run(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo]);
}

/**
 * Makes `persistTo` a fresh local state with every migration applied, copied from a template that is built once per
 * set of migrations (in the OS temp folder, shared by parallel test processes: built aside, then renamed into place).
 */
export async function freshState(persistTo: string): Promise<void> {
  const template = join(tmpdir(), `certrail-d1-template-${migrationsHash()}`);
  if (!existsSync(template)) {
    const building = mkdtempSync(`${template}.building-`);
    await applyMigrations(building);
    try {
      renameSync(building, template);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another process won the race: its template is the same
    }
  }
  mkdirSync(dirname(persistTo), { recursive: true });
  cpSync(template, persistTo, { recursive: true });
}

/** What the Worker build reads: its sources, the schema, the assets and the configuration. */
const SNAPSHOT = ['wrangler.toml', 'package.json', 'tsconfig.json', 'src', 'schema', 'public', 'test/worker/entry.ts'];

/** Copies the Worker's sources to `dest` (node_modules is linked), for a `wrangler dev` that no edit can restart. */
export function snapshotProject(dest: string): void {
  for (const path of SNAPSHOT) {
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(dest, path), { recursive: true });
  }
  if (!existsSync(join(dest, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'), 'dir');
}

export interface WranglerDevOptions {
  /** Local state folder (D1, Durable Objects, cache). */
  persistTo: string;
  /** The Worker entry (a path under the project); default wrangler.toml's `main` (src/worker.ts). */
  entry?: string;
  /** Run on a snapshot of the sources made in this folder (see above); default: on the working tree, watching it. */
  snapshotTo?: string;
  /** Listen port on 127.0.0.1; default a free one. */
  port?: number;
  /** Plain variables (`--var NAME:VALUE`). */
  vars?: Record<string, string>;
  /** Secrets, written to `envFile` (mode 0600) and passed with `--env-file`. */
  secrets?: Record<string, string>;
  envFile: string;
  /** Print wrangler's output (dev:worker) instead of collecting it (tests, benchmarks). */
  inheritOutput?: boolean;
  /** How long to wait for the Worker to answer, in ms. */
  startTimeoutMs?: number;
}

export interface WranglerDev {
  url: string;
  port: number;
  /** wrangler's pid, which is also the id of the process group it and workerd run in. */
  pid: number;
  /** What wrangler printed so far (empty with inheritOutput). */
  output(): string;
  /** Stops wrangler and workerd (the whole process group). */
  close(): Promise<void>;
  /** Resolves when wrangler has exited. */
  exited: Promise<number | null>;
}

function dotenvLine(name: string, value: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`bad secret name ${name}`);
  if (/[\r\n]/.test(value)) throw new Error(`secret ${name} must be one line`);
  // Single quotes: dotenv takes the value literally (JSON and base64 need no escaping).
  if (value.includes("'")) throw new Error(`secret ${name} must not contain a single quote`);
  return `${name}='${value}'\n`;
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts `wrangler dev --local` and resolves once the Worker answers GET /healthz (which also starts the sequencer). */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  mkdirSync(dirname(options.envFile), { recursive: true });
  writeFileSync(
    options.envFile,
    Object.entries(options.secrets ?? {})
      .map(([name, value]) => dotenvLine(name, value))
      .join(''),
    { mode: 0o600 },
  );
  let cwd = ROOT;
  let entry = options.entry;
  if (options.snapshotTo) {
    snapshotProject(options.snapshotTo);
    cwd = options.snapshotTo;
    if (entry) entry = join(options.snapshotTo, relative(ROOT, entry));
  }
  const args = [
    WRANGLER,
    'dev',
    ...(entry ? [entry] : []),
    '--local',
    '--persist-to',
    options.persistTo,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--env-file',
    options.envFile,
    '--show-interactive-dev-session=false', ...(process.env.WRANGLER_DEBUG_LOG ? ['--log-level', 'debug'] : []),
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  // detached: a new session and process group (setsid), so that close() reaches workerd too.
  const env = offlineEnv();
  if (options.snapshotTo) {
    env.WRANGLER_REGISTRY_PATH = join(options.snapshotTo, '.dev-registry');
    env.WRANGLER_CI_DISABLE_CONFIG_WATCHING = 'true';
  }
  const child = spawn(process.execPath, args, {
    cwd,
    env,
    detached: true,
    stdio: options.inheritOutput ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  // If the test or script process dies, do not leave workerd behind.
  const onExit = () => stopGroup(child, 'SIGKILL');
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    process.removeListener('exit', onExit);
    if (gone) return;
    stopGroup(child, 'SIGTERM');
    const timer = setTimeout(() => stopGroup(child, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    // wrangler may exit before workerd does: make sure the rest of the group is gone too.
    stopGroup(child, 'SIGKILL');
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  for (;;) {
    if (gone) throw new Error(`wrangler dev exited before it answered:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      if (res.status === 503 && Date.now() > deadline) throw new Error(`the Worker answers 503 at start:\n${output}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the Worker answers')) {
        await close();
        throw error;
      }
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`wrangler dev did not answer within ${options.startTimeoutMs ?? 90_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, pid: child.pid ?? 0, output: () => output, close, exited };
}
