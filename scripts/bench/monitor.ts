// Monitor benchmark (not a test): builds a log of real, signed Certrail entries (default 1,000,000) on a SQLite file,
// serves it with the registry over loopback HTTP, and measures `certrail monitor` catching up from an empty mirror in a
// separate process (entries per second, resident memory), then an incremental run and a run with nothing new.
//
//   npx tsx scripts/bench/monitor.ts [--entries 1000000] [--events 3] [--dir PATH] [--keep] [--write]
//
// The entries: one issuer registration and one key entry (signed by the registry key), then certificates (~1.4 kB, a
// realistic AI security certificate signed with eddsa-jcs-2022 by the CB key) each followed by `--events` status
// events (~0.6 kB: surveillance audit, suspension, reinstatement), chained by previous index and leaf hash and
// interleaved in blocks of 64 certificates, so the monitor verifies every signature, chain and key validity it would
// on a production log. They are built through the real Sequencer (batches of 1024); signing uses node:crypto
// synchronously inside the sequencer's entry callback so that each event can name its predecessor's leaf hash.
// --write replaces the section between <!-- monitor:begin --> and <!-- monitor:end --> in docs/PERFORMANCE.md.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { toHex } from '../../src/core/bytes.js';
import { certificateIdOf, issuerIdOf, verificationMethodOf } from '../../src/core/credential.js';
import { dataIntegrityHash } from '../../src/core/data-integrity.js';
import { encodeEntry, type EntryKind } from '../../src/core/entry.js';
import type { JsonObject } from '../../src/core/json.js';
import { leafHash } from '../../src/core/merkle.js';
import { encodeMultikey, toMultibase } from '../../src/core/multibase.js';
import { loadOrCreateKeyFile } from '../../src/cli/keyfile.js';
import type { LogItem, Sequencer } from '../../src/log/sequencer.js';
import { Sequencer as LogSequencer } from '../../src/log/sequencer.js';
import type { MonitorReport } from '../../src/monitor/monitor.js';
import { logOriginFor, REGISTRY_KEY_NAME, startNodeServer } from '../../src/node.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { exampleCertificate, exampleStatusEvent } from '../../test/support/examples.js';
import { waitForQuiet, watchOtherLoad } from './machine-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BASE_URL = 'https://certrail.example.org';
const SLUG = 'bench-cb';
const BLOCK = 64;

const { values: opts } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '3' },
    increment: { type: 'string', default: '10000' },
    workers: { type: 'string' },
    'quiet-threshold': { type: 'string', default: '0.15' },
    'no-wait': { type: 'boolean', default: false },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
  strict: true,
});
const ENTRIES = Number(opts.entries);
const EVENTS = Number(opts.events);
const INCREMENT = Number(opts.increment);

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
function keyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** eddsa-jcs-2022 with node:crypto, synchronously: the same bytes signDataIntegrity produces (Ed25519 is deterministic). */
function signSync(document: JsonObject, key: KeyObject, verificationMethod: string): JsonObject {
  const proof: JsonObject = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', verificationMethod, proofPurpose: 'assertionMethod' };
  const context = document['@context'];
  if (context !== undefined) proof['@context'] = context;
  const signature = sign(null, dataIntegrityHash(document, proof), key);
  return { ...document, proof: { ...proof, proofValue: toMultibase(new Uint8Array(signature)) } };
}

/** Yields the log's entries in order; each needs the chain heads of earlier ones, so it is built at sequencing time. */
class EntryGenerator {
  private produced = 0;
  private readonly heads = new Map<number, { index: number; leafHash: string }>();
  private readonly issuerId = issuerIdOf(BASE_URL, SLUG);
  private readonly cbMethod = verificationMethodOf(this.issuerId, 'key-1');
  /** Position in the current block of certificates: (round, offset); round 0 issues, rounds 1..E add events. */
  private block = 0;
  private round = 0;
  private offset = 0;
  counts = { certificates: 0, events: 0, issuerEntries: 0 };

  constructor(
    private readonly registryKey: KeyObject,
    private readonly cbKey: KeyObject,
    private readonly cbPublicMultikey: string,
  ) {}

  item(): LogItem {
    return {
      entry: (loggedAt) => {
        const index = this.produced++;
        const { kind, body, cert } = this.next();
        const bytes = encodeEntry(kind, loggedAt, body);
        if (cert !== null) this.heads.set(cert, { index, leafHash: toHex(leafHash(bytes)) });
        return bytes;
      },
    };
  }

  private next(): { kind: EntryKind; body: JsonObject; cert: number | null } {
    const registry = `${BASE_URL}/.well-known/certrail#registry`;
    if (this.counts.issuerEntries === 0) {
      this.counts.issuerEntries++;
      return { kind: 'issuer.registered', cert: null, body: signSync({ type: 'IssuerRegistration', id: this.issuerId, name: 'Bench Certification GmbH', managedSigning: false }, this.registryKey, registry) };
    }
    if (this.counts.issuerEntries === 1) {
      this.counts.issuerEntries++;
      return {
        kind: 'issuer.key.added',
        cert: null,
        body: signSync({ type: 'IssuerKeyAdded', issuer: this.issuerId, keyId: 'key-1', publicKeyMultibase: this.cbPublicMultikey }, this.registryKey, registry),
      };
    }
    const cert = this.block * BLOCK + this.offset;
    const number = `BENCH-${String(cert).padStart(7, '0')}`;
    let out: { kind: EntryKind; body: JsonObject; cert: number | null };
    if (this.round === 0) {
      this.counts.certificates++;
      out = { kind: 'certificate.issued', cert, body: signSync(exampleCertificate(BASE_URL, SLUG, number), this.cbKey, this.cbMethod) };
    } else {
      this.counts.events++;
      const kind = (['surveillance-audit', 'suspended', 'reinstated'] as const)[(this.round - 1) % 3]!;
      const event = exampleStatusEvent(certificateIdOf(BASE_URL, SLUG, number), kind, { previous: this.heads.get(cert)! });
      out = { kind: 'certificate.event', cert, body: signSync(event, this.cbKey, this.cbMethod) };
    }
    if (++this.offset === BLOCK) {
      this.offset = 0;
      if (++this.round > EVENTS) {
        this.round = 0;
        this.block++;
        // Heads of finished blocks are no longer needed.
        for (let c = (this.block - 1) * BLOCK; c < this.block * BLOCK; c++) this.heads.delete(c);
      }
    }
    return out;
  }
}

async function appendAll(sequencer: Pick<Sequencer, 'append' | 'flush'>, generator: EntryGenerator, count: number, label: string): Promise<number> {
  const started = performance.now();
  let issued = 0;
  let done = 0;
  let lastReport = started;
  const inFlight = new Set<Promise<unknown>>();
  while (issued < count) {
    while (inFlight.size < 4096 && issued < count) {
      issued++;
      const p: Promise<unknown> = sequencer.append(generator.item()).then(() => {
        inFlight.delete(p);
        done++;
      });
      inFlight.add(p);
    }
    await Promise.race(inFlight);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      process.stderr.write(`${label}: ${done}/${count} (${Math.round(done / ((lastReport - started) / 1000))}/s)\n`);
    }
  }
  await Promise.all(inFlight);
  await sequencer.flush();
  return (performance.now() - started) / 1000;
}

function fileSize(path: string): number {
  return (existsSync(path) ? statSync(path).size : 0) + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
}

interface MonitorRun {
  report: MonitorReport;
  wallSeconds: number;
  /** Cores other processes kept busy meanwhile (0 = the machine was ours). */
  otherLoad: number;
}

/**
 * Runs `certrail monitor --json` in a child process (after waiting for the shared machine to go quiet); the JSON
 * document it prints is the report.
 */
async function runMonitorProcess(url: string, db: string): Promise<MonitorRun> {
  if (!opts['no-wait']) {
    await waitForQuiet({ threshold: Number(opts['quiet-threshold']), timeoutMs: 600_000, onWait: (load) => process.stderr.write(`waiting for the machine to go quiet (other processes use ${load.toFixed(2)} cores)\n`) });
  }
  const watch = watchOtherLoad();
  const started = performance.now();
  const workers = opts.workers === undefined ? [] : ['--workers', opts.workers];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'certrail.js'), 'monitor', url, '--db', db, '--json', ...workers], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`certrail monitor exited with ${code}:\n${out}`);
  const report = JSON.parse(out) as MonitorReport;
  return { report, wallSeconds, otherLoad: watch.stop(report.resources.cpuSeconds) };
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const MB = 1e6;

async function main(): Promise<void> {
  const base = opts.dir ?? tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'certrail-monitor-bench-'));
  const dbPath = join(dir, 'certrail.db');
  const keyDir = join(dir, 'keys');
  const origin = logOriginFor(BASE_URL);
  try {
    const logKey = await loadOrCreateKeyFile(join(keyDir, 'log.key'), origin);
    const registryKey = await loadOrCreateKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
    const cbSeed = crypto.getRandomValues(new Uint8Array(32));
    const cbPublic = keyObject(cbSeed);
    const cbPublicRaw = new Uint8Array(createPublicKey(cbPublic).export({ format: 'der', type: 'spki' }).subarray(-32));
    const generator = new EntryGenerator(keyObject(registryKey.seed), cbPublic, encodeMultikey(cbPublicRaw));

    // 1. Build the log.
    const handle = openSqlite(dbPath);
    const sequencer = await LogSequencer.open({ store: createSqliteLogStore(handle), signer: logKey, origin, maxBatch: 1024, maxDelayMs: 2 });
    const buildSeconds = await appendAll(sequencer, generator, ENTRIES, 'build');
    const built = { ...generator.counts };
    handle.sqlite.close();
    const logBytes = fileSize(dbPath);
    process.stderr.write(`built ${ENTRIES} entries in ${buildSeconds.toFixed(1)} s; ${(logBytes / MB).toFixed(0)} MB\n`);

    // 2. Serve it and catch up from an empty mirror.
    const server = await startNodeServer({ host: '127.0.0.1', port: 0, dbPath, keyDir, baseUrl: BASE_URL, logOrigin: origin, maxBatch: 1024 });
    const url = `http://127.0.0.1:${server.port}`;
    const monitorDb = join(dir, 'monitor.db');
    const full = await runMonitorProcess(url, monitorDb);
    process.stderr.write(`catch-up: ${full.report.newEntries} entries in ${full.wallSeconds.toFixed(1)} s (other load ${full.otherLoad.toFixed(2)} cores)\n`);

    // 3. An incremental run after INCREMENT more entries, then a run with nothing new.
    await appendAll(server.sequencer, generator, INCREMENT, 'increment');
    const incremental = await runMonitorProcess(url, monitorDb);
    const idle = await runMonitorProcess(url, monitorDb);
    const mirrorBytes = fileSize(monitorDb);
    await server.close();

    for (const r of [full, incremental, idle]) if (!r.report.ok) throw new Error(`the monitor found anomalies: ${JSON.stringify(r.report.anomalies.slice(0, 3))}`);

    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    const section = `<!-- monitor:begin -->
## Monitor catch-up

Measured ${new Date().toISOString().slice(0, 10)} with:

\`\`\`
npx tsx scripts/bench/monitor.ts --entries ${ENTRIES} --events ${EVENTS}${opts.write ? ' --write' : ''}
\`\`\`

Machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GB RAM, Node ${process.version}, Linux ${release()}; files in ${base}.

**The log.** ${fmt(ENTRIES)} real Certrail entries built through the Sequencer (batches of 1024) in ${buildSeconds.toFixed(0)} s: one issuer
registration and one key entry signed by the registry key, then ${fmt(built.certificates)} certificates (~1.4 kB each, signed
eddsa-jcs-2022 by the CB key) each followed by ${EVENTS} chained status events (~0.6 kB; ${fmt(built.events)} in all),
interleaved in blocks of ${BLOCK} certificates. Database ${(logBytes / MB).toFixed(0)} MB. The registry serves it from the same
machine over loopback HTTP (\`startNodeServer\` in the benchmark process), so server and monitor share the 2 cores.

**The monitor** is \`certrail monitor <url> --json${opts.workers === undefined ? '' : ` --workers ${opts.workers}`}\` in its own process, from an empty mirror file: it fetches every
entry bundle and level-0 hash tile (8 tiles ahead), recomputes every leaf hash and tile, the root and the upper tiles;
worker threads (${opts.workers ?? 'one per core'}) decode every entry (canonical JCS), check its schema and verify its Data Integrity
signature (WebCrypto Ed25519); the main thread applies the entries in log order (event chains, key validity at
loggedAt, duplicates) and commits to its SQLite file (WAL, synchronous=FULL) every 16 tiles. RSS and CPU are the
monitor process's own, worker threads included (\`process.resourceUsage().maxRSS\` for the peak). Before each run the
benchmark waits for the shared machine to go quiet; "other load" is how many cores other processes kept busy during
the run (the registry serving the log counts as ours, not as other load).

| Run | New entries | Wall time (process) | Entries/s (in the run) | Monitor CPU | Peak RSS | RSS at end | Other load |
|---|---:|---:|---:|---:|---:|---:|---:|
${[['Catch-up from empty', full], ['Incremental', incremental], ['Nothing new', idle]].map(([label, r]) => {
  const run = r as MonitorRun;
  return `| ${label as string} | ${fmt(run.report.newEntries)} | ${run.wallSeconds.toFixed(1)} s | ${run.report.newEntries > 0 ? fmt(run.report.entriesPerSecond) : '–'} | ${run.report.resources.cpuSeconds.toFixed(1)} s | ${run.report.resources.maxRssMB.toFixed(0)} MB | ${run.report.resources.rssMB.toFixed(0)} MB | ${run.otherLoad.toFixed(2)} cores |`;
}).join('\n')}

Mirror file after the runs: ${(mirrorBytes / MB).toFixed(0)} MB (entries, tiles, certificate chain heads, keys, checkpoints).
Wall time includes starting the process (about 1 s of module loading through tsx).
<!-- monitor:end -->`;
    console.log(section);
    if (opts.write) {
      const doc = join(ROOT, 'docs', 'PERFORMANCE.md');
      const text = readFileSync(doc, 'utf8'); // read right before writing: other benchmarks write other sections
      const begin = text.indexOf('<!-- monitor:begin -->');
      const end = text.indexOf('<!-- monitor:end -->');
      const next = begin >= 0 && end > begin ? `${text.slice(0, begin)}${section}${text.slice(end + '<!-- monitor:end -->'.length)}` : `${text.trimEnd()}\n\n${section}\n`;
      writeFileSync(doc, next);
      process.stderr.write(`wrote ${doc}\n`);
    }
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

await main();
