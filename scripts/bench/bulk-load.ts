// The benchmark suite's datasets (scripts/bench/suite.ts): a registry database holding a log of a given size, built
// once and cached, because building a million certificates takes minutes and ten million log entries longer.
//
//   npx tsx scripts/bench/bulk-load.ts --size 10000000 [--cache .bench-cache]
//
// A dataset of N entries is built the way the registry's own state comes about, in three steps:
//   1. registration: the server (src/node.ts) starts on a new database, creating its keys, and the operator registers
//      two certification bodies over HTTP: `bench-cb` (signs its own certificates) and `bench-managed` (managed
//      signing: the registry signs drafts with the CB's managed key);
//   2. certificates: min(N, --max-certificates, default 1,000,000) − registration entries signed certificates of
//      `bench-cb`, added by scripts/bench/api-bulk.ts through the registry's Sequencer and index rows;
//   3. filler, the fast bulk-load path: the remaining entries (~200-byte `bench.filler` entries) written straight into
//      the same SQLite file with the log's own modules: leaf hashes into a TileBuilder (src/core/tiles.ts), each chunk
//      of 65,536 entries committed with its changed tiles and a checkpoint signed with the log key
//      (src/core/checkpoint.ts, src/core/note.ts) by the SQLite LogStore (src/store/sqlite.ts, log-store.ts). The
//      server then opens the file exactly as its own (Sequencer.open checks the right edge against the checkpoint).
// So at 10M entries one in ten is a certificate; verification draws from those, proofs and tiles from all entries.
//
// Datasets live in <cache>/<key>/<N>/ where the key hashes the schema (schema/tables.ts, schema/migrations) and the
// builders' source (this file, api-bulk.ts, api-sign-worker.ts): a change to either builds them anew. A dataset with
// more entries than a cached one with as many certificates starts from a copy of it (10M from 1M). The suite's
// issuance phases add certificates to a cached dataset: its size grows by a few thousand entries per run.
// Options: --size N (required), --cache DIR (default .bench-cache), --max-certificates 1000000.
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { toHex } from '../../src/core/bytes.js';
import { formatCheckpoint } from '../../src/core/checkpoint.js';
import { ed25519PublicKey, randomBytes, useSha256 } from '../../src/core/crypto.js';
import { leafHash } from '../../src/core/merkle.js';
import { signNote } from '../../src/core/note.js';
import { rightEdgeTiles, TileBuilder } from '../../src/core/tiles.js';
import { logOriginFor } from '../../src/config.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import type { BulkArgs, BulkMessage } from './api-bulk.js';
import { BENCH_BASE_URL, BENCH_ISSUER, BENCH_KEY_ID, certificateDates, healthSize, registerIssuer, startServer, type CertificateDates } from './api-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
/** The managed-signing certification body of every dataset. */
export const MANAGED_ISSUER = 'bench-managed';
const FILLER_CHUNK = 65_536;
const STATE_FILE = 'dataset.json';

export interface Dataset {
  dir: string;
  /** The size it was built to (the log grows past it as the suite issues certificates). */
  nominal: number;
  /** Entries of step 1 (the certification bodies' registrations). */
  registrationEntries: number;
  /** Certificates of bench-cb numbered 1 … certificates are in the log. */
  certificates: number;
  /** The next unused certificate number of bench-cb and of bench-managed. */
  next: number;
  managedNext: number;
  seedHex: string;
  managedSeedHex: string;
  dates: CertificateDates;
  key: string;
  built: { date: string; seconds: number; registrationSeconds: number; certificateSeconds: number; fillerSeconds: number; from: string | null };
}

function log(message: string): void {
  process.stderr.write(`[bulk-load ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Hash of what a dataset's bytes depend on: the schema and the builders' source. */
export function datasetKey(): string {
  const files = [
    join(ROOT, 'schema', 'tables.ts'),
    ...readdirSync(join(ROOT, 'schema', 'migrations'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name)),
    join(HERE, 'bulk-load.ts'),
    join(HERE, 'api-bulk.ts'),
    join(HERE, 'api-sign-worker.ts'),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

export function saveDataset(dataset: Dataset): void {
  writeFileSync(join(dataset.dir, STATE_FILE), `${JSON.stringify(dataset, null, 2)}\n`, { mode: 0o600 });
}

function readDataset(dir: string): Dataset | null {
  const path = join(dir, STATE_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Dataset) : null;
}

/** Step 1: a new database with the two certification bodies registered. */
async function register(dir: string, nominal: number, key: string): Promise<Dataset> {
  mkdirSync(dir, { recursive: true });
  const dataset: Dataset = {
    dir,
    nominal,
    registrationEntries: 0,
    certificates: 0,
    next: 1,
    managedNext: 1,
    seedHex: toHex(randomBytes(32)),
    managedSeedHex: toHex(randomBytes(32)),
    dates: certificateDates(Date.now()),
    key,
    built: { date: new Date().toISOString().slice(0, 10), seconds: 0, registrationSeconds: 0, certificateSeconds: 0, fillerSeconds: 0, from: null },
  };
  const t0 = performance.now();
  const server = await startServer(ROOT, dir, null);
  try {
    const keyDir = join(dir, 'keys');
    const cb = await ed25519PublicKey(Buffer.from(dataset.seedHex, 'hex'));
    const managed = await ed25519PublicKey(Buffer.from(dataset.managedSeedHex, 'hex'));
    await registerIssuer(keyDir, server.port, { slug: BENCH_ISSUER, name: 'Bench Certification GmbH', managedSigning: false, keys: [{ keyId: BENCH_KEY_ID, publicKey: cb }] });
    await registerIssuer(keyDir, server.port, { slug: MANAGED_ISSUER, name: 'Bench Managed Certification GmbH', managedSigning: true, keys: [{ keyId: BENCH_KEY_ID, publicKey: managed }] });
  } finally {
    await server.stop();
  }
  dataset.built.registrationSeconds = (performance.now() - t0) / 1000;
  return dataset;
}

/** Step 2: certificates next … upTo of bench-cb, by the api-bulk child (the server must be stopped). */
async function addCertificates(dataset: Dataset, upTo: number): Promise<void> {
  const t0 = performance.now();
  const args: BulkArgs = {
    dbPath: join(dataset.dir, 'certrail.db'),
    keyDir: join(dataset.dir, 'keys'),
    baseUrl: BENCH_BASE_URL,
    logOrigin: logOriginFor(BENCH_BASE_URL),
    seedHex: dataset.seedHex,
    dates: dataset.dates,
    first: dataset.next,
    last: upTo,
    batch: 1024,
    workers: 1,
  };
  const child = fork(join(HERE, 'api-bulk.ts'), [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: BulkMessage) => {
      if (message.type === 'progress') log(`certificates: ${message.done.toLocaleString('en-US')} of ${(upTo - args.first + 1).toLocaleString('en-US')} in ${message.seconds.toFixed(0)} s`);
      else if (message.type === 'done') resolve();
      else reject(new Error(`bulk build failed: ${message.message}`));
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the bulk child exited with ${code}`))));
    child.send(args);
  });
  dataset.certificates = upTo;
  dataset.next = upTo + 1;
  dataset.built.certificateSeconds += (performance.now() - t0) / 1000;
}

/** The size of the latest checkpoint of the database in `dir`. */
function logSize(dir: string): number {
  const handle = openSqlite(join(dir, 'certrail.db'));
  try {
    return (handle.sqlite.prepare('SELECT max(size) AS size FROM log_checkpoints').get() as { size: number }).size;
  } finally {
    handle.sqlite.close();
  }
}

/** One filler entry: the size of a certificate event, distinct per index (so are the leaf hashes). */
function fillerEntry(index: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, kind: 'bench.filler', loggedAt: 0, body: { index, pad: 'x'.repeat(150) } }));
}

/**
 * Step 3, the fast path: appends `count` filler entries straight to the database, one store commit (entries, changed
 * tiles, signed checkpoint; compare-and-swap on the previous size) per FILLER_CHUNK entries. Returns the new size.
 */
export async function appendFiller(dir: string, count: number): Promise<number> {
  const handle = openSqlite(join(dir, 'certrail.db'));
  try {
    const store = createSqliteLogStore(handle);
    const origin = logOriginFor(BENCH_BASE_URL);
    const signer = await readKeyFile(join(dir, 'keys', 'log.key'), origin);
    const latest = await store.latestCheckpoint();
    if (latest === null) throw new Error(`${dir} has no log`);
    const builder = TileBuilder.fromRightEdge(latest.size, await store.readTiles(rightEdgeTiles(latest.size)));
    let createdAt = latest.createdAt;
    const start = performance.now();
    let reported = start;
    for (let done = 0; done < count; ) {
      const previousSize = builder.size;
      const entries = Array.from({ length: Math.min(FILLER_CHUNK, count - done) }, (_, i) => fillerEntry(previousSize + i));
      const tiles = builder.append(entries.map(leafHash));
      const root = builder.root();
      const note = await signNote(formatCheckpoint({ origin, size: builder.size, root, extensions: [] }), [signer]);
      createdAt = Math.max(Date.now(), createdAt);
      await store.commit({ previousSize, entries, tiles, checkpoint: { size: builder.size, root, note, createdAt } });
      done += entries.length;
      if (performance.now() - reported > 10_000) {
        reported = performance.now();
        const seconds = (reported - start) / 1000;
        log(`filler: ${done.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} in ${seconds.toFixed(0)} s (${Math.round(done / seconds).toLocaleString('en-US')}/s)`);
      }
    }
    handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return builder.size;
  } finally {
    handle.sqlite.close();
  }
}

export interface DatasetOptions {
  cache: string;
  nominal: number;
  maxCertificates: number;
}

/** The cached dataset of `nominal` entries, built first (or from a smaller cached one) when there is none. */
export async function ensureDataset({ cache, nominal, maxCertificates }: DatasetOptions): Promise<{ dataset: Dataset; cached: boolean }> {
  useSha256((data) => createHash('sha256').update(data).digest());
  const key = datasetKey();
  const base = join(cache, key);
  const dir = join(base, String(nominal));
  const existing = readDataset(dir);
  if (existing !== null && existing.key === key) return { dataset: { ...existing, dir }, cached: true };
  rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  // A smaller dataset with as many certificates as this one needs saves steps 1 and 2.
  const smaller = existsSync(base)
    ? readdirSync(base)
        .map((name) => readDataset(join(base, name)))
        .filter((d): d is Dataset => d !== null && d.nominal < nominal && d.certificates === Math.min(maxCertificates, nominal) - d.registrationEntries)
        .sort((a, b) => b.nominal - a.nominal)[0]
    : undefined;
  let dataset: Dataset;
  if (smaller) {
    log(`${nominal.toLocaleString('en-US')} entries: copying the ${smaller.nominal.toLocaleString('en-US')}-entry dataset`);
    mkdirSync(dir, { recursive: true });
    for (const name of ['certrail.db', 'keys']) cpSync(join(base, String(smaller.nominal), name), join(dir, name), { recursive: true });
    dataset = { ...smaller, dir, nominal, built: { ...smaller.built, from: String(smaller.nominal), fillerSeconds: 0 } };
  } else {
    log(`${nominal.toLocaleString('en-US')} entries: registering the certification bodies`);
    dataset = await register(dir, nominal, key);
    dataset.registrationEntries = logSize(dir);
  }
  const certificates = Math.max(dataset.certificates, Math.min(maxCertificates, nominal) - dataset.registrationEntries);
  if (certificates > dataset.certificates) {
    log(`${nominal.toLocaleString('en-US')} entries: signing and sequencing ${(certificates - dataset.certificates).toLocaleString('en-US')} certificates`);
    await addCertificates(dataset, certificates);
  }
  const t2 = performance.now();
  const filler = nominal - logSize(dir);
  if (filler > 0) {
    log(`${nominal.toLocaleString('en-US')} entries: bulk-loading ${filler.toLocaleString('en-US')} filler entries`);
    await appendFiller(dir, filler);
  }
  dataset.built.fillerSeconds = (performance.now() - t2) / 1000;
  dataset.built.seconds = (performance.now() - t0) / 1000;
  dataset.built.date = new Date().toISOString().slice(0, 10);
  saveDataset(dataset);
  log(`${nominal.toLocaleString('en-US')} entries built in ${dataset.built.seconds.toFixed(0)} s (${(statSync(join(dir, 'certrail.db')).size / 1024 ** 2).toFixed(0)} MB)`);
  return { dataset, cached: false };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { size: { type: 'string' }, cache: { type: 'string', default: join(ROOT, '.bench-cache') }, 'max-certificates': { type: 'string', default: '1000000' } },
    strict: true,
  });
  const nominal = Number(values.size);
  const maxCertificates = Number(values['max-certificates']);
  if (!Number.isSafeInteger(nominal) || nominal < 10) throw new Error('--size must be an integer >= 10');
  if (!Number.isSafeInteger(maxCertificates) || maxCertificates < 1) throw new Error('--max-certificates must be a positive integer');
  const { dataset, cached } = await ensureDataset({ cache: values.cache ?? '.bench-cache', nominal, maxCertificates });
  const server = await startServer(ROOT, dataset.dir, null);
  const size = await healthSize(server.port);
  await server.stop();
  console.log(`dataset ${dataset.dir}: ${size.toLocaleString('en-US')} entries, ${dataset.certificates.toLocaleString('en-US')} certificates, ${cached ? 'cached' : `built in ${dataset.built.seconds.toFixed(0)} s`}; the server opened it and serves ${size.toLocaleString('en-US')} entries`);
  if (size < nominal) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
