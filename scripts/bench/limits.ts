// The machine's physical limits, measured by the benchmark suite (scripts/bench/suite.ts) in the same run as the
// paths it compares with them:
//   - Ed25519 verifications per second on one core: node:crypto `verify` (OpenSSL), one-shot, 600-byte messages;
//   - SHA-256 per second on one core, 64-byte inputs (an interior Merkle node) and 1 KiB inputs (an entry), node:crypto;
//   - SQLite commits per second with journal_mode=WAL and synchronous=FULL (each one fsynced) on the disk of `dir`;
//   - a bare Hono hello-world (`GET /` answering a small JSON body) served by @hono/node-server, the registry's own
//     HTTP stack, in a child process started like the registry (`node --import tsx`), loaded by the same load client
//     (api-support.ts runLoad) with the same number of connections; its start-up time and RSS are the floor of the
//     registry's;
//   - the same server answering `GET /v/{issuer}/{number}` with a constant verdict (the verify route's shape, headers
//     and size, no lookup): the ceiling of the verification path on this stack, whatever the registry does.
//
//   npx tsx scripts/bench/limits.ts [--seconds 2] [--clients 64] [--dir PATH]
//
// `--hello` makes this file the hello-world server itself (PORT from the environment, 0 for any free port).
import { createHash, generateKeyPairSync, hash, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { processCpuSeconds, processMemory, runLoad, spawnListening, summarize, type LatencySummary, type ServerChild } from './api-support.js';
import { watchOtherLoad } from './machine-load.js';
import type { Verdict } from '../../src/core/verdict.js';

/** A rate measured on one thread: operations per wall second, and per CPU second (what one whole core gives). */
export interface CoreRate {
  perSecond: number;
  perCpuSecond: number;
  operations: number;
}

/** A server on the registry's HTTP stack under the load client. */
export interface ServedRate {
  requestsPerSecond: number;
  latency: LatencySummary;
  errors: number;
  /** CPU milliseconds of the server per request. */
  serverCpuMs: number;
  otherCores: number;
}

export interface HelloLimit extends ServedRate {
  /** The same server answering a constant verdict on the verify route (VERDICT_BODY): no lookup, the same bytes out. */
  constantVerdict: ServedRate & { bytes: number };
  startMs: number;
  /** RSS of the server after both loads, bytes. */
  rss: number | null;
}

export interface Limits {
  ed25519Verify: CoreRate;
  sha256Of64: CoreRate;
  sha256Of1k: CoreRate;
  sqliteCommits: CoreRate & { latency: LatencySummary };
  hello: HelloLimit;
}

/** Runs `op` in batches for about `seconds`, on this thread. */
function timed(seconds: number, batch: number, op: () => void): CoreRate {
  for (let i = 0; i < batch; i++) op(); // warm-up
  let operations = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) op();
    operations += batch;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: operations / wall, perCpuSecond: operations / ((cpu.user + cpu.system) / 1e6), operations };
}

export function ed25519Limit(seconds: number): CoreRate {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const messages = Array.from({ length: 64 }, () => randomBytes(600));
  const signatures = messages.map((m) => sign(null, m, privateKey));
  let i = 0;
  return timed(seconds, 64, () => {
    const k = i++ % 64;
    if (!verify(null, messages[k]!, publicKey, signatures[k]!)) throw new Error('Ed25519 verification failed');
  });
}

export function sha256Limit(seconds: number, size: number): CoreRate {
  const input = randomBytes(size);
  return timed(seconds, 1024, () => hash('sha256', input, 'buffer'));
}

/** One-row transactions on a new WAL database in `dir` with synchronous=FULL: each COMMIT is an fsync. */
export function sqliteCommitLimit(dir: string, seconds: number): CoreRate & { latency: LatencySummary } {
  const scratch = mkdtempSync(join(dir, 'commit-limit-'));
  const db = new Database(join(scratch, 'commits.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (data) VALUES (?)');
    const commit = db.transaction((data: Buffer) => insert.run(data));
    const row = createHash('sha256').update('row').digest();
    const latencies: number[] = [];
    const rate = timed(seconds, 1, () => {
      const t0 = performance.now();
      commit(row);
      latencies.push(performance.now() - t0);
    });
    return { ...rate, latency: summarize(Float64Array.from(latencies)) };
  } finally {
    db.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The hello-world server on the registry's HTTP stack, loaded like the registry by `clients` connections. */
export async function helloLimit(root: string, clients: number, seconds: number): Promise<HelloLimit> {
  const server = await spawnListening(root, [], [fileURLToPath(import.meta.url), '--hello'], { PORT: '0' });
  try {
    const hello = await servedRate(server, clients, seconds, '/', HELLO_BODY);
    const verdict = await servedRate(server, clients, seconds, `/v/${VERDICT.issuer}/${VERDICT.number}`, VERDICT_BODY);
    const constantVerdict = { ...verdict, bytes: Buffer.byteLength(VERDICT_BODY) };
    return { ...hello, constantVerdict, startMs: server.startMs, rss: processMemory(server.pid)?.rss ?? null };
  } finally {
    await server.stop();
  }
}

/** `GET path` on `server` by `clients` connections for `seconds` (after an untimed warm-up); each answer must be `body`. */
async function servedRate(server: ServerChild, clients: number, seconds: number, path: string, body: string): Promise<ServedRate> {
  const spec = { method: 'GET' as const, path, headers: { accept: 'application/json' } };
  const check = (r: { status: number; body: string }) => (r.status === 200 && r.body === body ? null : `status ${r.status}`);
  await runLoad({ port: server.port, clients, next: () => spec, check, durationMs: Math.min(2000, seconds * 500) });
  const cpu0 = processCpuSeconds(server.pid);
  const watch = watchOtherLoad();
  const result = await runLoad({ port: server.port, clients, next: () => spec, check, durationMs: seconds * 1000 });
  const serverCpu = processCpuSeconds(server.pid) - cpu0;
  return {
    requestsPerSecond: result.requests / result.seconds,
    latency: summarize(result.latencies),
    errors: result.errors,
    serverCpuMs: (serverCpu * 1000) / result.requests,
    otherCores: watch.stop(serverCpu),
  };
}

export async function measureLimits(root: string, dir: string, { seconds, clients }: { seconds: number; clients: number }): Promise<Limits> {
  return {
    ed25519Verify: ed25519Limit(seconds),
    sha256Of64: sha256Limit(seconds, 64),
    sha256Of1k: sha256Limit(seconds, 1024),
    sqliteCommits: sqliteCommitLimit(dir, seconds),
    hello: await helloLimit(root, clients, seconds),
  };
}

const HELLO_BODY = JSON.stringify({ hello: 'world' });

/** A valid certificate's verdict as `GET /v/{issuer}/{number}` answers it (the benchmark datasets' shape and size). */
const VERDICT: { id: string; issuer: string; number: string } & Verdict = {
  id: 'https://bench.certrail.example/v/bench-cb/BENCH-0500000',
  issuer: 'bench-cb',
  number: 'BENCH-0500000',
  valid: true,
  status: 'active',
  surveillance: 'current',
  surveillanceDue: '2027-05-24T09:17:01Z',
  validFrom: '2025-11-22T21:17:01Z',
  validUntil: '2028-11-21T21:17:01Z',
  checks: [
    { name: 'signature', ok: true, detail: 'signed by https://bench.certrail.example/issuers/bench-cb#key-1' },
    { name: 'issuer-key', ok: true, detail: 'key key-1 was valid when the certificate was logged' },
    { name: 'logged', ok: true, detail: 'logged at index 500001' },
    { name: 'events', ok: true, detail: '0 event(s), signed and chained' },
    { name: 'status', ok: true, detail: 'active' },
    { name: 'validity', ok: true, detail: 'valid from 2025-11-22T21:17:01Z until 2028-11-21T21:17:01Z' },
    { name: 'surveillance', ok: true, detail: 'next surveillance audit due by 2027-05-24T09:17:01Z' },
  ],
};
const VERDICT_BODY = JSON.stringify(VERDICT);

function serveHello(): void {
  const app = new Hono();
  app.get('/', (c) => c.json({ hello: 'world' }));
  // The verify route's work less the registry's: params read, headers set, the verdict serialized, nothing looked up.
  app.get('/v/:issuer/:number', async (c) => {
    const { issuer, number } = c.req.param();
    c.header('Vary', 'Accept');
    c.header('Cache-Control', 'no-cache');
    return c.json({ ...VERDICT, issuer, number });
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? '0') }, (info) => {
    console.log(`hello-world listening on http://127.0.0.1:${info.port}`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { hello: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' }, clients: { type: 'string', default: '64' }, dir: { type: 'string' } },
    strict: true,
  });
  if (values.hello) return serveHello();
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  if (!(seconds > 0) || !Number.isSafeInteger(clients) || clients < 1) throw new Error('--seconds must be > 0 and --clients a positive integer');
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
  const limits = await measureLimits(root, values.dir ?? tmpdir(), { seconds, clients });
  const r = (x: CoreRate) => `${Math.round(x.perCpuSecond).toLocaleString('en-US')}/CPU-s`;
  console.log(
    `limits: Ed25519 verify ${r(limits.ed25519Verify)}, SHA-256 64 B ${r(limits.sha256Of64)}, 1 KiB ${r(limits.sha256Of1k)}, ` +
      `SQLite FULL commits ${Math.round(limits.sqliteCommits.perSecond).toLocaleString('en-US')}/s, hello-world ${Math.round(limits.hello.requestsPerSecond).toLocaleString('en-US')} req/s ` +
      `(p99 ${limits.hello.latency.p99.toFixed(1)} ms, ${limits.hello.errors} errors, start-up ${limits.hello.startMs.toFixed(0)} ms), ` +
      `constant verdict ${Math.round(limits.hello.constantVerdict.requestsPerSecond).toLocaleString('en-US')} req/s (${limits.hello.constantVerdict.errors} errors)`,
  );
  if (limits.hello.errors + limits.hello.constantVerdict.errors > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
