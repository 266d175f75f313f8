// Storage faults under a running registry server (the Node entry, src/node.ts, on a real SQLite file). Each fault gets
// its own server and database:
//
// - disk-full: the database folder is a small tmpfs (mount -t tmpfs -o size=…), filled until writes fail;
// - read-only: the database file, its WAL and its folder are made immutable (chattr +i), which denies writes even to
//   root and even through the file descriptors SQLite already holds (a tmpfs cannot be remounted read-only while
//   SQLite holds it open for writing: the kernel answers EBUSY);
// - write-lock: a second process holds BEGIN EXCLUSIVE on the same file for --lock-seconds (longer if the writes and
//   reads of the fault take longer).
//
// While the fault lasts every write (issuances and status events, each with its Idempotency-Key) must be answered 503
// application/problem+json with code `unavailable` and a Retry-After header, and never acknowledged; reads and
// verification (checkpoint, tiles, entry bundles, consistency proof, GET /v/…, batch verify, bundles) must keep
// answering 200. Once the fault is removed the same server process (no restart) must accept the same writes again,
// and the database must check out: every acknowledged write at its index, nothing in the log or its index tables that
// was not acknowledged (no half-written commit), the root recomputed from all entries equal to the latest checkpoint,
// every served checkpoint the stored one of its size, PRAGMA integrity_check ok.
//
//   npx tsx scripts/reliability/faults.ts [--faults disk-full,read-only,write-lock] [--writes 20] [--lock-seconds 5]
//                                         [--dir PATH] [--keep]
//
// disk-full and read-only need root (mount, chattr); without it they are skipped with the reason, write-lock always
// runs. Prints one summary line per fault and a total; exits 1 on any violation.
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { TokenKey } from '../../src/cli/token.js';
import { certificateIdOf } from '../../src/core/credential.js';
import { entriesPath, tilePath } from '../../src/core/tiles.js';
import { fetchVkey, messageOf, trackChild } from '../crash/loop.js';
import {
  certificateDraft,
  checkDatabase,
  eventDraft,
  operatorKey,
  receiptAcknowledgement,
  registerManagedCb,
  RELIABILITY_BASE_URL,
  sendWrite,
  sleep,
  startServer,
  type Acknowledgement,
  type Answer,
  type ReceiptFields,
  type RunningServer,
  type WriteRequest,
} from './multi-server.js';

export const FAULTS = ['disk-full', 'read-only', 'write-lock'] as const;
export type FaultName = (typeof FAULTS)[number];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CB = 'faults-cb';
/** Certificates issued before the fault: the reads verify them, the fault-time events target them. */
const BASELINE = 4;
/** After the fault is removed, the refused writes must all be accepted within this time. */
const RECOVERY_MS = 20_000;
const TMPFS_BYTES = 16 * 1024 * 1024;
/** A read slower than this during a fault counts as not working (e.g. an event loop blocked on a busy database). */
const READ_LIMIT_MS = 3000;

export interface FaultsOptions {
  faults?: readonly FaultName[];
  /** Issuances attempted during each fault (plus one status event per baseline certificate); default 20. */
  writes?: number;
  /** How long the other process holds the write lock at least (default 5 s). */
  lockSeconds?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface FaultResult {
  fault: FaultName;
  /** Writes attempted while the fault lasted, and how many were answered 503 unavailable with Retry-After. */
  attempted: number;
  refused: number;
  /** Reads during the fault, those not answered 200 (or not verifying), and the slowest one. */
  reads: number;
  readFailures: number;
  slowestReadMs: number;
  /** From removing the fault to the first refused write accepted, by the same server process. */
  recoveryMs: number;
  entries: number;
  integrity: string | null;
  violations: string[];
}

export interface FaultsSummary {
  results: FaultResult[];
  skipped: Array<{ fault: FaultName; reason: string }>;
  violations: number;
  dir: string;
}

/** Why `fault` cannot run on this machine, or null when it can (mount and chattr need root). */
export function faultRefusal(fault: FaultName): string | null {
  if (fault === 'write-lock') return null;
  if (process.getuid?.() !== 0) return `${fault} needs root (mount, chattr); running as uid ${process.getuid?.()}`;
  const probe = mkdtempSync(join(tmpdir(), 'certrail-fault-probe-'));
  try {
    if (fault === 'disk-full') {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
      execFileSync('umount', [probe], { stdio: 'pipe' });
    } else {
      const file = join(probe, 'probe');
      closeSync(openSync(file, 'w'));
      execFileSync('chattr', ['+i', file], { stdio: 'pipe' });
      execFileSync('chattr', ['-i', file], { stdio: 'pipe' });
    }
    return null;
  } catch (error) {
    return `${fault} is not possible here: ${messageOf(error).split('\n')[0]}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** A fault: where its database lives, how it starts, how it ends. */
interface Fault {
  prepare(dataDir: string): void;
  inject(dbPath: string): Promise<void>;
  remove(): Promise<void>;
  /** Unmounts or unlocks whatever is left after a failure. */
  cleanup(): void;
}

function diskFull(): Fault {
  let dataDir = '';
  let filler = '';
  return {
    prepare(dir) {
      dataDir = dir;
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir]);
    },
    async inject(dbPath) {
      // Empty the WAL first: otherwise a commit could reuse WAL space already allocated and need no new block.
      const db = new Database(dbPath);
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      filler = join(dataDir, 'filler');
      const fd = openSync(filler, 'w');
      try {
        for (const size of [1 << 20, 1 << 12, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    async remove() {
      rmSync(filler, { force: true });
    },
    cleanup() {
      try {
        execFileSync('umount', [dataDir], { stdio: 'pipe' });
      } catch {
        // not mounted (any more)
      }
    },
  };
}

function readOnly(): Fault {
  let paths: string[] = [];
  return {
    prepare() {},
    async inject(dbPath) {
      paths = [dbPath, `${dbPath}-wal`, resolve(dbPath, '..')];
      execFileSync('chattr', ['+i', ...paths]);
    },
    async remove() {
      execFileSync('chattr', ['-i', ...paths]);
      paths = [];
    },
    cleanup() {
      if (paths.length > 0) execFileSync('chattr', ['-i', ...paths], { stdio: 'pipe' });
    },
  };
}

/**
 * Another process takes BEGIN EXCLUSIVE (in WAL mode, the write lock) and holds it until told to roll back, at least
 * `seconds` after it locked and in any case until the writes and reads of the fault are done (a loaded machine must
 * not let the lock go before the writes reached the database).
 */
function writeLock(seconds: number): Fault {
  let release = async () => {};
  let kill = () => {};
  return {
    prepare() {},
    async inject(dbPath) {
      const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(dbPath)});
db.exec('BEGIN EXCLUSIVE'); console.log('locked');
process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`;
      const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
      trackChild(child);
      kill = () => child.kill('SIGKILL');
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      await new Promise<void>((locked, failed) => {
        child.stdout.once('data', () => locked());
        child.once('exit', (code) => failed(new Error(`the lock holder exited with ${code} before locking`)));
      });
      const lockedAt = performance.now();
      release = async () => {
        await sleep(Math.max(0, lockedAt + seconds * 1000 - performance.now()));
        child.stdin.end('release\n');
        await exited;
      };
    },
    remove: () => release(),
    cleanup: () => kill(),
  };
}

export async function runFaults(options: FaultsOptions = {}): Promise<FaultsSummary> {
  const log = options.log ?? (() => {});
  const root = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'certrail-faults-'));
  const summary: FaultsSummary = { results: [], skipped: [], violations: 0, dir: root };
  for (const fault of options.faults ?? FAULTS) {
    const refusal = faultRefusal(fault);
    if (refusal) {
      summary.skipped.push({ fault, reason: refusal });
      log(`${fault}: skipped: ${refusal}`);
      continue;
    }
    const result = await runFault(fault, join(root, fault), options);
    summary.results.push(result);
    summary.violations += result.violations.length;
    log(formatResult(result));
    for (const v of result.violations.slice(0, 20)) log(`  violation: ${v}`);
  }
  if (!options.keep && summary.violations === 0 && !options.dir) rmSync(root, { recursive: true, force: true });
  return summary;
}

async function runFault(name: FaultName, dir: string, options: FaultsOptions): Promise<FaultResult> {
  const writes = options.writes ?? 20;
  const fault = name === 'disk-full' ? diskFull() : name === 'read-only' ? readOnly() : writeLock(options.lockSeconds ?? 5);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const dbPath = join(dataDir, 'certrail.db');
  const violations: string[] = [];
  const acks: Acknowledgement[] = [];
  const served = new Set<string>();
  const result: FaultResult = {
    fault: name,
    attempted: 0,
    refused: 0,
    reads: 0,
    readFailures: 0,
    slowestReadMs: 0,
    recoveryMs: 0,
    entries: 0,
    integrity: null,
    violations,
  };
  fault.prepare(dataDir);
  let server: RunningServer | null = null;
  try {
    server = await startServer(dir, dbPath);
    const base = server.base;
    const vkey = await fetchVkey(base);
    const acknowledge = (answer: Answer, label: string) => {
      const receipts = JSON.parse(answer.text) as ReceiptFields | { receipts: ReceiptFields[] };
      for (const receipt of 'receipts' in receipts ? receipts.receipts : [receipts]) {
        acks.push(receiptAcknowledgement(receipt, label, null));
        served.add(receipt.checkpoint);
      }
    };

    const operator = await operatorKey(join(dir, 'keys'));
    const cb = await registerManagedCb(base, operator, CB);
    for (const receipt of cb.receipts) {
      acks.push(receiptAcknowledgement(receipt, `register ${CB}`, null));
      served.add(receipt.checkpoint);
    }
    const numbers = Array.from({ length: BASELINE }, (_, i) => `FB-${i}`);
    for (const number of numbers) {
      const answer = await sendWrite(base, issuance(cb.key, number));
      if (answer.status !== 201) throw new Error(`baseline issuance ${number}: ${answer.status} ${answer.text.slice(0, 300)}`);
      acknowledge(answer, `issue ${number}`);
    }

    // The fault: every write refused with 503, every read answered.
    await fault.inject(dbPath);
    const pending: Array<{ label: string; request: WriteRequest }> = [
      ...Array.from({ length: writes }, (_, i) => ({ label: `issue FF-${i}`, request: issuance(cb.key, `FF-${i}`) })),
      ...numbers.map((number) => ({ label: `suspend ${number}`, request: suspension(cb.key, number) })),
    ];
    const answers = await Promise.all(pending.map((p) => sendWrite(base, p.request)));
    result.attempted = answers.length;
    answers.forEach((answer, i) => {
      const problem = refusalProblem(answer);
      if (problem === null) result.refused++;
      else violations.push(`${pending[i]!.label} during ${name}: ${problem}`);
      if (answer.status === 201) acknowledge(answer, pending[i]!.label);
    });
    const reads = await readEverything(base, numbers, served, 'active');
    result.reads = reads.count;
    result.readFailures = reads.failures.length;
    result.slowestReadMs = reads.slowestMs;
    if (reads.slowestMs > READ_LIMIT_MS) violations.push(`a read during ${name} took ${reads.slowestMs.toFixed(0)} ms`);
    violations.push(...reads.failures.map((f) => `read during ${name}: ${f}`));

    // Removed: the same process accepts the same writes again, by itself.
    await fault.remove();
    const removedAt = performance.now();
    for (const p of pending) {
      const answer = await retryUntilAccepted(base, p.request, removedAt + RECOVERY_MS);
      if (answer.status === 201) {
        result.recoveryMs ||= performance.now() - removedAt;
        acknowledge(answer, p.label);
      } else violations.push(`${p.label} after ${name} was removed: ${answer.status} ${answer.text.slice(0, 200)}`);
    }
    if (server.process.hasExited) violations.push(`the server exited during ${name}: ${server.process.stderrTail()}`);
    const after = await readEverything(base, numbers, served, 'suspended');
    violations.push(...after.failures.map((f) => `read after ${name}: ${f}`));

    const report = await checkDatabase({ dbPath, vkey, acks, served });
    result.entries = report.entries;
    result.integrity = report.integrity;
    violations.push(...report.violations);
    if (report.unacknowledged > 0) violations.push(`${report.unacknowledged} entries in the log were never acknowledged`);
  } catch (error) {
    violations.push(`${name}: ${messageOf(error)}${server ? ` (server: ${server.process.stderrTail()})` : ''}`);
  } finally {
    await server?.process.stop();
    fault.cleanup();
  }
  return result;
}

function issuance(key: TokenKey, number: string): WriteRequest {
  return { path: '/api/v1/certificates', key, body: certificateDraft(CB, number), idempotencyKey: `issue-${number}` };
}

function suspension(key: TokenKey, number: string): WriteRequest {
  return { path: `/api/v1/certificates/${CB}/${number}/events`, key, body: eventDraft('suspended'), idempotencyKey: `suspend-${number}` };
}

/** Null when `answer` is the refusal a fault deserves: 503 problem+json, code unavailable, Retry-After. */
function refusalProblem(answer: Answer): string | null {
  if (answer.status !== 503) return `answered ${answer.status}, not 503: ${answer.text.slice(0, 200)}`;
  if (!answer.headers.get('content-type')?.startsWith('application/problem+json')) return 'a 503 that is not problem+json';
  if (!answer.headers.get('retry-after')) return 'a 503 without Retry-After';
  const code = (JSON.parse(answer.text) as { code?: unknown }).code;
  return code === 'unavailable' ? null : `a 503 with code ${String(code)}`;
}

/** Sends a write again (same Idempotency-Key and body, a fresh token) until it is accepted or the deadline passes. */
async function retryUntilAccepted(base: string, request: WriteRequest, deadline: number): Promise<Answer> {
  for (;;) {
    const answer = await sendWrite(base, request);
    if (answer.status !== 503 || performance.now() > deadline) return answer;
    await sleep(100);
  }
}

/**
 * Every read a verifier makes, each timed; failures name the path. The baseline certificates must have `status`:
 * active while the fault refuses their suspensions, suspended once those were accepted.
 */
async function readEverything(base: string, numbers: readonly string[], served: Set<string>, status: 'active' | 'suspended') {
  const failures: string[] = [];
  let count = 0;
  let slowestMs = 0;
  const read = async (path: string, init: RequestInit = {}, check: (res: Response, text: string) => string | null = () => null) => {
    const started = performance.now();
    count++;
    try {
      const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      const problem = res.status === 200 ? check(res, text) : `${res.status} ${text.slice(0, 200)}`;
      if (problem) failures.push(`${init.method ?? 'GET'} ${path}: ${problem}`);
      return text;
    } catch (error) {
      failures.push(`${init.method ?? 'GET'} ${path}: ${messageOf(error)}`);
      return '';
    }
  };
  const note = await read('/log/checkpoint');
  if (note) served.add(note);
  const size = Number(note.split('\n')[1]);
  const width = Math.min(size, 256);
  const hasStatus = (verdict: { status?: unknown }) => (verdict.status === status ? null : `status ${String(verdict.status)}, not ${status}`);
  await Promise.all([
    read(`/log/${tilePath({ level: 0, index: 0, width })}`),
    read(`/log/${entriesPath(0, width)}`),
    read(`/log/proof/consistency?from=1&to=${size}`),
    ...numbers.map((n) => read(`/v/${CB}/${n}`, { headers: { accept: 'application/json' } }, (_, text) => hasStatus(JSON.parse(text)))),
    ...numbers.map((n) => read(`/api/v1/certificates/${CB}/${n}/bundle`)),
    read(
      '/api/v1/verify',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: numbers.map((n) => certificateIdOf(RELIABILITY_BASE_URL, CB, n)) }) },
      (_, text) => (JSON.parse(text) as { results: Array<{ verdict: { status?: unknown } }> }).results.map((r) => hasStatus(r.verdict)).find((p) => p) ?? null,
    ),
  ]);
  return { count, failures, slowestMs };
}

export function formatResult(r: FaultResult): string {
  return (
    `${r.fault}: ${r.refused}/${r.attempted} writes refused 503 unavailable, ${r.reads - r.readFailures}/${r.reads} reads ok ` +
    `(slowest ${r.slowestReadMs.toFixed(0)} ms), first write accepted ${r.recoveryMs.toFixed(0)} ms after removal, same process, ` +
    `${r.entries} entries, integrity ${r.integrity ?? 'not checked'}, ${r.violations.length} violations`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string' },
      writes: { type: 'string' },
      'lock-seconds': { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
    },
  });
  const faults = values.faults?.split(',').map((f) => f.trim()) ?? [...FAULTS];
  for (const f of faults) if (!(FAULTS as readonly string[]).includes(f)) throw new Error(`--faults: unknown fault ${f}`);
  const summary = await runFaults({
    faults: faults as FaultName[],
    writes: values.writes === undefined ? undefined : Number(values.writes),
    lockSeconds: values['lock-seconds'] === undefined ? undefined : Number(values['lock-seconds']),
    dir: values.dir,
    keep: values.keep,
    log: (line) => console.log(line),
  });
  const refused = summary.results.reduce((n, r) => n + r.refused, 0);
  const attempted = summary.results.reduce((n, r) => n + r.attempted, 0);
  console.log(
    `faults: ${summary.results.length} run (${summary.results.map((r) => r.fault).join(', ') || 'none'}), ` +
      `${summary.skipped.length} skipped; ${refused}/${attempted} writes refused 503 during faults, ` +
      `${summary.violations} violations${summary.violations > 0 || values.keep ? ` (dir ${summary.dir})` : ''}`,
  );
  process.exitCode = summary.violations > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
