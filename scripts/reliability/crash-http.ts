// Crash loop over HTTP: the registry server (src/node.ts, a real SQLite file in a temporary folder) is SIGKILLed at
// random moments while --clients clients issue certificates and update them (suspend, reinstate, surveillance audit,
// revoke), each write signed by the registered CB's key held here, each with its own Idempotency-Key. A client whose
// request fails on the connection waits for the restarted server and sends the same request again, same key and same
// body (a new token: tokens are single-use). Some acknowledged writes are replayed on purpose, right away and after
// the last restart, and must get the original receipt back, byte for byte.
//
// After every kill the database file is verified directly (scripts/crash/verify-log.ts with the registry's entry
// rules, scripts/reliability/registry-entries.ts): every acknowledged write is at its receipt's index with the leaf
// hash and the document it was acknowledged for (a retry answered with another index would leave its document there
// twice, or missing), each document is logged once, the root recomputed from all entries equals the latest
// checkpoint, and every checkpoint ever served (polled, and carried by receipts) verifies and is consistent with the
// latest. Each restart must open at the durable latest checkpoint and prove consistency over HTTP from the last one
// served before the kill. At the end, PRAGMA integrity_check must say ok.
//
//   npx tsx scripts/reliability/crash-http.ts [--kills 200] [--clients 32] [--min-ms 300] [--max-ms 1500]
//        [--startup-kills 0.1] [--replays 0.05] [--seed N] [--dir PATH] [--keep]
//
// The server runs with CERTRAIL_RATE_LIMIT=off: 32 clients of one CB write far past the default per-CB limit.
// Exits 1 on any violation. Like scripts/crash-log.ts, a SIGKILL leaves the OS page cache intact: this shows that
// receipts follow commits and that recovery and idempotency are correct, not that fsync reaches the platter.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { REGISTRY_KEY_NAME } from '../../src/config.js';
import { certificateIdOf, type StatusEventKind } from '../../src/core/credential.js';
import { ed25519PublicKey } from '../../src/core/crypto.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import type { JsonObject } from '../../src/core/json.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { exampleCertificate, exampleStatusEvent } from '../../test/support/examples.js';
import {
  deferred,
  killChildren,
  killPlan,
  messageOf,
  runProgram,
  ServedCheckpoints,
  withTimeout,
  type KillPlanOptions,
} from '../crash/loop.js';
import { verifyLog, type Acknowledgement, type VerifyReport } from '../crash/verify-log.js';
import { receiptAcknowledgement, registryEntryRules, type ReceiptFields } from './registry-entries.js';
import { ServerProcess } from './server-process.js';

/** Fixed, so the log origin and the JWT audience stay the same across restarts on different ports. */
const CRASH_HTTP_BASE_URL = 'http://certrail.crash-http';
const CB_SLUG = 'crash-cb';
const CB_KEY_ID = 'key-1';
const LISTEN_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** A client gives a write up after this many connection failures in a row (never expected). */
const MAX_ATTEMPTS = 1000;
/** Acknowledged writes replayed after the last restart, at most. */
const FINAL_REPLAYS = 200;
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** A certificate's writes, in order: each event chains to the previous receipt. */
const STEPS = ['issue', 'suspended', 'reinstated', 'surveillance-audit', 'revoked'] as const;

/** Kill plan defaults: 200 kills, servers running 300..1500 ms; the seed also drives the replay choices. */
export interface CrashHttpOptions extends KillPlanOptions {
  /** Concurrent clients (default 32). */
  clients?: number;
  /** Share of acknowledged writes replayed at once with the same key and body (default 0.05). */
  replays?: number;
  /** Keep a temporary folder even when the run passed. */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface CrashHttpSummary {
  kills: number;
  startupKills: number;
  /** Writes answered 201 (registration included), each checked at its index. */
  acknowledged: number;
  /** Requests sent again after a connection error that then got an answer (checked like every receipt). */
  retried: number;
  /** Deliberate replays of acknowledged writes, and how many returned the original receipt byte for byte. */
  replays: number;
  replaysMatched: number;
  /** Acknowledged writes missing from their index or with another entry there, at any verification. */
  lost: number;
  /** Entries committed whose receipt never reached a client (the kill came first). */
  unacknowledged: number;
  entries: number;
  certificates: number;
  checkpointsServed: number;
  checkpointsChecked: number;
  httpProofs: number;
  integrity: string | null;
  violations: string[];
  dir: string;
  seed: number;
  elapsedMs: number;
}

// ---------------------------------------------------------------------------------------------
// Clients.

/** The base URL of the server that is up, for the clients; they wait while it is down. */
class Gate {
  base: string | null = null;
  private opened = deferred<string>();

  open(base: string): void {
    this.base = base;
    this.opened.resolve(base);
  }

  close(): void {
    if (this.base === null) return;
    this.base = null;
    this.opened = deferred<string>();
  }

  wait(): Promise<string> {
    return this.base !== null ? Promise.resolve(this.base) : this.opened.promise;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---------------------------------------------------------------------------------------------
// The loop.

export async function runCrashHttp(options: CrashHttpOptions = {}): Promise<CrashHttpSummary> {
  const { kills, minMs, maxMs, startupKillShare, seed, random, dir, temporary } = killPlan(
    options,
    { kills: 200, minMs: 300, maxMs: 1500 },
    'certrail-crash-http-',
  );
  const clientCount = options.clients ?? 32;
  const replayShare = options.replays ?? 0.05;
  const log = options.log ?? (() => undefined);
  if (!(Number.isInteger(clientCount) && clientCount >= 1)) throw new Error('clients must be a positive integer');
  const dbPath = join(dir, 'certrail.db');
  const session = randomBytes(4).toString('hex');
  const started = performance.now();

  const violations: string[] = [];
  const served = new ServedCheckpoints(violations);
  const acks: Acknowledgement[] = [];
  /** Acknowledged writes that can be replayed: the request and the receipt's exact text. */
  const replayable: Array<{ label: string; request: WriteRequest; receipt: string }> = [];
  const rules = registryEntryRules();
  const gate = new Gate();
  let lastReport = null as VerifyReport | null; // set by verify()
  let stopping = false;
  let startupKills = 0;
  let checkpointsChecked = 0;
  let lost = 0;
  let retried = 0;
  let replays = 0;
  let replaysMatched = 0;
  let certificates = 0;
  const startupTimes: number[] = [];

  const seedBytes = randomBytes(32);
  const cbKey: TokenKey = { issuer: CB_SLUG, keyId: CB_KEY_ID, seed: seedBytes, publicKey: await ed25519PublicKey(seedBytes) };
  const verificationMethod = `${CRASH_HTTP_BASE_URL}/issuers/${CB_SLUG}#${CB_KEY_ID}`;
  const sign = (document: JsonObject) => signDataIntegrity(document, { seed: cbKey.seed, verificationMethod, created: iso(Date.now()) });

  interface WriteRequest {
    path: string;
    body: JsonObject;
    idempotencyKey: string;
    key: TokenKey;
  }
  type Outcome = { status: number; text: string; attempts: number };

  /**
   * Sends `request` until it gets an answer: on a connection error (the kill) it waits for the next server and sends
   * the same body with the same Idempotency-Key again, with a fresh token.
   */
  async function send(request: WriteRequest): Promise<Outcome> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const base = await gate.wait();
      try {
        const res = await fetch(`${base}${request.path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await mintToken(request.key, CRASH_HTTP_BASE_URL)}`,
            'content-type': 'application/json',
            'idempotency-key': request.idempotencyKey,
          },
          body: JSON.stringify(request.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        // A body cut by the kill is no answer: the request is sent again.
        return { status: res.status, text: await res.text(), attempts: attempt };
      } catch {
        await sleep(20 + 30 * Math.random()); // the server is going down or coming up
      }
    }
    throw new Error(`${request.path} (${request.idempotencyKey}): no answer after ${MAX_ATTEMPTS} attempts`);
  }

  /** Sends a write and checks its answer is a receipt; records the acknowledgement. */
  async function write(request: WriteRequest, label: string, sent: JsonObject | null): Promise<ReceiptFields | null> {
    const outcome = await send(request);
    if (outcome.status !== 201) {
      violations.push(`${label}: answered ${outcome.status}: ${outcome.text.slice(0, 300)}`);
      return null;
    }
    const receipt = JSON.parse(outcome.text) as ReceiptFields;
    acks.push(receiptAcknowledgement(receipt, label, sent));
    if (outcome.attempts > 1) retried++;
    // A receipt's checkpoint was served; receipts of concurrent writes carry checkpoints in any order.
    await served.record(receipt.checkpoint, label, { ordered: false });
    if (random() < replayShare) await replay({ label, request, receipt: outcome.text });
    else replayable.push({ label, request, receipt: outcome.text });
    return receipt;
  }

  /** Sends an acknowledged write again, same key and body: the answer must be the original receipt, byte for byte. */
  async function replay(original: { label: string; request: WriteRequest; receipt: string }): Promise<void> {
    replays++;
    const outcome = await send(original.request);
    if (outcome.status === 201 && outcome.text === original.receipt) replaysMatched++;
    else violations.push(`${original.label}: replay answered ${outcome.status}, not the original receipt: ${outcome.text.slice(0, 300)}`);
  }

  /** One client: certificate after certificate, each through every step, until the loop stops. */
  async function client(id: number): Promise<void> {
    for (let n = 0; !stopping; n++) {
      const number = `CH-${session}-${id}-${n}`;
      const certificateId = certificateIdOf(CRASH_HTTP_BASE_URL, CB_SLUG, number);
      const now = Date.now();
      certificates++;
      let head: { index: number; leafHash: string } | null = null;
      for (const step of STEPS) {
        const label = `${number} ${step}`;
        const document =
          step === 'issue'
            ? exampleCertificate(CRASH_HTTP_BASE_URL, CB_SLUG, number, {
                validFrom: iso(now - YEAR_MS),
                validUntil: iso(now + 2 * YEAR_MS),
                credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + YEAR_MS / 2) } } },
              })
            : exampleStatusEvent(certificateId, step satisfies StatusEventKind, {
                previous: head!,
                effective: iso(Date.now() - 1000),
                ...(step === 'surveillance-audit'
                  ? { audit: { outcome: 'passed', date: iso(Date.now() - 1000), nextDueBy: iso(Date.now() + YEAR_MS) } }
                  : {}),
              });
        const body = await sign(document);
        const path = step === 'issue' ? '/api/v1/certificates' : `/api/v1/certificates/${CB_SLUG}/${number}/events`;
        const receipt = await write({ path, body, idempotencyKey: `${number}-${step}`, key: cbKey }, label, body);
        if (!receipt) break; // reported; the chain cannot go on
        head = { index: receipt.index, leafHash: receipt.leafHash };
      }
    }
  }

  /** Registers the CB with an operator token (registry key file) on the first server, before any kill. */
  async function register(): Promise<void> {
    const registryKey = await readKeyFile(join(dir, 'keys', 'registry.key'), REGISTRY_KEY_NAME);
    const operator: TokenKey = { issuer: 'registry', keyId: 'registry', seed: registryKey.seed, publicKey: registryKey.publicKey };
    const body = {
      slug: CB_SLUG,
      name: 'Crash Certification GmbH',
      accreditation: { body: 'DAkkS', number: 'D-ZE-CRASH' },
      keys: [{ keyId: CB_KEY_ID, publicKeyMultibase: encodeMultikey(cbKey.publicKey) }],
    };
    const outcome = await send({ path: '/api/v1/issuers', body, idempotencyKey: 'register', key: operator });
    if (outcome.status !== 201) throw new Error(`registering the CB answered ${outcome.status}: ${outcome.text}`);
    for (const receipt of (JSON.parse(outcome.text) as { receipts: ReceiptFields[] }).receipts) {
      acks.push(receiptAcknowledgement(receipt, `registration ${receipt.kind}`, null));
    }
  }

  /** Starts a server; once it listens, checks it against what was durable and served, then opens the gate. */
  async function startServer(where: string, killDuringStartup: number | null): Promise<{ server: ServerProcess; base: string | null }> {
    const server = new ServerProcess(dir, CRASH_HTTP_BASE_URL, { CERTRAIL_RATE_LIMIT: 'off' });
    const timer = killDuringStartup === null ? undefined : setTimeout(() => server.kill(), killDuringStartup);
    let port: number;
    try {
      port = await withTimeout(server.listening, LISTEN_TIMEOUT_MS, 'server startup');
    } catch (error) {
      clearTimeout(timer);
      if (!server.killedByUs) violations.push(`${where}: ${messageOf(error)}`);
      return { server, base: null };
    }
    startupTimes.push(performance.now() - server.spawnedAt);
    const base = `http://127.0.0.1:${port}`;
    try {
      await served.learnKey(base, where);
      const res = await fetch(`${base}/log/checkpoint`);
      const note = await res.text();
      if (res.status !== 200) throw new Error(`GET /log/checkpoint answered ${res.status}`);
      if (lastReport?.latest && note !== lastReport.latest.note) {
        violations.push(`${where}: restarted at another checkpoint than the durable latest (${lastReport.latest.size})`);
      }
      await served.checkRestart(base, note, where);
      await served.record(note, where);
      const health = (await (await fetch(`${base}/healthz`)).json()) as { writes?: string; reason?: string };
      if (health.writes !== 'accepted') violations.push(`${where}: the restarted server refuses writes: ${health.reason}`);
    } catch (error) {
      if (!server.killedByUs) violations.push(`${where}: restart check failed: ${messageOf(error)}`);
    }
    clearTimeout(timer);
    if (server.killedByUs) return { server, base: null };
    return { server, base };
  }

  async function verify(where: string, integrityCheck: boolean): Promise<VerifyReport> {
    const report = await verifyLog({
      dbPath,
      vkey: served.vkey,
      acks,
      rules,
      served: served.notes,
      noteCache: served.cache,
      storedNotesCheckedUpTo: lastReport?.latest?.size ?? -1,
      integrityCheck,
    });
    for (const v of report.violations) violations.push(`${where}: ${v}`);
    if (lastReport?.latest && report.latest && report.latest.size < lastReport.latest.size) {
      violations.push(`${where}: the latest checkpoint went back from ${lastReport.latest.size} to ${report.latest.size}`);
    }
    lost = Math.max(lost, report.lost);
    checkpointsChecked += report.servedChecked;
    lastReport = report;
    return report;
  }

  let passed = false;
  let integrity: string | null = null;
  let clients: Promise<void>[] = [];
  try {
    log(`crash-http: ${kills} kills, ${clientCount} clients, run ${minMs}..${maxMs} ms, seed ${seed}, dir ${dir}`);
    for (let run = 1; run <= kills; run++) {
      const where = `kill ${run}`;
      const atStartup = run > 1 && random() < startupKillShare;
      const avgStartup = startupTimes.length ? startupTimes.reduce((a, b) => a + b, 0) / startupTimes.length : 1500;
      const runDelay = minMs + random() * (maxMs - minMs);
      const { server, base } = await startServer(where, atStartup ? random() * avgStartup : null);
      let ranMs = 0;
      if (base !== null) {
        gate.open(base);
        if (run === 1) {
          await register();
          clients = Array.from({ length: clientCount }, (_, i) =>
            client(i).catch((error: unknown) => {
              violations.push(`client ${i}: ${messageOf(error)}`);
            }),
          );
        }
        const polling = served.poll(base, server, where, 10);
        const listenedAt = performance.now();
        await sleep(runDelay);
        server.kill();
        await server.exited;
        gate.close();
        await polling;
        ranMs = performance.now() - listenedAt;
      } else {
        server.kill();
        await server.exited;
        startupKills++;
      }
      if (!served.knowsKey) {
        violations.push(`${where}: never learned the log verifier key`);
        break;
      }
      const verifyStart = performance.now();
      const report = await verify(where, false);
      log(
        `${where}/${kills} ${base === null ? 'during startup' : `after ${Math.round(ranMs)} ms`}: ${acks.length} acked ` +
          `(${retried} after a retry, ${replaysMatched}/${replays} replays matched), log ${report.entries} entries ` +
          `(${report.unacknowledged} unacked), ${served.notes.size} checkpoints served, verified in ` +
          `${Math.round(performance.now() - verifyStart)} ms, lost ${report.lost}` +
          `${report.violationCount ? `, ${report.violationCount} VIOLATIONS` : ''}`,
      );
    }

    // The last restart: the clients finish the writes in flight (retrying against it) and stop; a sample of every
    // acknowledged write is replayed across the restarts; every checkpoint ever served is proven consistent.
    const { server, base } = await startServer('final restart', null);
    if (base === null) throw new Error('the final server did not start');
    gate.open(base);
    stopping = true;
    await Promise.all(clients);
    const sample = Math.min(FINAL_REPLAYS, replayable.length);
    for (let i = 0; i < sample; i++) {
      const j = i + Math.floor(random() * (replayable.length - i));
      [replayable[i], replayable[j]] = [replayable[j]!, replayable[i]!];
      await replay(replayable[i]!);
    }
    const latest = await (await fetch(`${base}/log/checkpoint`)).text();
    await served.record(latest, 'final restart');
    await served.proveAll(base, latest, 'final restart');
    server.kill();
    await server.exited;
    gate.close();
    const report = await verify('final', true);
    integrity = report.integrity;
    passed = violations.length === 0 && lost === 0;
  } finally {
    stopping = true;
    killChildren();
    if (temporary && passed && !options.keep) rmSync(dir, { recursive: true, force: true });
  }

  return {
    kills,
    startupKills,
    acknowledged: acks.length,
    retried,
    replays,
    replaysMatched,
    lost,
    unacknowledged: lastReport?.unacknowledged ?? 0,
    entries: lastReport?.entries ?? 0,
    certificates,
    checkpointsServed: served.notes.size,
    checkpointsChecked,
    httpProofs: served.httpProofs,
    integrity,
    violations,
    dir,
    seed,
    elapsedMs: Math.round(performance.now() - started),
  };
}

export function formatSummary(s: CrashHttpSummary): string {
  return (
    `crash-http summary: kills=${s.kills} (${s.startupKills} during startup) acknowledged=${s.acknowledged} ` +
    `retried-after-connection-error=${s.retried} replays-matched=${s.replaysMatched}/${s.replays} lost=${s.lost} ` +
    `unacknowledged-but-durable=${s.unacknowledged} entries=${s.entries} certificates=${s.certificates} ` +
    `checkpoints-served=${s.checkpointsServed} checkpoints-checked=${s.checkpointsChecked} ` +
    `http-consistency-proofs=${s.httpProofs} integrity=${s.integrity} violations=${s.violations.length} seed=${s.seed} ` +
    `time=${(s.elapsedMs / 1000).toFixed(1)}s`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '200' },
      clients: { type: 'string', default: '32' },
      'min-ms': { type: 'string', default: '300' },
      'max-ms': { type: 'string', default: '1500' },
      'startup-kills': { type: 'string', default: '0.1' },
      replays: { type: 'string', default: '0.05' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const summary = await runCrashHttp({
    kills: Number(values.kills),
    clients: Number(values.clients),
    minMs: Number(values['min-ms']),
    maxMs: Number(values['max-ms']),
    startupKills: Number(values['startup-kills']),
    replays: Number(values.replays),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    dir: values.dir,
    keep: values.keep,
    log: (line) => console.log(line),
  });
  for (const v of summary.violations) console.error(`VIOLATION ${v}`);
  console.log(formatSummary(summary));
  const failed = summary.violations.length > 0 || summary.lost > 0 || summary.integrity !== 'ok';
  if (failed) console.error(`crash-http FAILED; database kept in ${summary.dir}`);
  process.exit(failed ? 1 : 0);
}

runProgram(import.meta.url, main);
