// The benchmark suite (`npm run bench`): every path users depend on, at 10k, 1M and 10M log entries, against the
// machine's physical limits measured in the same run, written to docs/PERFORMANCE.md (scripts/bench/report.ts).
//
//   npm run bench                                  (= npx tsx scripts/bench/suite.ts)
//   npx tsx scripts/bench/suite.ts --quick          (smoke run: a 2,000-entry log, 1 s phases; prints, writes nothing)
//
// Options: --sizes 10000,1000000,10000000, --seconds 8 (per load phase, after a warm-up of a quarter of it),
// --limit-seconds 3 (per limit; at most --seconds), --clients 64, --issue 3000 (timed issuances per kind and size),
// --bundles 2000 (bundle verifications per size after a fifth as many untimed, as in the SDK benchmark; 500 gave
// 1,976–2,166/s at 10k against 2,315–2,338/s in alternating runs), --proofs 2000, --max-certificates 100000 (per
// dataset), --cache .bench-cache (datasets, see bulk-load.ts), --out docs/PERFORMANCE.md (the suite's section is
// replaced, the rest of the file kept; a --quick run prints unless --out is given), --no-write (print only),
// --naive-sizes 10000,100000 (merkletreejs measured there, extrapolated to the larger --sizes).
//
// Per size: the dataset is taken from the cache (or built: first run only), inclusion proofs are generated in process
// on it, then the server is started on it (start-up) for GET verification, batch verification, model-digest lookup,
// tile and checkpoint serving, bundles fetched and verified offline by the SDK in a pinned child, issuance
// client-signed and managed, and the server's RSS. Datasets up to 1 GiB are put back as they were afterwards. Every
// answer is checked; a wrong one counts as an error, and any error makes the run exit non-zero. The server children
// run with CERTRAIL_RATE_LIMIT=off unless it is set.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { bytesEqual, fromHex } from '../../src/core/bytes.js';
import { ed25519PublicKey, useSha256 } from '../../src/core/crypto.js';
import type { JsonValue } from '../../src/core/json.js';
import { leafHash, rootFromInclusionProof } from '../../src/core/merkle.js';
import { entriesPath, tilePath } from '../../src/core/tiles.js';
import { parseBundle, verifyBundle, type TrustPolicy } from '../../src/core/verify.js';
import { LogReader } from '../../src/log/reader.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { buildSdk, SDK_OUTFILE } from '../build/sdk.js';
import {
  BENCH_BASE_URL,
  BENCH_ISSUER,
  BENCH_KEY_ID,
  benchCertificate,
  benchCertificateId,
  CertificateSigner,
  certificateNumber,
  healthSize,
  httpRequest,
  machine,
  processCpuSeconds,
  processMemory,
  runLoad,
  startServer,
  summarize,
  type HttpRequestSpec,
  type HttpResponse,
  type ServerChild,
} from './api-support.js';
import type { BenchJob, BenchResult, VerdictSummary } from './bundle-verifier.js';
import { ensureDataset, MANAGED_ISSUER, ROOT, saveDataset, type Dataset } from './bulk-load.js';
import { measureLimits } from './limits.js';
import { watchOtherLoad } from './machine-load.js';
import { compareNaive } from './naive.js';
import { renderSuite, writeSuiteSection, type Measurement, type PathName, type SuiteResults } from './report.js';

const BATCH = 1000;
const BATCH_CLIENTS = 4;
/** Tokens live at most 300 s (MAX_TOKEN_LIFETIME_S). */
const TOKEN_LIFETIME_S = 290;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function integers(name: string, text: string | undefined, min: number): number[] {
  const values = (text ?? '').split(',').filter((s) => s !== '').map(Number);
  if (values.length === 0 || values.some((n) => !Number.isSafeInteger(n) || n < min)) throw new Error(`--${name}: integers >= ${min}, comma-separated`);
  return values;
}

export interface SuiteOptions {
  sizes: number[];
  seconds: number;
  limitSeconds: number;
  clients: number;
  issue: number;
  bundles: number;
  proofs: number;
  maxCertificates: number;
  cache: string;
  naiveSizes: number[];
  quick: boolean;
  command: string;
}

function options(argv: string[]): SuiteOptions & { out: string | null } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      seconds: { type: 'string' },
      'limit-seconds': { type: 'string' },
      clients: { type: 'string', default: '64' },
      issue: { type: 'string' },
      bundles: { type: 'string' },
      proofs: { type: 'string' },
      'max-certificates': { type: 'string', default: '100000' },
      cache: { type: 'string', default: join(ROOT, '.bench-cache') },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'naive-sizes': { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const one = (name: string, text: string | undefined, fallback: string, min: number) => integers(name, text ?? fallback, min)[0]!;
  const seconds = (name: string, text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!(n > 0 && n <= 600)) throw new Error(`--${name}: seconds in (0, 600]`);
    return n;
  };
  const phaseSeconds = seconds('seconds', values.seconds, quick ? 1 : 8);
  return {
    quick,
    sizes: integers('sizes', values.sizes ?? (quick ? '2000' : '10000,1000000,10000000'), 100).sort((a, b) => a - b),
    seconds: phaseSeconds,
    limitSeconds: seconds('limit-seconds', values['limit-seconds'], Math.min(phaseSeconds, 3)),
    clients: one('clients', values.clients, '64', 1),
    issue: one('issue', values.issue, quick ? '200' : '3000', 10),
    bundles: one('bundles', values.bundles, quick ? '50' : '2000', 10),
    proofs: one('proofs', values.proofs, quick ? '200' : '2000', 10),
    maxCertificates: one('max-certificates', values['max-certificates'], '100000', 100),
    cache: values.cache ?? join(ROOT, '.bench-cache'),
    naiveSizes: integers('naive-sizes', values['naive-sizes'] ?? (quick ? '1000,2000' : '10000,100000'), 2).sort((a, b) => a - b),
    // A quick run's figures are not the suite's: it prints them unless told where to write.
    out: values['no-write'] ? null : (values.out ?? (quick ? null : join(ROOT, 'docs', 'PERFORMANCE.md'))),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Load phases against the server child

interface PhaseContext {
  server: ServerChild;
  dataset: Dataset;
  nominal: number;
  options: SuiteOptions;
}

/** A closed-loop load for `seconds` (after an untimed warm-up), measured with the server's CPU and the other load. */
async function loadPath(
  ctx: PhaseContext,
  path: PathName,
  next: (i: number) => HttpRequestSpec | null,
  check: (r: HttpResponse) => string | null,
  { clients = ctx.options.clients, perRequest = 1, count }: { clients?: number; perRequest?: number; count?: number } = {},
): Promise<Measurement> {
  const { server, options } = ctx;
  const size = await healthSize(server.port);
  if (count === undefined) await runLoad({ port: server.port, clients, next, check, durationMs: options.seconds * 250 });
  const cpu0 = processCpuSeconds(server.pid);
  const watch = watchOtherLoad();
  const result = await runLoad({ port: server.port, clients, next, check, durationMs: count === undefined ? options.seconds * 1000 : undefined });
  const serverCpu = processCpuSeconds(server.pid) - cpu0;
  const otherCores = watch.stop(serverCpu);
  const latency = summarize(result.latencies);
  const m: Measurement = {
    path,
    size,
    nominal: ctx.nominal,
    operations: result.requests * perRequest,
    errors: result.errors,
    rate: (result.requests * perRequest) / result.seconds,
    medianMs: latency.p50,
    p99Ms: latency.p99,
    value: null,
    serverCpuMs: (serverCpu * 1000) / result.requests,
    otherCores,
  };
  log(`${path} at ${size.toLocaleString('en-US')}: ${Math.round(m.rate!).toLocaleString('en-US')}/s, median ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, ${m.errors} errors, others ${otherCores.toFixed(2)} cores`);
  if (result.errors > 0) log(`  ${result.errorSamples.join('\n  ')}`);
  return m;
}

const randomCertificate = (d: Dataset): number => 1 + Math.floor(Math.random() * d.certificates);

function checkVerdict(response: HttpResponse): string | null {
  if (response.status !== 200) return `status ${response.status}: ${response.body.slice(0, 200)}`;
  const verdict = JSON.parse(response.body) as { valid?: unknown; status?: unknown };
  return verdict.valid === true && verdict.status === 'active' ? null : `verdict ${response.body.slice(0, 200)}`;
}

function verifyPath(ctx: PhaseContext): Promise<Measurement> {
  const spec = (): HttpRequestSpec => ({ method: 'GET', path: `/v/${BENCH_ISSUER}/${certificateNumber(randomCertificate(ctx.dataset))}`, headers: { accept: 'application/json' } });
  return loadPath(ctx, 'verify', spec, checkVerdict);
}

function batchPath(ctx: PhaseContext): Promise<Measurement> {
  const spec = (): HttpRequestSpec => {
    const items = Array.from({ length: BATCH }, () => benchCertificateId(BENCH_BASE_URL, randomCertificate(ctx.dataset)));
    return { method: 'POST', path: '/api/v1/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) };
  };
  const check = (response: HttpResponse): string | null => {
    if (response.status !== 200) return `status ${response.status}: ${response.body.slice(0, 200)}`;
    const { results } = JSON.parse(response.body) as { results?: Array<{ verdict?: { valid?: unknown } }> };
    if (!Array.isArray(results) || results.length !== BATCH) return `expected ${BATCH} results`;
    const invalid = results.findIndex((r) => r.verdict?.valid !== true);
    return invalid < 0 ? null : `item ${invalid}: ${JSON.stringify(results[invalid]).slice(0, 200)}`;
  };
  return loadPath(ctx, 'batch', spec, check, { clients: BATCH_CLIENTS, perRequest: BATCH });
}

/** The model digest of certificate n (api-support.ts benchCertificate). */
function modelDigest(n: number): string {
  return `sha256:${createHash('sha256').update(`bench model ${n}`).digest('hex')}`;
}

function modelPath(ctx: PhaseContext): Promise<Measurement> {
  const wanted: number[] = [];
  const spec = (i: number): HttpRequestSpec => {
    const n = randomCertificate(ctx.dataset);
    wanted[i % 4096] = n;
    return { method: 'GET', path: `/api/v1/models/${modelDigest(n)}/certificates`, headers: { accept: 'application/json' } };
  };
  const check = (response: HttpResponse): string | null => {
    if (response.status !== 200) return `status ${response.status}: ${response.body.slice(0, 200)}`;
    const { certificates } = JSON.parse(response.body) as { certificates?: unknown[] };
    return Array.isArray(certificates) && certificates.length > 0 && response.body.includes(`BENCH-`) ? null : `no certificate: ${response.body.slice(0, 200)}`;
  };
  return loadPath(ctx, 'model', spec, check);
}

function tilesPath(ctx: PhaseContext, size: number): Promise<Measurement> {
  const fullTiles = Math.floor(size / 256);
  const spec = (i: number): HttpRequestSpec => {
    const kind = i % 10;
    const random = (n: number) => Math.floor(Math.random() * Math.max(1, n));
    let path: string;
    if (kind === 9 || fullTiles === 0) path = '/log/checkpoint';
    else if (kind < 5) path = `/log/${tilePath({ level: 0, index: random(fullTiles), width: 256 })}`;
    else if (kind === 5 && fullTiles >= 256) path = `/log/${tilePath({ level: 1, index: random(Math.floor(fullTiles / 256)), width: 256 })}`;
    else path = `/log/${entriesPath(random(fullTiles), 256)}`;
    return { method: 'GET', path, headers: {} };
  };
  const check = (response: HttpResponse): string | null => (response.status === 200 && response.body.length > 0 ? null : `status ${response.status}`);
  return loadPath(ctx, 'tiles', spec, check);
}

interface Cb {
  key: TokenKey;
  signer: CertificateSigner;
}

async function cbKey(issuer: string, seedHex: string): Promise<TokenKey> {
  const seed = fromHex(seedHex);
  return { issuer, keyId: BENCH_KEY_ID, seed, publicKey: await ed25519PublicKey(seed) };
}

/** Issues options.issue certificates (after a tenth as many untimed), client-signed or as managed drafts. */
async function issuePath(ctx: PhaseContext, kind: 'issue-signed' | 'issue-managed'): Promise<Measurement> {
  const { dataset, options } = ctx;
  const managed = kind === 'issue-managed';
  const key = await cbKey(managed ? MANAGED_ISSUER : BENCH_ISSUER, managed ? dataset.managedSeedHex : dataset.seedHex);
  const cb: Cb = { key, signer: new CertificateSigner(key.seed, `${BENCH_BASE_URL}/issuers/${BENCH_ISSUER}#${BENCH_KEY_ID}`, dataset.dates.created) };
  const warmup = Math.max(10, Math.floor(options.issue / 10));
  const total = warmup + options.issue;
  const first = managed ? dataset.managedNext : dataset.next;
  const bodies: string[] = [];
  for (let k = 0; k < total; k++) {
    const certificate = benchCertificate(BENCH_BASE_URL, first + k, dataset.dates);
    if (managed) {
      // A draft: the registry fills id and issuer and signs it with the managed key.
      const { id: _id, issuer: _issuer, ...draft } = certificate;
      bodies.push(JSON.stringify(draft));
    } else {
      bodies.push(JSON.stringify(cb.signer.sign(certificate)));
    }
  }
  const tokens: string[] = [];
  for (let k = 0; k < total; k++) tokens.push(await mintToken(cb.key, BENCH_BASE_URL, TOKEN_LIFETIME_S));
  if (managed) dataset.managedNext += total;
  else dataset.next += total;
  saveDataset(dataset);
  const spec = (k: number): HttpRequestSpec => ({
    method: 'POST',
    path: '/api/v1/certificates',
    headers: { authorization: `Bearer ${tokens[k]!}`, 'content-type': 'application/json' },
    body: bodies[k]!,
  });
  const check = (response: HttpResponse): string | null => {
    if (response.status !== 201) return `status ${response.status}: ${response.body.slice(0, 200)}`;
    const receipt = JSON.parse(response.body) as { index?: unknown };
    return typeof receipt.index === 'number' ? null : 'not a receipt';
  };
  await runLoad({ port: ctx.server.port, clients: options.clients, next: (i) => (i < warmup ? spec(i) : null), check });
  return loadPath(ctx, kind, (i) => (i < options.issue ? spec(warmup + i) : null), check, { count: options.issue });
}

// ---------------------------------------------------------------------------------------------------------------
// Offline bundles: fetched from the server, verified by the built SDK in a pinned child (bundle-verifier.ts)

async function bundlePath(ctx: PhaseContext, scratch: string): Promise<Measurement> {
  const { server, dataset, options } = ctx;
  const agent = new Agent({ keepAlive: true });
  const get = async (path: string): Promise<string> => {
    const r = await httpRequest(agent, server.port, { method: 'GET', path, headers: {} });
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 200)}`);
    return r.body;
  };
  const wellKnown = JSON.parse(await get('/.well-known/certrail')) as { logVerifierKey: string; registryKey: string };
  const policy: TrustPolicy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey, witnesses: [], quorum: 0 };
  const texts: string[] = [];
  for (let k = 0; k < Math.min(64, dataset.certificates); k++) texts.push(await get(`/api/v1/certificates/${BENCH_ISSUER}/${certificateNumber(randomCertificate(dataset))}/bundle`));
  agent.destroy();
  const size = await healthSize(server.port);
  const now = Date.now();
  const expected: VerdictSummary[] = [];
  let entries = 0;
  for (const text of texts) {
    const bundle = parseBundle(JSON.parse(text) as JsonValue);
    entries += bundle.entries.length;
    const v = await verifyBundle(bundle, policy, { now });
    if (!v.valid) throw new Error(`a served bundle does not verify: ${JSON.stringify(v.checks.filter((c) => !c.ok))}`);
    expected.push({ valid: v.valid, status: v.status, surveillance: v.surveillance, checks: v.checks.map((c) => c.ok) });
  }
  const job: BenchJob = {
    sdk: SDK_OUTFILE,
    scenarios: [{ name: 'bench', texts, expected }],
    policy,
    now,
    iterations: options.bundles,
    warmup: Math.max(10, Math.floor(options.bundles / 5)),
    concurrency: 1,
    runs: [{ scenario: 0, mode: 'sequential' }],
    ed25519: false,
  };
  const { result, otherCores } = await runVerifier(job, scratch);
  const run = result.runs[0]!;
  const latency = summarize(Float64Array.from(run.latencies ?? []));
  // Signatures per bundle: one per entry (registry-signed issuer entries, CB-signed certificate) and the checkpoint's.
  const signatures = entries / texts.length + 1;
  const m: Measurement = {
    path: 'bundle',
    size,
    nominal: ctx.nominal,
    operations: run.verifications,
    errors: 0,
    rate: run.verifications / run.cpuSeconds,
    medianMs: latency.p50,
    p99Ms: latency.p99,
    value: signatures,
    serverCpuMs: null,
    otherCores,
  };
  log(`bundle at ${size.toLocaleString('en-US')}: ${Math.round(m.rate!).toLocaleString('en-US')}/CPU-s, median ${latency.p50.toFixed(3)} ms, p99 ${latency.p99.toFixed(3)} ms`);
  return m;
}

/** Runs the measuring child compiled by esbuild in plain Node, pinned to CPU 0 when taskset exists. */
async function runVerifier(job: BenchJob, scratch: string): Promise<{ result: BenchResult; otherCores: number }> {
  const script = join(scratch, 'bundle-verifier.mjs');
  if (!existsSync(script)) await buildSdk({ entry: join(ROOT, 'scripts', 'bench', 'bundle-verifier.ts'), outfile: script, minify: false });
  const pinned = spawnSync('taskset', ['-V']).status === 0;
  const child = pinned ? spawn('taskset', ['-c', '0', process.execPath, script]) : spawn(process.execPath, [script]);
  const watch = watchOtherLoad();
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(JSON.stringify(job));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`the bundle verifier exited with ${code}:\n${err}`);
  const result = JSON.parse(out) as BenchResult;
  return { result, otherCores: watch.stop(result.runs.reduce((a, r) => a + r.cpuSeconds, 0)) };
}

// ---------------------------------------------------------------------------------------------------------------
// In-process proofs on the dataset

async function proofPath(dataset: Dataset, nominal: number, count: number): Promise<Measurement> {
  const handle = openSqlite(join(dataset.dir, 'certrail.db'));
  try {
    const store = createSqliteLogStore(handle);
    const checkpoint = await store.latestCheckpoint();
    if (checkpoint === null) throw new Error('the dataset has no checkpoint');
    const size = checkpoint.size;
    const reader = new LogReader(store, async () => checkpoint);
    const random = () => Math.floor(Math.random() * size);
    for (let i = 0; i < Math.min(200, count); i++) await reader.inclusionProof(random(), size);
    const watch = watchOtherLoad();
    const latencies = new Float64Array(count);
    let errors = 0;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const index = random();
      const start = performance.now();
      const proof = await reader.inclusionProof(index, size);
      latencies[i] = performance.now() - start;
      if (i % 100 === 0) {
        // Checked outside the timing: the proof leads from the entry's leaf hash to the checkpoint root.
        const [entry] = await store.readEntries(index, index + 1);
        const root = rootFromInclusionProof(leafHash(entry!), index, size, proof);
        if (root === null || !bytesEqual(root, checkpoint.root)) errors++;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const latency = summarize(latencies);
    const m: Measurement = {
      path: 'proof',
      size,
      nominal,
      operations: count,
      errors,
      rate: count / seconds,
      medianMs: latency.p50,
      p99Ms: latency.p99,
      value: null,
      serverCpuMs: null,
      otherCores: watch.stop(),
    };
    log(`proof at ${size.toLocaleString('en-US')}: median ${latency.p50.toFixed(3)} ms, p99 ${latency.p99.toFixed(3)} ms, ${errors} errors`);
    return m;
  } finally {
    handle.sqlite.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One size, and the whole suite

/** Datasets whose database is at most this large are put back as they were after each run (see measureSize). */
const RESTORE_MAX_BYTES = 1024 ** 3;

/**
 * Copies the dataset's database (and WAL, if any) to `scratch`, and returns what puts it and the dataset's state back:
 * null for a database above RESTORE_MAX_BYTES, too large to copy every run.
 */
function snapshot(dataset: Dataset, scratch: string): (() => void) | null {
  const db = join(dataset.dir, 'certrail.db');
  if (statSync(db).size > RESTORE_MAX_BYTES) return null;
  const files = ['', '-wal'].filter((suffix) => existsSync(db + suffix));
  for (const suffix of files) copyFileSync(db + suffix, join(scratch, `snapshot${suffix}`));
  const numbers = { next: dataset.next, managedNext: dataset.managedNext };
  return () => {
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    for (const suffix of files) renameSync(join(scratch, `snapshot${suffix}`), db + suffix);
    Object.assign(dataset, numbers);
    saveDataset(dataset);
  };
}

/**
 * Reads the database file once, so that it starts in the OS page cache as it is in a server that has been serving it
 * (this machine does not keep a multi-GB file cached between runs, and a cold file makes the first reads disk-bound).
 */
function warmPageCache(path: string): void {
  const t0 = performance.now();
  const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
  log(`page cache: read ${(statSync(path).size / 1e6).toFixed(0)} MB of ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Every path at one size: proofs first (in process, on the dataset as built), then the server on it. Its issuances
 * add to the log; a dataset of up to RESTORE_MAX_BYTES is put back afterwards so that runs do not grow it, a larger
 * one keeps them (6,600 entries per run with the defaults: under 0.1 % of 10M).
 */
async function measureSize(dataset: Dataset, nominal: number, options: SuiteOptions, scratch: string): Promise<Measurement[]> {
  warmPageCache(join(dataset.dir, 'certrail.db'));
  const proofs = await proofPath(dataset, nominal, options.proofs);
  const restore = snapshot(dataset, scratch);
  const watch = watchOtherLoad();
  const server = await startServer(ROOT, dataset.dir, null);
  const size = await healthSize(server.port);
  const startup: Measurement = { path: 'startup', size, nominal, operations: 1, errors: 0, rate: null, medianMs: null, p99Ms: null, value: server.startMs, serverCpuMs: null, otherCores: watch.stop(processCpuSeconds(server.pid)) };
  log(`start-up at ${size.toLocaleString('en-US')}: ${server.startMs.toFixed(0)} ms`);
  const out: Measurement[] = [startup, proofs];
  const ctx: PhaseContext = { server, dataset, nominal, options };
  try {
    out.push(await verifyPath(ctx));
    out.push(await batchPath(ctx));
    out.push(await modelPath(ctx));
    out.push(await tilesPath(ctx, size));
    out.push(await bundlePath(ctx, scratch));
    out.push(await issuePath(ctx, 'issue-signed'));
    out.push(await issuePath(ctx, 'issue-managed'));
    const memory = processMemory(server.pid);
    out.push({ path: 'rss', size: await healthSize(server.port), nominal, operations: 1, errors: memory === null ? 1 : 0, rate: null, medianMs: null, p99Ms: memory?.hwm ?? null, value: memory?.rss ?? null, serverCpuMs: null, otherCores: 0 });
  } finally {
    await server.stop();
    restore?.();
  }
  return out;
}

function diskOf(path: string): string {
  const df = spawnSync('df', ['--output=source,fstype', path], { encoding: 'utf8' });
  const line = df.status === 0 ? df.stdout.trim().split('\n')[1] : undefined;
  return line ? line.trim().split(/\s+/).join(' (') + ')' : 'unknown disk';
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResults> {
  const started = performance.now();
  const runWatch = watchOtherLoad();
  useSha256((data) => createHash('sha256').update(data).digest());
  mkdirSync(options.cache, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'certrail-suite-'));
  try {
    log('building the SDK (dist/verify.js)');
    await buildSdk();
    log('datasets');
    let buildSeconds = 0;
    const datasets: SuiteResults['datasets'] = [];
    for (const nominal of options.sizes) {
      const t0 = performance.now();
      const { dataset, cached } = await ensureDataset({ cache: options.cache, nominal, maxCertificates: options.maxCertificates });
      if (!cached) buildSeconds += (performance.now() - t0) / 1000;
      datasets.push({ dataset, cached, size: 0 });
    }
    log('limits');
    const limits = await measureLimits(ROOT, options.cache, { seconds: options.limitSeconds, clients: options.clients });
    log(`hello-world ${Math.round(limits.hello.requestsPerSecond)} req/s, Ed25519 ${Math.round(limits.ed25519Verify.perCpuSecond)}/CPU-s, SQLite ${Math.round(limits.sqliteCommits.perSecond)} commits/s`);
    const measurements: Measurement[] = [];
    for (const entry of datasets) {
      const found = await measureSize(entry.dataset, entry.dataset.nominal, options, scratch);
      entry.size = found[0]!.size;
      measurements.push(...found);
    }
    log('merkletreejs');
    const naive = compareNaive(options.naiveSizes, options.sizes, 3);
    const m = machine();
    return {
      date: new Date().toISOString().slice(0, 10),
      command: options.command,
      machine: m,
      disk: diskOf(options.cache),
      clients: options.clients,
      seconds: options.seconds,
      quick: options.quick,
      totalSeconds: (performance.now() - started) / 1000,
      buildSeconds,
      maxCertificates: options.maxCertificates,
      datasets,
      limits,
      measurements,
      naive,
      otherCores: runWatch.stop(),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  // The server children inherit it: the suite issues thousands of certificates a second from one CB, far beyond the
  // default per-CB write limit (README, CERTRAIL_RATE_LIMIT).
  process.env.CERTRAIL_RATE_LIMIT ??= 'off';
  const results = await runSuite(opts);
  const body = renderSuite(results);
  if (opts.out === null) process.stdout.write(`${body}\n`);
  else {
    writeSuiteSection(opts.out, body);
    log(`wrote ${relative(process.cwd(), opts.out) || opts.out}`);
  }
  const errors = results.measurements.reduce((a, m) => a + m.errors, 0);
  console.log(
    `bench: ${results.measurements.length} measurements of ${new Set(results.measurements.map((m) => m.path)).size} paths at ${results.datasets.length} sizes ` +
      `(${results.datasets.map((d) => d.size.toLocaleString('en-US')).join(', ')} entries) in ${Math.round(results.totalSeconds)} s ` +
      `(${Math.round(results.buildSeconds)} s building datasets); ${errors} errors`,
  );
  if (errors > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
