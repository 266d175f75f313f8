// Several registry server processes on one database file (src/log/leader.ts): exactly one sequences, the others
// forward writes to it, and every one serves current reads. --processes servers (the Node entry, src/node.ts) share
// one SQLite file; --clients clients write --events events through the API, each request to a process chosen round
// robin: certificates of one CB with managed signing, each issued and then suspended and reinstated twice (5 events),
// every write with its own Idempotency-Key. A write answered 503 or cut off is sent again, same key and body, a fresh
// token. --kills times during the run the leader is SIGKILLed (a follower must take over) and restarted as a follower.
//
// Checked: every acknowledged write is at its receipt's index with its leaf hash; each document is logged once (a
// retry never wrote twice); no entry is unacknowledged at the end (a write the killed leader committed without
// answering was answered by its retry); indices are contiguous; the root recomputed from all entries equals the latest
// checkpoint; every checkpoint any process served (polled from each, and carried by receipts and bundles) is the
// stored one of its size, so there is exactly one root per tree size; PRAGMA integrity_check is ok; and reads are
// current: after a write is acknowledged, another process's bundle of that certificate already holds it.
//
//   npx tsx scripts/reliability/multi-process.ts [--processes 3] [--events 50000] [--clients 32] [--kills 1]
//                                                [--read-every 20] [--dir PATH] [--keep]
//
// Prints progress, then one summary line; exits 1 on any violation.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { TokenKey } from '../../src/cli/token.js';
import { fetchVkey, messageOf } from '../crash/loop.js';
import {
  certificateDraft,
  checkDatabase,
  eventDraft,
  operatorKey,
  receiptAcknowledgement,
  registerManagedCb,
  sendWrite,
  sleep,
  startServer,
  type Acknowledgement,
  type ReceiptFields,
  type RunningServer,
  type WriteRequest,
} from './multi-server.js';

const CB = 'multi-cb';
/** A certificate's writes, in order. */
const STEPS = ['issue', 'suspended', 'reinstated', 'suspended', 'reinstated'] as const;
/** A write is given up (a violation) after this many refused or cut-off attempts. */
const MAX_ATTEMPTS = 400;
const POLL_MS = 100;
const TAKEOVER_TIMEOUT_MS = 10_000;

export interface MultiProcessOptions {
  processes?: number;
  /** Writes to acknowledge (rounded up to whole certificates of 5 events). */
  events?: number;
  clients?: number;
  /** Leader kills, spread evenly over the run. */
  kills?: number;
  /** One acknowledged write in this many is followed by a bundle read from another process. */
  readEvery?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface MultiProcessSummary {
  processes: number;
  acknowledged: number;
  /** Attempts answered 503 or cut off (the kills), each sent again. */
  retried: number;
  kills: number;
  /** The longest time from a leader kill to a follower advertising itself as the new leader. */
  failoverMs: number;
  /** Leaderships the database has had (the lock's term). */
  terms: number;
  entries: number;
  /** Distinct checkpoints served, and the tree sizes they name (equal when every size has one root). */
  checkpointsServed: number;
  sizesServed: number;
  currentReads: number;
  lost: number;
  unacknowledged: number;
  integrity: string | null;
  violations: string[];
  writesPerSecond: number;
  elapsedMs: number;
  dir: string;
}

export async function runMultiProcess(options: MultiProcessOptions = {}): Promise<MultiProcessSummary> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const count = options.processes ?? 3;
  const certificates = Math.ceil((options.events ?? 50_000) / STEPS.length);
  const clients = options.clients ?? 32;
  const kills = options.kills ?? 1;
  const readEvery = options.readEvery ?? 20;
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'certrail-multi-'));
  const dbPath = join(dir, 'certrail.db');
  const violations: string[] = [];
  const acks: Acknowledgement[] = [];
  const served = new Set<string>();
  let retried = 0;
  let currentReads = 0;
  let failoverMs = 0;
  let killsDone = 0;

  // The first process creates the keys and the schema; the others start together.
  const servers: RunningServer[] = [await startServer(dir, dbPath)];
  servers.push(...(await Promise.all(Array.from({ length: count - 1 }, () => startServer(dir, dbPath)))));
  const vkey = await fetchVkey(servers[0]!.base);
  const advertised = () => (JSON.parse(readFileSync(`${dbPath}-sequencer.json`, 'utf8')) as { pid: number; term: number });
  log(`${count} processes on ${dbPath}; leader pid ${advertised().pid}`);

  let turn = 0;
  const live = () => servers.filter((s) => !s.process.hasExited);
  const pick = (not?: RunningServer) => {
    const candidates = live().filter((s) => s !== not);
    return candidates[turn++ % candidates.length] ?? servers[0]!;
  };
  const record = (receipt: ReceiptFields, label: string) => {
    acks.push(receiptAcknowledgement(receipt, label, null));
    served.add(receipt.checkpoint);
  };

  const operator = await operatorKey(join(dir, 'keys'));
  const cb = await registerManagedCb(pick().base, operator, CB);
  cb.receipts.forEach((receipt) => record(receipt, `register ${CB}`));

  /** Sends until acknowledged: a 503 or a cut connection (a kill) is retried on the next process. */
  async function write(request: WriteRequest, label: string): Promise<{ receipt: ReceiptFields; server: RunningServer } | null> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const server = pick();
      try {
        const answer = await sendWrite(server.base, request);
        if (answer.status === 201) {
          const receipt = JSON.parse(answer.text) as ReceiptFields;
          record(receipt, label);
          return { receipt, server };
        }
        if (answer.status !== 503) {
          violations.push(`${label}: answered ${answer.status}: ${answer.text.slice(0, 300)}`);
          return null;
        }
      } catch {
        // the process was killed mid-request
      }
      retried++;
      await sleep(20 + 30 * Math.random());
    }
    violations.push(`${label}: not acknowledged after ${MAX_ATTEMPTS} attempts`);
    return null;
  }

  /** A bundle of the certificate from another process must already hold the acknowledged entry. */
  async function readBack(number: string, index: number, writer: RunningServer): Promise<void> {
    const reader = pick(writer);
    try {
      const res = await fetch(`${reader.base}/api/v1/certificates/${CB}/${number}/bundle`);
      const text = await res.text();
      if (reader.process.hasExited) return;
      if (res.status !== 200) {
        violations.push(`bundle of ${number} from pid ${reader.process.pid} after write ${index}: ${res.status} ${text.slice(0, 200)}`);
        return;
      }
      const bundle = JSON.parse(text) as { checkpoint: string; entries: Array<{ index: number }> };
      served.add(bundle.checkpoint);
      currentReads++;
      if (!bundle.entries.some((e) => e.index === index)) {
        violations.push(`pid ${reader.process.pid} served a bundle of ${number} without entry ${index}, acknowledged before the read`);
      }
    } catch {
      // the reader was killed meanwhile
    }
  }

  let nextCertificate = 0;
  let acknowledged = 0;
  let nextReport = 5000;
  const total = certificates * STEPS.length;
  const killPoints = Array.from({ length: kills }, (_, k) => Math.floor(((k + 1) * total) / (kills + 1)));
  async function client(key: TokenKey): Promise<void> {
    for (let n = nextCertificate++; n < certificates; n = nextCertificate++) {
      const number = `MP-${n}`;
      for (const [step, kind] of STEPS.entries()) {
        const request: WriteRequest =
          kind === 'issue'
            ? { path: '/api/v1/certificates', key, body: certificateDraft(CB, number), idempotencyKey: `${number}-${step}` }
            : { path: `/api/v1/certificates/${CB}/${number}/events`, key, body: eventDraft(kind), idempotencyKey: `${number}-${step}` };
        const done = await write(request, `${number} ${kind} (step ${step})`);
        if (!done) return;
        acknowledged++;
        if (acknowledged % readEvery === 0) await readBack(number, done.receipt.index, done.server);
        if (killsDone < kills && acknowledged >= killPoints[killsDone]!) {
          killsDone++;
          failovers.push(killLeader());
        }
        if (acknowledged >= nextReport) {
          nextReport += 5000;
          log(`${acknowledged}/${total} writes acknowledged, ${retried} retried`);
        }
      }
    }
  }

  /** The kills under way: each ends with its restarted process in `servers`, so it is awaited before they stop. */
  const failovers: Array<Promise<void>> = [];
  async function killLeader(): Promise<void> {
    const { pid } = advertised();
    const leader = servers.find((s) => s.process.pid === pid && !s.process.hasExited);
    if (!leader) {
      violations.push(`the advertised leader pid ${pid} is not a live process of this run`);
      return;
    }
    const killedAt = performance.now();
    leader.process.kill();
    await leader.process.exited;
    // A follower takes the lock and advertises itself.
    while (advertised().pid === pid && performance.now() - killedAt < TAKEOVER_TIMEOUT_MS) await sleep(5);
    if (advertised().pid === pid) violations.push(`no follower took over within ${TAKEOVER_TIMEOUT_MS} ms of killing pid ${pid}`);
    failoverMs = Math.max(failoverMs, performance.now() - killedAt);
    log(`killed leader pid ${pid} at ${acknowledged} acknowledged writes; pid ${advertised().pid} took over`);
    const restarted = await startServer(dir, dbPath);
    servers.push(restarted);
    log(`restarted pid ${pid} as pid ${restarted.process.pid}, a follower`);
  }

  let polling = true;
  const poller = (async () => {
    while (polling) {
      await Promise.all(
        live().map(async (server) => {
          try {
            const res = await fetch(`${server.base}/log/checkpoint`);
            if (res.status === 200) served.add(await res.text());
          } catch {
            // killed meanwhile
          }
        }),
      );
      await sleep(POLL_MS);
    }
  })();

  const writing = performance.now();
  await Promise.all(Array.from({ length: clients }, () => client(cb.key)));
  const writeMs = performance.now() - writing;
  polling = false;
  await poller;
  // A kill near the end may still be restarting its process: only then is every process in `servers`.
  await Promise.all(failovers);
  const terms = advertised().term;
  await Promise.all(servers.map((s) => s.process.stop()));

  const report = await checkDatabase({ dbPath, vkey, acks, served });
  violations.push(...report.violations);
  if (report.unacknowledged > 0) violations.push(`${report.unacknowledged} entries were never acknowledged`);
  if (killsDone < kills) violations.push(`only ${killsDone} of ${kills} leader kills happened`);
  const sizes = new Set([...served].map((note) => note.split('\n')[1]));
  if (sizes.size !== served.size) violations.push(`${served.size} distinct checkpoints served for ${sizes.size} tree sizes`);
  if (violations.length === 0 && !options.keep && !options.dir) rmSync(dir, { recursive: true, force: true });
  return {
    processes: count,
    acknowledged: acks.length,
    retried,
    kills: killsDone,
    failoverMs,
    terms,
    entries: report.entries,
    checkpointsServed: served.size,
    sizesServed: sizes.size,
    currentReads,
    lost: report.lost,
    unacknowledged: report.unacknowledged,
    integrity: report.integrity,
    violations,
    writesPerSecond: (acknowledged / writeMs) * 1000,
    elapsedMs: performance.now() - started,
    dir,
  };
}

export function formatSummary(s: MultiProcessSummary): string {
  return (
    `multi-process: ${s.processes} processes, ${s.acknowledged} writes acknowledged (${s.writesPerSecond.toFixed(0)}/s), ` +
    `${s.retried} retried, ${s.kills} leader kills (failover ≤ ${s.failoverMs.toFixed(0)} ms, ${s.terms} terms), ` +
    `${s.entries} entries, ${s.checkpointsServed} checkpoints served for ${s.sizesServed} sizes, ${s.currentReads} cross-process reads, ` +
    `${s.lost} lost, ${s.unacknowledged} unacknowledged, integrity ${s.integrity ?? 'not checked'}, ` +
    `${s.violations.length} violations in ${(s.elapsedMs / 1000).toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      processes: { type: 'string' },
      events: { type: 'string' },
      clients: { type: 'string' },
      kills: { type: 'string' },
      'read-every': { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
    },
  });
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const summary = await runMultiProcess({
    processes: number(values.processes),
    events: number(values.events),
    clients: number(values.clients),
    kills: number(values.kills),
    readEvery: number(values['read-every']),
    dir: values.dir,
    keep: values.keep,
    log: (line) => console.log(line),
  });
  for (const v of summary.violations.slice(0, 30)) console.log(`violation: ${v}`);
  console.log(formatSummary(summary) + (summary.violations.length > 0 || values.keep ? ` (dir ${summary.dir})` : ''));
  process.exitCode = summary.violations.length > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(messageOf(error));
    process.exit(1);
  });
}
