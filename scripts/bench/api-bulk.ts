// Child process of scripts/bench/api.ts (not run by hand): fills the benchmark database with certificates quickly,
// while the server is stopped. Building a million certificates through HTTP would take the better part of an hour on
// a small machine, so this takes a shorter path through the same code the registry runs for an issuance:
//
//   - the CB side as in the HTTP phase: each certificate is built and signed (eddsa-jcs-2022) with the CB's key, in
//     a worker thread (api-sign-worker.ts) so that signing overlaps sequencing;
//   - the registry side as Registry.issueCertificate does it: parseDocument(certificateSchema) (in the worker), then
//     one `certificate.issued` entry through the single Sequencer (same entry bytes, tiles and signed checkpoints,
//     one SQLite transaction per batch) with the same index rows as RegistryStore.insertCertificate, written as one
//     multi-row INSERT per table and batch instead of three statements per certificate.
//
// Skipped, because they are the costs of the HTTP phase, not the state they leave: HTTP, JWT authentication (and its
// used-token row), the signature check against the CB's registered key (the verify phase checks every certificate it
// reads, and counts any verdict other than `valid: true` as an error) and the receipt.
//
// The database is opened as src/node.ts opens it (openSqlite, the log key file, Sequencer.open); the log must not be
// served meanwhile (the sequencer's compare-and-swap would stop one of the two writers).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { Worker } from 'node:worker_threads';
import { asJsonObject, certificateSchema, parseDocument, toMillis, type Certificate } from '../../src/core/credential.js';
import type { JsonObject } from '../../src/core/json.js';
import { fromHex } from '../../src/core/bytes.js';
import { encodeEntry } from '../../src/core/entry.js';
import { leafHash } from '../../src/core/merkle.js';
import { certificateFacts } from '../../src/core/status.js';
import { Sequencer, type LogItem } from '../../src/log/sequencer.js';
import type { AnySQLiteDatabase, IndexWrite } from '../../src/store/log-store.js';
import { certificateModels, certificates, certificateStandards } from '../../schema/tables.js';
import { foldState } from '../../src/store/registry-store.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { BENCH_ISSUER, BENCH_KEY_ID, benchCertificate, CertificateSigner, type CertificateDates } from './api-support.js';
import type { SignRequest, SignResponse, SignWorkerData } from './api-sign-worker.js';

/** Rows per multi-row INSERT: 15 columns each stays below SQLite's 32,766 bound parameters. */
const ROWS_PER_INSERT = 2048;

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface BulkArgs {
  dbPath: string;
  keyDir: string;
  baseUrl: string;
  logOrigin: string;
  /** The CB's signing seed, hex (a throwaway key of this run). */
  seedHex: string;
  dates: CertificateDates;
  /** Certificates numbered first … last (inclusive) are added. */
  first: number;
  last: number;
  /** Entries per commit. */
  batch: number;
  /** Signing worker threads (0: sign in the sequencing thread). */
  workers: number;
}

export type BulkMessage =
  | { type: 'progress'; done: number; seconds: number }
  | {
      type: 'done';
      done: number;
      seconds: number;
      size: number;
      /** CPU time spent building, signing and checking certificates (in the workers, or here without workers). */
      signSeconds: number;
      /** Time the sequencing thread waited for signed certificates. */
      waitSeconds: number;
      /** Time spent sequencing and committing. */
      appendSeconds: number;
    }
  | { type: 'error'; message: string };

/** Sends a message to the parent and resolves once it is handed to the channel (before this process exits). */
function send(message: BulkMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

async function build(args: BulkArgs): Promise<void> {
  const handle = openSqlite(args.dbPath);
  const logKey = await readKeyFile(join(args.keyDir, 'log.key'), args.logOrigin);
  const sequencer = await Sequencer.open({ store: createSqliteLogStore(handle), signer: logKey, origin: args.logOrigin, maxBatch: args.batch, maxDelayMs: 50 });
  if (sequencer.refused) throw new Error(`the log refuses writes: ${sequencer.refused}`);
  const workers = Array.from({ length: args.workers }, () => {
    const workerData: SignWorkerData = { baseUrl: args.baseUrl, seedHex: args.seedHex, dates: args.dates };
    // Worker threads do not inherit the parent's `--import tsx` hooks: load tsx first, then the TypeScript module.
    const boot =
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./api-sign-worker.ts', import.meta.url).href)}); })`;
    return new Worker(boot, { eval: true, workerData });
  });
  const inThread = new CertificateSigner(fromHex(args.seedHex), `${args.baseUrl}/issuers/${BENCH_ISSUER}#${BENCH_KEY_ID}`, args.dates.created);
  let signMs = 0;
  const waiting = new Map<number, (response: SignResponse) => void>();
  for (const worker of workers) {
    worker.on('message', (response: SignResponse) => {
      signMs += response.seconds * 1000;
      waiting.get(response.first)?.(response);
      waiting.delete(response.first);
    });
    worker.on('error', (error) => {
      void send({ type: 'error', message: `signing worker: ${error.stack ?? error.message}` }).then(() => process.exit(1));
    });
  }
  /** The signed certificates first … last: from a worker, or signed here when there is none. */
  let turn = 0;
  const signed = (first: number, last: number): Promise<JsonObject[]> => {
    if (workers.length === 0) {
      const t0 = performance.now();
      const documents: JsonObject[] = [];
      for (let n = first; n <= last; n++) documents.push(asJsonObject(parseDocument(certificateSchema, inThread.sign(benchCertificate(args.baseUrl, n, args.dates)))));
      signMs += performance.now() - t0;
      return Promise.resolve(documents);
    }
    const worker = workers[turn++ % workers.length]!;
    return new Promise<SignResponse>((resolve) => {
      waiting.set(first, resolve);
      worker.postMessage({ first, last } satisfies SignRequest);
    }).then((response) => response.documents.map((text) => JSON.parse(text) as JsonObject));
  };

  // The index rows Registry.issueCertificate writes (RegistryStore.insertCertificate: the certificate, its distinct
  // model digests and standards), collected over one commit and written as one multi-row INSERT per table by the
  // commit's last entry: per-row statements cost more than the rest of the bulk path together.
  const db = handle.db as unknown as AnySQLiteDatabase;
  let certificateRows: Array<typeof certificates.$inferInsert> = [];
  let modelRows: Array<typeof certificateModels.$inferInsert> = [];
  let standardRows: Array<typeof certificateStandards.$inferInsert> = [];
  const takeRows = (): IndexWrite[] => {
    const writes: IndexWrite[] = [];
    for (let i = 0; i < certificateRows.length; i += ROWS_PER_INSERT) writes.push(db.insert(certificates).values(certificateRows.slice(i, i + ROWS_PER_INSERT)));
    for (let i = 0; i < modelRows.length; i += ROWS_PER_INSERT) writes.push(db.insert(certificateModels).values(modelRows.slice(i, i + ROWS_PER_INSERT)));
    for (let i = 0; i < standardRows.length; i += ROWS_PER_INSERT) writes.push(db.insert(certificateStandards).values(standardRows.slice(i, i + ROWS_PER_INSERT)));
    certificateRows = [];
    modelRows = [];
    standardRows = [];
    return writes;
  };

  const item = (body: JsonObject, lastOfCommit: boolean): LogItem => {
    // The worker checked the document against certificateSchema; this only gives it its type back.
    const credential = body as unknown as Certificate;
    const subject = credential.credentialSubject;
    const number = subject.certificate.number;
    const key = { issuer: BENCH_ISSUER, number };
    return {
      entry: (loggedAt) => encodeEntry('certificate.issued', loggedAt, body),
      writes: (index, entry, loggedAt) => {
        certificateRows.push({
          ...key,
          issuedIndex: index,
          loggedAt,
          lastIndex: index,
          lastLeafHash: buffer(leafHash(entry)),
          lifecycle: 'active',
          organization: subject.organization.name,
          systemName: subject.system.name,
          validFrom: toMillis(credential.validFrom),
          validUntil: toMillis(credential.validUntil),
          keyId: BENCH_KEY_ID,
          eventCount: 0,
          stateAt: loggedAt,
          state: JSON.stringify(foldState(certificateFacts(credential), [])),
        });
        for (const digest of new Set(subject.models.map((m) => m.digest))) modelRows.push({ digest, ...key });
        for (const standard of new Set(subject.certificate.standards.map((st) => st.id))) standardRows.push({ standard, ...key });
        return lastOfCommit ? takeRows() : [];
      },
    };
  };

  const start = performance.now();
  let waitMs = 0;
  let appendMs = 0;
  let done = 0;
  let reported = start;
  // Keep a few chunks signing ahead of the one being sequenced.
  const chunks: Array<Promise<JsonObject[]>> = [];
  let nextFirst = args.first;
  const requestChunk = () => {
    if (nextFirst > args.last) return;
    const last = Math.min(args.last, nextFirst + args.batch - 1);
    chunks.push(signed(nextFirst, last));
    nextFirst = last + 1;
  };
  for (let k = 0; k < Math.max(1, 2 * workers.length + 1); k++) requestChunk();
  while (chunks.length > 0) {
    const t0 = performance.now();
    const documents = await chunks.shift()!;
    requestChunk();
    const t1 = performance.now();
    // A chunk is exactly one commit (maxBatch = chunk size, appended in one go); check it, as its last entry carries
    // the index rows of all.
    const results = await Promise.all(documents.map((d, k) => sequencer.append(item(d, k === documents.length - 1))));
    if (results.some((r) => r.checkpoint.size !== results[0]!.checkpoint.size)) throw new Error('a chunk was split across commits');
    const t2 = performance.now();
    waitMs += t1 - t0;
    appendMs += t2 - t1;
    done += documents.length;
    if (t2 - reported > 5000) {
      reported = t2;
      void send({ type: 'progress', done, seconds: (t2 - start) / 1000 });
    }
  }
  await Promise.all(workers.map((w) => w.terminate()));
  await sequencer.flush();
  const seconds = (performance.now() - start) / 1000;
  const size = sequencer.checkpoint.size;
  handle.sqlite.close();
  await send({ type: 'done', done, seconds, size, signSeconds: signMs / 1000, waitSeconds: waitMs / 1000, appendSeconds: appendMs / 1000 });
}

process.once('message', (message: BulkArgs) => {
  build(message).then(
    () => process.exit(0),
    async (error: unknown) => {
      await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
});
