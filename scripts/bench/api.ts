// API load benchmark (not a test): issuance of client-signed certificates over HTTP with concurrent keep-alive
// clients, and `GET /v/{issuer}/{number}` verification with a large log, against the real server (src/node.ts) run as
// a child process, so that the load client and the server each have their own process and CPU accounting.
//
//   npx tsx scripts/bench/api.ts [--certs 1000000] [--issue 20000] [--clients 64] [--write]
//
// Phases:
//   1. issue:  start the server on a new database, register the benchmark CB with an operator token (registry key
//              file), pre-sign the credentials and pre-mint one single-use JWT per request in this process (the CB's
//              cost, not the registry's), then POST them over `--clients` keep-alive connections: --warmup requests
//              untimed, then --issue timed ones. Every answer must be 201 with a receipt.
//   2. build:  on a second database (the large log: the CB registered over HTTP, then the server stopped), a child
//              process (api-bulk.ts) adds certificates until it holds --certs of them, through the sequencer and
//              index rows the registry itself uses (see api-bulk.ts for what it skips and why).
//   3. verify: restart the server on that database and GET random certificates' verify URLs with
//              `Accept: application/json` over `--clients` connections for --duration seconds (after --verify-warmup
//              seconds untimed). Every answer must be 200 with `valid: true`. Server RSS is read from /proc.
//   4. batch:  restart the server on the large log and POST /api/v1/verify with --verify-batch random certificate ids
//              per request over --batch-clients connections for --duration seconds. Every answer must be 200 with one
//              `valid: true` verdict per id; the rate is certificates per second.
//   5. issue-large: --issue-large more issuances over HTTP on the large log (receipts prove against a big tree).
//
// --servers N serves the verify and batch phases from N processes on the same database (one sequences, the others
// follow; src/log/leader.ts), with the clients spread over them: reads scale across processes. Server CPU is summed.
//
// --profile runs the server children under `node --cpu-prof` and prints (and with --write records) the functions
// with the most CPU time per phase; profiled numbers carry the profiler's overhead, so measure without it.
// --dir DIR keeps the large log in DIR/large, reused by the next run with the same DIR (the build only tops it up), so
// the measured phases can be repeated without rebuilding. --phases issue,build,verify,batch,issue-large picks phases.
//
// The server children run with CERTRAIL_RATE_LIMIT=off unless it is set: the benchmark issues thousands of writes a
// second from one CB, far past the default per-CB limit (100/s, bursts of 1000), and measures throughput, not limits.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { logOriginFor } from '../../src/node.js';
import type { BulkArgs, BulkMessage } from './api-bulk.js';
import {
  BENCH_BASE_URL,
  BENCH_ISSUER,
  BENCH_KEY_ID,
  benchCertificate,
  benchCertificateId,
  certificateDates,
  certificateNumber,
  CertificateSigner,
  healthSize,
  machine,
  processCpuSeconds,
  processMemory,
  registerIssuer,
  runLoad,
  startServer,
  summarize,
  summarizeProfile,
  type CertificateDates,
  type HttpResponse,
  type LatencySummary,
  type LoadResult,
  type Machine,
  type ProfileRow,
  type ServerChild,
} from './api-support.js';
import { watchOtherLoad } from './machine-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
process.env.CERTRAIL_RATE_LIMIT ??= 'off'; // inherited by the server children (see the header)
const SECTION_TITLE = '## API (certificates)';
const BEGIN = '<!-- api:begin -->';
const END = '<!-- api:end -->';
const NOTES_BEGIN = '<!-- api-notes:begin -->';
const NOTES_END = '<!-- api-notes:end -->';

const { values: opts } = parseArgs({
  options: {
    certs: { type: 'string', default: '1000000' },
    issue: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '64' },
    duration: { type: 'string', default: '25' },
    'verify-warmup': { type: 'string', default: '3' },
    'issue-large': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '1024' },
    workers: { type: 'string', default: '1' },
    phases: { type: 'string', default: 'issue,build,verify,batch,issue-large' },
    'verify-batch': { type: 'string', default: '1000' },
    'batch-clients': { type: 'string', default: '4' },
    servers: { type: 'string', default: '1' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
  strict: true,
});

function count(name: string, text: string | undefined, min = 0): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

const CERTS = count('certs', opts.certs);
const ISSUE = count('issue', opts.issue, 1);
const WARMUP = count('warmup', opts.warmup);
const CLIENTS = count('clients', opts.clients, 1);
const VERIFY_BATCH = count('verify-batch', opts['verify-batch'], 1);
const BATCH_CLIENTS = count('batch-clients', opts['batch-clients'], 1);
const SERVERS = count('servers', opts.servers, 1);
const DURATION_S = count('duration', opts.duration, 1);
const VERIFY_WARMUP_S = count('verify-warmup', opts['verify-warmup']);
const ISSUE_LARGE = count('issue-large', opts['issue-large']);
const BATCH = count('batch', opts.batch, 1);
const WORKERS = count('workers', opts.workers);
const ALL_PHASES = ['issue', 'build', 'verify', 'batch', 'issue-large'];
const PHASES = new Set((opts.phases ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''));
for (const p of PHASES) if (!ALL_PHASES.includes(p)) throw new Error(`--phases: unknown phase ${p} (known: ${ALL_PHASES.join(', ')})`);
const OUT = opts.out ?? (opts.write ? join(ROOT, 'docs', 'PERFORMANCE.md') : undefined);
/** Tokens live at most 300 s (MAX_TOKEN_LIFETIME_S); mint them as late as possible with a little less. */
const TOKEN_LIFETIME_S = 290;

const TARGETS = { issuePerSecond: 2000, issueP99Ms: 300, verifyPerSecond: 5000, verifyP99Ms: 50, batchCertificatesPerSecond: 20_000 };

function log(message: string): void {
  process.stderr.write(`[api-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number, digits = 1): string => `${n.toFixed(digits)} ms`;
const mb = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const pass = (ok: boolean): string => (ok ? 'pass' : '**FAIL**');

// ---------------------------------------------------------------------------------------------------------------
// Run state kept next to the database, so that a later run with the same --dir can reuse it.

interface BenchState {
  seedHex: string;
  dates: CertificateDates;
  /** The next unused certificate number. */
  next: number;
  /** How the build phase made this log, for runs that reuse it. */
  built?: { certificates: number; seconds: number; date: string };
}

function statePath(dir: string): string {
  return join(dir, 'bench-state.json');
}

function saveState(dir: string, state: BenchState): void {
  writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/**
 * --servers processes serving the large log (src/log/leader.ts: the first sequences, the others follow and serve reads
 * from the same file), started one after the other; clients are spread over them.
 */
async function startServers(dir: string, profileDir: string | null): Promise<ServerChild[]> {
  const servers: ServerChild[] = [];
  try {
    for (let k = 0; k < SERVERS; k++) servers.push(await startServer(ROOT, dir, profileDir));
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return servers;
}

/** The summary of the .cpuprofile a profiled child wrote into `profileDir` (null when not profiled or none). */
function profileOf(profileDir: string | null): ReturnType<typeof summarizeProfile> | null {
  if (profileDir === null || !existsSync(profileDir)) return null;
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader hooks run in
  // a worker thread that writes its own profile).
  const file = readdirSync(profileDir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (file === undefined) {
    log(`no CPU profile in ${profileDir}`);
    return null;
  }
  log(`CPU profile: ${join(profileDir, file)}`);
  return summarizeProfile(join(profileDir, file), ROOT);
}

// ---------------------------------------------------------------------------------------------------------------
// Phases

interface LoadPhase {
  /** Log size (entries) when the phase started. */
  logSize: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  serverCpuCores: number;
  clientCpuCores: number;
  /** Cores other processes of the machine kept busy meanwhile. */
  otherCores: number;
  prepSeconds?: number;
  rss?: { rss: number; hwm: number } | null;
  profile?: ReturnType<typeof summarizeProfile> | null;
}

interface BuildPhase {
  added: number;
  seconds: number;
  signSeconds: number;
  waitSeconds: number;
  appendSeconds: number;
  size: number;
  dbBytes: number;
}

interface Results {
  machine: Machine;
  command: string;
  date: string;
  clients: number;
  issue: LoadPhase | null;
  build: BuildPhase | null;
  /** The large log came from an earlier run (--dir): how that run built it. */
  builtEarlier: { certificates: number; seconds: number; date: string } | null;
  verify: LoadPhase | null;
  /** Batch verification: one request verifies VERIFY_BATCH certificates. */
  batch: LoadPhase | null;
  verifyStartMs: number | null;
  verifyListeningRss: { rss: number; hwm: number } | null;
  issueLarge: LoadPhase | null;
  certificates: number;
  profiled: boolean;
}

/** CPU seconds the server processes have used so far. */
function serversCpu(servers: readonly ServerChild[]): number {
  return servers.reduce((sum, server) => sum + processCpuSeconds(server.pid), 0);
}

async function measured(server: ServerChild | readonly ServerChild[], run: () => Promise<LoadResult>): Promise<{ result: LoadResult; serverCpu: number; other: number }> {
  const servers = Array.isArray(server) ? server : [server as ServerChild];
  const cpu0 = serversCpu(servers);
  const watch = watchOtherLoad();
  const result = await run();
  const serverCpu = serversCpu(servers) - cpu0;
  // watchOtherLoad subtracts this process's own CPU; the server child's is passed in.
  const other = watch.stop(serverCpu);
  return { result, serverCpu, other };
}

function loadPhase(logSize: number, m: { result: LoadResult; serverCpu: number; other: number }): LoadPhase {
  const { result } = m;
  return {
    logSize,
    requests: result.requests,
    errors: result.errors,
    errorSamples: result.errorSamples,
    seconds: result.seconds,
    perSecond: result.requests / result.seconds,
    latency: summarize(result.latencies),
    serverCpuCores: m.serverCpu / result.seconds,
    clientCpuCores: result.clientCpuSeconds / result.seconds,
    otherCores: m.other,
  };
}

interface Cb {
  key: TokenKey;
  signer: CertificateSigner;
}

async function cbOf(state: BenchState): Promise<Cb> {
  const seed = fromHex(state.seedHex);
  const publicKey = await ed25519PublicKey(seed);
  return {
    key: { issuer: BENCH_ISSUER, keyId: BENCH_KEY_ID, seed, publicKey },
    signer: new CertificateSigner(seed, `${BENCH_BASE_URL}/issuers/${BENCH_ISSUER}#${BENCH_KEY_ID}`, state.dates.created),
  };
}

function checkReceipt(response: HttpResponse): string | null {
  if (response.status !== 201) return `status ${response.status}: ${response.body.slice(0, 300)}`;
  const receipt = JSON.parse(response.body) as { index?: unknown; tlogProof?: unknown };
  if (typeof receipt.index !== 'number' || typeof receipt.tlogProof !== 'string') return 'not a receipt';
  return null;
}

/**
 * Issues `warmup` (untimed) then `timed` certificates over HTTP, numbered from state.next: all credentials are signed
 * and all tokens minted before the first request.
 */
async function issuePhase(server: ServerChild, state: BenchState, cb: Cb, warmup: number, timed: number, label: string): Promise<LoadPhase> {
  const logSize = await healthSize(server.port);
  const total = warmup + timed;
  const t0 = performance.now();
  const bodies: string[] = [];
  for (let k = 0; k < total; k++) bodies.push(JSON.stringify(cb.signer.sign(benchCertificate(BENCH_BASE_URL, state.next + k, state.dates))));
  const signed = performance.now();
  const tokens: string[] = [];
  for (let k = 0; k < total; k++) tokens.push(await mintToken(cb.key, BENCH_BASE_URL, TOKEN_LIFETIME_S));
  const prepSeconds = (performance.now() - t0) / 1000;
  log(`${label}: signed ${int(total)} credentials in ${((signed - t0) / 1000).toFixed(1)} s and minted ${int(total)} tokens in ${((performance.now() - signed) / 1000).toFixed(1)} s`);
  state.next += total;
  const spec = (k: number) => ({
    method: 'POST' as const,
    path: '/api/v1/certificates',
    headers: { authorization: `Bearer ${tokens[k]!}`, 'content-type': 'application/json' },
    body: bodies[k]!,
  });
  if (warmup > 0) {
    const w = await runLoad({ port: server.port, clients: CLIENTS, next: (i) => (i < warmup ? spec(i) : null), check: checkReceipt });
    log(`${label}: warm-up ${int(w.requests)} issuances, ${int(w.requests / w.seconds)}/s, ${w.errors} errors`);
    if (w.errors > 0) log(`  ${w.errorSamples.join('\n  ')}`);
  }
  const m = await measured(server, () => runLoad({ port: server.port, clients: CLIENTS, next: (i) => (i < timed ? spec(warmup + i) : null), check: checkReceipt }));
  const phase = { ...loadPhase(logSize, m), prepSeconds };
  log(
    `${label}: ${int(phase.requests)} issuances on a log of ${int(logSize)} in ${phase.seconds.toFixed(2)} s = ${int(phase.perSecond)}/s; ` +
      `p50 ${ms(phase.latency.p50)} p95 ${ms(phase.latency.p95)} p99 ${ms(phase.latency.p99)}; ${phase.errors} errors; ` +
      `server ${phase.serverCpuCores.toFixed(2)} cores, client ${phase.clientCpuCores.toFixed(2)}, others ${phase.otherCores.toFixed(2)}`,
  );
  if (phase.errors > 0) log(`  ${phase.errorSamples.join('\n  ')}`);
  return phase;
}

/** Adds certificates state.next … `upTo` with the bulk child (server stopped). */
async function buildPhase(dir: string, state: BenchState, upTo: number): Promise<BuildPhase> {
  const first = state.next;
  const args: BulkArgs = {
    dbPath: join(dir, 'certrail.db'),
    keyDir: join(dir, 'keys'),
    baseUrl: BENCH_BASE_URL,
    logOrigin: logOriginFor(BENCH_BASE_URL),
    seedHex: state.seedHex,
    dates: state.dates,
    first,
    last: upTo,
    batch: BATCH,
    workers: WORKERS,
  };
  const profile = opts.profile ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'profiles', 'build')] : [];
  const child = fork(join(HERE, 'api-bulk.ts'), [], { execArgv: [...profile, '--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const total = upTo - first + 1;
  const done = await new Promise<Extract<BulkMessage, { type: 'done' }>>((resolve, reject) => {
    child.on('message', (message: BulkMessage) => {
      if (message.type === 'progress') {
        log(`build: ${int(message.done)} of ${int(total)} certificates in ${message.seconds.toFixed(0)} s (${int(message.done / message.seconds)}/s)`);
      } else if (message.type === 'done') resolve(message);
      else reject(new Error(`bulk build failed: ${message.message}`));
    });
    child.once('exit', (code) => reject(new Error(`bulk build exited with ${code}`)));
    child.send(args);
  });
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  state.next = upTo + 1;
  saveState(dir, state);
  let dbBytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      dbBytes += statSync(join(dir, `certrail.db${suffix}`)).size;
    } catch {
      // no WAL file
    }
  }
  log(
    `build: ${int(done.done)} certificates in ${done.seconds.toFixed(1)} s (${int(done.done / done.seconds)}/s; signing ${done.signSeconds.toFixed(1)} s ` +
      `in ${WORKERS} worker(s), waiting for them ${done.waitSeconds.toFixed(1)} s, sequencing ${done.appendSeconds.toFixed(1)} s); log size ${int(done.size)}, database ${mb(dbBytes)}`,
  );
  return { added: done.done, seconds: done.seconds, signSeconds: done.signSeconds, waitSeconds: done.waitSeconds, appendSeconds: done.appendSeconds, size: done.size, dbBytes };
}

function checkVerdict(response: HttpResponse): string | null {
  if (response.status !== 200) return `status ${response.status}: ${response.body.slice(0, 300)}`;
  const verdict = JSON.parse(response.body) as { valid?: unknown; status?: unknown };
  if (verdict.valid !== true || verdict.status !== 'active') return `verdict ${response.body.slice(0, 300)}`;
  return null;
}

/** GETs the verify URL of random certificates 1 … `certificates` for DURATION_S seconds. */
async function verifyPhase(servers: readonly ServerChild[], certificates: number): Promise<LoadPhase> {
  const server = servers[0]!;
  const ports = servers.map((s) => s.port);
  const logSize = await healthSize(server.port);
  const spec = () => ({
    method: 'GET' as const,
    path: `/v/${BENCH_ISSUER}/${certificateNumber(1 + Math.floor(Math.random() * certificates))}`,
    headers: { accept: 'application/json' },
  });
  if (VERIFY_WARMUP_S > 0) {
    const w = await runLoad({ port: ports, clients: CLIENTS, next: spec, check: checkVerdict, durationMs: VERIFY_WARMUP_S * 1000 });
    log(`verify: warm-up ${int(w.requests)} requests, ${int(w.requests / w.seconds)}/s, ${w.errors} errors`);
    if (w.errors > 0) log(`  ${w.errorSamples.join('\n  ')}`);
  }
  const m = await measured(servers, () => runLoad({ port: ports, clients: CLIENTS, next: spec, check: checkVerdict, durationMs: DURATION_S * 1000 }));
  const phase = { ...loadPhase(logSize, m), rss: processMemory(server.pid) };
  log(
    `verify: ${int(phase.requests)} verifications of ${int(certificates)} certificates in ${phase.seconds.toFixed(2)} s = ${int(phase.perSecond)}/s; ` +
      `p50 ${ms(phase.latency.p50)} p95 ${ms(phase.latency.p95)} p99 ${ms(phase.latency.p99)}; ${phase.errors} errors; RSS ${phase.rss ? mb(phase.rss.rss) : '?'}; ` +
      `server ${phase.serverCpuCores.toFixed(2)} cores, client ${phase.clientCpuCores.toFixed(2)}, others ${phase.otherCores.toFixed(2)}`,
  );
  if (phase.errors > 0) log(`  ${phase.errorSamples.join('\n  ')}`);
  return phase;
}

function checkBatch(response: HttpResponse): string | null {
  if (response.status !== 200) return `status ${response.status}: ${response.body.slice(0, 300)}`;
  const { results } = JSON.parse(response.body) as { results?: Array<{ verdict?: { valid?: unknown } }> };
  if (!Array.isArray(results) || results.length !== VERIFY_BATCH) return `expected ${VERIFY_BATCH} results: ${response.body.slice(0, 300)}`;
  const invalid = results.findIndex((r) => r.verdict?.valid !== true);
  return invalid < 0 ? null : `item ${invalid}: ${JSON.stringify(results[invalid]).slice(0, 300)}`;
}

/** POSTs batches of VERIFY_BATCH random certificate ids to /api/v1/verify for DURATION_S seconds. */
async function batchPhase(servers: readonly ServerChild[], certificates: number): Promise<LoadPhase> {
  const logSize = await healthSize(servers[0]!.port);
  const spec = () => {
    const items: string[] = [];
    for (let k = 0; k < VERIFY_BATCH; k++) items.push(benchCertificateId(BENCH_BASE_URL, 1 + Math.floor(Math.random() * certificates)));
    return { method: 'POST' as const, path: '/api/v1/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) };
  };
  const ports = servers.map((s) => s.port);
  const load = (durationMs: number) => runLoad({ port: ports, clients: BATCH_CLIENTS, next: spec, check: checkBatch, durationMs });
  if (VERIFY_WARMUP_S > 0) await load(VERIFY_WARMUP_S * 1000);
  const phase = loadPhase(logSize, await measured(servers, () => load(DURATION_S * 1000)));
  log(
    `batch: ${int(phase.requests)} requests of ${int(VERIFY_BATCH)} ids in ${phase.seconds.toFixed(2)} s = ${int(phase.perSecond * VERIFY_BATCH)} certificates/s; ` +
      `p50 ${ms(phase.latency.p50)} p99 ${ms(phase.latency.p99)}; ${phase.errors} errors; ` +
      `server ${phase.serverCpuCores.toFixed(2)} cores, client ${phase.clientCpuCores.toFixed(2)}, others ${phase.otherCores.toFixed(2)}`,
  );
  if (phase.errors > 0) log(`  ${phase.errorSamples.join('\n  ')}`);
  return phase;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

function profileTable(profile: ReturnType<typeof summarizeProfile>): string[] {
  const rows = (list: ProfileRow[], key: 'self' | 'total') => list.map((r) => `| ${pct(r[key])} | ${pct(key === 'self' ? r.total : r.self)} | \`${r.name.replace(/\|/g, '\\|')}\` |`);
  return [
    `Self time (${profile.seconds.toFixed(0)} s profiled, whole server life):`,
    '',
    '| Self | Total | Function |',
    '|---:|---:|---|',
    ...rows(profile.self, 'self'),
    '',
    'Inclusive time:',
    '',
    '| Total | Self | Function |',
    '|---:|---:|---|',
    ...rows(profile.total, 'total'),
  ];
}

function report(r: Results): string {
  const lines: string[] = [];
  lines.push(`Measured ${r.date} with:`, '', '```', r.command, '```', '');
  lines.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory} RAM, Node ${r.machine.node}, ${r.machine.kernel}. ` +
    'The server (`node --import tsx src/node.ts`, as `npm start`) and the load client run as separate processes on the same machine, so they share its cores; ' +
    'SQLite in WAL mode with synchronous=FULL, the sequencer with its defaults (batch 256, 2 ms).');
  if (r.profiled) lines.push('', '**Profiled run** (`node --cpu-prof` on the server): the profiler costs throughput; compare with an unprofiled run.');
  lines.push('', '### Targets', '', '| Measure | Result | Target | |', '|---|---:|---:|---|');
  const i = r.issue;
  if (i) {
    lines.push(`| Issuances/s, ${r.clients} clients (log of ${int(i.logSize)}) | ${int(i.perSecond)} | ≥ ${int(TARGETS.issuePerSecond)} | ${pass(i.perSecond >= TARGETS.issuePerSecond)} |`);
    lines.push(`| Issuance p99 | ${ms(i.latency.p99)} | < ${TARGETS.issueP99Ms} ms | ${pass(i.latency.p99 < TARGETS.issueP99Ms)} |`);
    lines.push(`| Issuance errors | ${i.errors} of ${int(i.requests)} | 0 | ${pass(i.errors === 0)} |`);
  }
  const v = r.verify;
  if (v) {
    lines.push(`| Verifications/s with ${int(r.certificates)} certificates, ${r.clients} clients | ${int(v.perSecond)} | ≥ ${int(TARGETS.verifyPerSecond)} | ${pass(v.perSecond >= TARGETS.verifyPerSecond)} |`);
    lines.push(`| Verification p99 | ${ms(v.latency.p99)} | < ${TARGETS.verifyP99Ms} ms | ${pass(v.latency.p99 < TARGETS.verifyP99Ms)} |`);
    lines.push(`| Verification errors | ${v.errors} of ${int(v.requests)} | 0 | ${pass(v.errors === 0)} |`);
  }
  const b = r.batch;
  if (b) {
    const perSecond = b.perSecond * VERIFY_BATCH;
    lines.push(`| Batch verification, certificates/s (${int(VERIFY_BATCH)} per request, ${BATCH_CLIENTS} clients) | ${int(perSecond)} | ≥ ${int(TARGETS.batchCertificatesPerSecond)} | ${pass(perSecond >= TARGETS.batchCertificatesPerSecond)} |`);
    lines.push(`| Batch verification errors | ${b.errors} of ${int(b.requests)} requests | 0 | ${pass(b.errors === 0)} |`);
  }
  if (v && r.certificates < 1_000_000) lines.push('', `The log held ${int(r.certificates)} certificates, not 1,000,000: the target size was not measured.`);
  const busy = [i, v, b, r.issueLarge].filter((p): p is LoadPhase => p !== null && p.otherCores > 0.25);
  if (busy.length > 0) {
    lines.push('', `**The machine was not idle:** other processes kept ${busy.map((p) => p.otherCores.toFixed(2)).join(' / ')} of its ${r.machine.cores} cores busy ` +
      'during the measured phase(s) (column "Other cores" below), so the server got less CPU than it would alone and these numbers understate it.');
  }

  const loadRows = (name: string, p: LoadPhase, unit: string): string[] => [
    `| ${name} | ${int(p.logSize)} | ${int(p.requests)} | ${p.seconds.toFixed(1)} s | ${int(p.perSecond)} ${unit}/s | ${ms(p.latency.p50)} | ${ms(p.latency.p95)} | ${ms(p.latency.p99)} | ${ms(p.latency.max)} | ${p.errors} | ${p.serverCpuCores.toFixed(2)} | ${ms((p.serverCpuCores / p.perSecond) * 1000, 2)} | ${p.clientCpuCores.toFixed(2)} | ${p.otherCores.toFixed(2)} |`,
  ];
  lines.push('', '### Results', '');
  lines.push('| Phase | Log size at start | Requests | Time | Rate | p50 | p95 | p99 | Max | Errors | Server cores | Server CPU per request | Client cores | Other cores |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  if (i) lines.push(...loadRows('Issue (`POST /api/v1/certificates`)', i, 'issuances'));
  if (v) lines.push(...loadRows(`Verify (\`GET /v/{issuer}/{number}\`, JSON)`, v, 'verifications'));
  if (b) lines.push(...loadRows(`Batch verify (\`POST /api/v1/verify\`, ${int(VERIFY_BATCH)} ids)`, b, 'requests'));
  if (r.issueLarge) lines.push(...loadRows('Issue on the large log', r.issueLarge, 'issuances'));
  lines.push('', '"Server cores" and "Client cores" are the CPU time of the server child and of the load client divided by wall time; ' +
    '"Server CPU per request" is the server\'s CPU time divided by the requests answered (all its threads, so it includes the libuv pool that runs ' +
    'WebCrypto); "Other cores" is what the rest of the machine used meanwhile (from /proc/stat). Latency is from sending the request to the last ' +
    'byte of the answer.');

  lines.push('', '### How it was measured', '');
  if (i) {
    lines.push(`- **Issue.** On a new log (a new database with only the benchmark CB registered): ${int(WARMUP)} untimed warm-up issuances, then ${int(i.requests)} timed ones. Each is a distinct ~1.9 kB certificate signed ` +
      `(eddsa-jcs-2022) with the CB's key, with its own single-use EdDSA JWT. All of them were signed and minted in the client before the first ` +
      `request (${i.prepSeconds?.toFixed(1) ?? '?'} s, not timed): signing is the CB's cost, not the registry's. ${r.clients} clients each keep one ` +
      'request in flight on its own keep-alive connection (raw HTTP/1.1 over node:net; the load client CPU time is reported). A request counts as an error unless it is a 201 with a receipt.');
  }
  if (r.build) {
    const b = r.build;
    lines.push(`- **Build.** ${int(b.added)} certificates were added in ${b.seconds.toFixed(0)} s (${int(b.added / b.seconds)}/s) by ` +
      `\`scripts/bench/api-bulk.ts\` with the server stopped, not over HTTP: the same kind of signed certificates (signed and checked with ` +
      `\`parseDocument(certificateSchema)\` in ${WORKERS === 0 ? 'the sequencing thread' : `${WORKERS} worker thread(s)`}, ${b.signSeconds.toFixed(0)} s of CPU), ` +
      `then \`certificate.issued\` entries through the registry's \`Sequencer\` (batches of ${BATCH}, tiles and signed checkpoints, ` +
      `${b.appendSeconds.toFixed(0)} s) with the index rows \`Registry.issueCertificate\` writes (those of \`RegistryStore.insertCertificate\`, ` +
      'as one multi-row INSERT per table and batch). ' +
      'HTTP, JWT checks, the signature check against the registered key and receipts are skipped (the verify phase checks the signature ' +
      `of every certificate it reads). Log size after: ${int(b.size)} entries; database ${mb(b.dbBytes)}.`);
  }
  if (!r.build && r.builtEarlier) {
    lines.push(`- **Build.** The large log was reused from an earlier run with the same \`--dir\` (built ${r.builtEarlier.date}: ` +
      `${int(r.builtEarlier.certificates)} certificates in ${r.builtEarlier.seconds.toFixed(0)} s by \`scripts/bench/api-bulk.ts\`, as described there).`);
  }
  if (v) {
    lines.push(`- **Verify.** The server restarted on the built database (spawn → listening ${r.verifyStartMs !== null ? ms(r.verifyStartMs, 0) : '?'}, ` +
      `RSS ${r.verifyListeningRss ? mb(r.verifyListeningRss.rss) : '?'} when listening). ${VERIFY_WARMUP_S} s untimed warm-up, then ` +
      `${DURATION_S} s of \`GET /v/${BENCH_ISSUER}/{number}\` with \`Accept: application/json\` for certificates drawn uniformly at random ` +
      `from all ${int(r.certificates)}; a request counts as an error unless it is a 200 with \`valid: true\` and status \`active\`. ` +
      `Server RSS after the run: ${v.rss ? `${mb(v.rss.rss)} (peak ${mb(v.rss.hwm)})` : 'not available'}.`);
  }
  if (b) {
    lines.push(`- **Batch verify.** The server restarted on the large log; ${BATCH_CLIENTS} clients POST \`{"items": [...]}\` with ${int(VERIFY_BATCH)} ` +
      `certificate ids drawn at random from all ${int(r.certificates)} to \`/api/v1/verify\` for ${DURATION_S} s (after ${VERIFY_WARMUP_S} s untimed); ` +
      `a request counts as an error unless every result is \`valid: true\`. Rate in certificates/s: ${int(b.perSecond * VERIFY_BATCH)}.`);
  }
  if (r.issueLarge) lines.push(`- **Issue on the large log.** ${int(r.issueLarge.requests)} more issuances as in the first phase, against the restarted server.`);

  const profiles: Array<[string, LoadPhase | null]> = [['Issue', i], ['Verify', v], ['Batch verify', b], ['Issue on the large log', r.issueLarge]];
  if (profiles.some(([, p]) => p?.profile)) {
    lines.push('', '### Server profiles', '');
    for (const [name, p] of profiles) if (p?.profile) lines.push(`**${name}.** `, '', ...profileTable(p.profile), '');
  }
  return lines.join('\n');
}

/** Replaces this benchmark's section (between its markers) of the file, keeping the notes block and the rest. */
function writeReport(path: string, body: string): void {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n\nMeasured results of the benchmarks under `scripts/bench/`, one section per benchmark.\n';
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  let notes = '';
  if (begin >= 0 && end > begin) {
    const old = text.slice(begin, end);
    const nb = old.indexOf(NOTES_BEGIN);
    const ne = old.indexOf(NOTES_END);
    if (nb >= 0 && ne > nb) notes = old.slice(nb, ne + NOTES_END.length);
  }
  const section = `${BEGIN}\n\n${body.trimEnd()}\n${notes ? `\n${notes}\n` : ''}\n${END}`;
  if (begin >= 0 && end > begin) {
    text = `${text.slice(0, begin)}${section}${text.slice(end + END.length)}`;
  } else {
    // The heading comes first so that another benchmark's "replace up to the next ## heading" never eats the marker.
    text = `${text.trimEnd()}\n\n${SECTION_TITLE}\n\n${section}\n`;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

// ---------------------------------------------------------------------------------------------------------------
// Main

/** The state of the benchmark database in `dir`: a new CB registered on a new log, or what an earlier run left. */
async function openState(dir: string, profile: string | null): Promise<{ state: BenchState; cb: Cb; server: ServerChild | null }> {
  mkdirSync(dir, { recursive: true });
  if (existsSync(statePath(dir))) {
    const state = JSON.parse(readFileSync(statePath(dir), 'utf8')) as BenchState;
    return { state, cb: await cbOf(state), server: null };
  }
  const state: BenchState = { seedHex: toHex(randomBytes(32)), dates: certificateDates(Date.now()), next: 1 };
  const cb = await cbOf(state);
  await cb.signer.selfCheck(benchCertificate(BENCH_BASE_URL, 0, state.dates));
  const server = await startServer(ROOT, dir, profile);
  try {
    await registerIssuer(join(dir, 'keys'), server.port, { slug: BENCH_ISSUER, name: 'Bench Certification GmbH', managedSigning: false, keys: [{ keyId: BENCH_KEY_ID, publicKey: cb.key.publicKey }] });
  } catch (error) {
    await server.stop();
    throw error;
  }
  saveState(dir, state);
  return { state, cb, server };
}

async function main(): Promise<void> {
  const started = performance.now();
  const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'certrail-api-bench-'));
  mkdirSync(root, { recursive: true });
  const removeAfter = opts.dir === undefined && !opts.keep;
  const m = machine();
  const command = `npx tsx scripts/bench/api.ts ${process.argv.slice(2).join(' ')}`.trimEnd();
  log(`${m.cpu}, ${m.cores} cores, Node ${m.node}; databases in ${root}`);
  const profileRoot = join(root, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  const profileDir = (phase: string): string | null => (opts.profile ? join(profileRoot, phase) : null);
  /** Phase 1 always runs on a new, empty log; the other phases on the large log, kept across runs with --dir. */
  const freshDir = join(root, 'fresh');
  const largeDir = join(root, 'large');

  const results: Results = {
    machine: m,
    command,
    date: new Date().toISOString().slice(0, 10),
    clients: CLIENTS,
    issue: null,
    build: null,
    builtEarlier: null,
    verify: null,
    batch: null,
    verifyStartMs: null,
    verifyListeningRss: null,
    issueLarge: null,
    certificates: 0,
    profiled: opts.profile,
  };
  try {
    // 1. issue, on a new log
    if (PHASES.has('issue')) {
      rmSync(freshDir, { recursive: true, force: true });
      const { state, cb, server } = await openState(freshDir, profileDir('issue'));
      try {
        results.issue = await issuePhase(server!, state, cb, WARMUP, ISSUE, 'issue');
      } finally {
        await server!.stop();
        rmSync(freshDir, { recursive: true, force: true, maxRetries: 3 });
      }
      results.issue.profile = profileOf(profileDir('issue'));
    }

    // 2. build the large log (or top it up)
    const large = await openState(largeDir, null);
    await large.server?.stop();
    const { state, cb } = large;
    if (PHASES.has('build') && state.next - 1 < CERTS) {
      results.build = await buildPhase(largeDir, state, CERTS);
      state.built = { certificates: CERTS, seconds: results.build.seconds, date: results.date };
      saveState(largeDir, state);
    } else if (state.built) {
      results.builtEarlier = state.built;
    }
    results.certificates = state.next - 1;

    // 3. verify
    if (PHASES.has('verify') && results.certificates > 0) {
      const servers = await startServers(largeDir, profileDir('verify'));
      const server = servers[0]!;
      try {
        results.verifyStartMs = server.startMs;
        results.verifyListeningRss = processMemory(server.pid);
        log(`verify: server listening after ${ms(server.startMs, 0)}, RSS ${results.verifyListeningRss ? mb(results.verifyListeningRss.rss) : '?'}`);
        results.verify = await verifyPhase(servers, results.certificates);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
      results.verify.profile = profileOf(profileDir('verify'));
    }

    // 4. batch verification
    if (PHASES.has('batch') && results.certificates > 0) {
      const servers = await startServers(largeDir, profileDir('batch'));
      try {
        results.batch = await batchPhase(servers, results.certificates);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
      results.batch.profile = profileOf(profileDir('batch'));
    }

    // 5. issue on the large log
    if (PHASES.has('issue-large') && ISSUE_LARGE > 0) {
      const server = await startServer(ROOT, largeDir, profileDir('issue-large'));
      try {
        results.issueLarge = await issuePhase(server, state, cb, Math.min(WARMUP, ISSUE_LARGE), ISSUE_LARGE, 'issue on the large log');
      } finally {
        saveState(largeDir, state);
        await server.stop();
      }
      results.issueLarge.profile = profileOf(profileDir('issue-large'));
    }
  } finally {
    if (removeAfter) rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
  const body = report(results);
  process.stdout.write(`${body}\n`);
  log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (OUT) {
    writeReport(OUT, body);
    log(`wrote the "${SECTION_TITLE.slice(3)}" section of ${relative(process.cwd(), OUT) || OUT}`);
  }
}

await main();
