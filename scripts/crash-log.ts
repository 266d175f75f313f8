// Crash test of the log's durability: a writer process appends a continuous stream of entries (many in flight) while
// this program polls its checkpoint over HTTP and kills it with SIGKILL at random moments. After every kill the
// database file is verified directly (scripts/crash/verify-log.ts): every acknowledged entry is at its index with its
// bytes, the root recomputed from all entries equals the latest checkpoint, and every checkpoint ever served verifies
// and is consistent with the latest. Each restart must serve exactly the durable latest checkpoint, accept writes, and
// prove consistency over HTTP from what was served before the kill.
//
//   npx tsx scripts/crash-log.ts [--kills 50] [--min-ms 50] [--max-ms 400] [--dir PATH] [--concurrency 64]
//                                [--seed N] [--startup-kills 0.1] [--keep]
//
// Exits 1 on any violation. What it does not test: a SIGKILL leaves the OS page cache intact, so this shows that
// acknowledgements follow commits and that recovery is correct, not that fsync reaches the platter (power loss).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bytesEqual, fromBase64 } from '../src/core/bytes.js';
import { parseVerifierKey, type NoteVerifier } from '../src/core/note.js';
import { verifyConsistency } from '../src/core/merkle.js';
import { seededRandom } from './crash/entries.js';
import { openCheckpointNote, verifyLogDatabase, type AckRecord, type OpenedCheckpoint, type VerifyReport } from './crash/verify-log.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRITER = fileURLToPath(new URL('./crash/log-writer.ts', import.meta.url));
const LISTEN_TIMEOUT_MS = 30_000;

export interface CrashLoopOptions {
  /** SIGKILLs to deliver (default 50). */
  kills?: number;
  /** A writer runs this long after it started listening before it is killed: uniform in [minMs, maxMs]. */
  minMs?: number;
  maxMs?: number;
  /** Where the database and keys live; a fresh temporary folder by default (removed afterwards unless it failed). */
  dir?: string;
  /** Appends in flight in the writer (default 64). */
  concurrency?: number;
  /** Seed of the kill timings (default random; printed so a run can be repeated). */
  seed?: number;
  /** Share of kills (after the first) delivered during the writer's startup instead (default 0.1). */
  startupKills?: number;
  /** Keep a temporary folder even when the run passed. */
  keep?: boolean;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

export interface CrashLoopSummary {
  kills: number;
  /** Kills delivered while the writer was still starting. */
  startupKills: number;
  acknowledged: number;
  /** Acknowledged entries missing from their index or stored with other bytes, at any verification. */
  lost: number;
  /** Entries committed without their acknowledgement reaching this program before the kill. */
  unacknowledged: number;
  /** Entries in the log at the end. */
  entries: number;
  /** Distinct checkpoint notes served over HTTP. */
  checkpointsServed: number;
  /** Served checkpoints verified against the latest one, summed over all verifications. */
  checkpointsChecked: number;
  /** Consistency proofs fetched from restarted servers over HTTP and verified. */
  httpProofs: number;
  violations: string[];
  dir: string;
  seed: number;
  elapsedMs: number;
}

// ---------------------------------------------------------------------------------------------
// Writer processes. Every one is SIGKILLed on exit of this process; they also exit when their stdin closes.

const live = new Set<ChildProcess>();
let exitHook = false;

/** Writer processes currently running (0 once runCrashLoop returned). */
export function liveWriters(): number {
  return live.size;
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

interface Listening {
  port: number;
  checkpoint: string;
  refused: string | null;
}

interface Ack {
  index: number;
  seq: number;
  sha256: string;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // A rejection nobody awaited is not an error here.
  return { promise, resolve, reject };
}

class WriterProcess {
  readonly acks: Ack[] = [];
  readonly errors: string[] = [];
  readonly listening = deferred<Listening>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly spawnedAt = performance.now();
  killedByUs = false;
  hasExited = false;
  private readonly child: ChildProcess;
  private readonly stdoutDone: Promise<void>;
  private stderr = '';

  constructor(args: string[]) {
    if (!exitHook) {
      exitHook = true;
      process.on('exit', killAll);
    }
    this.child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.hasExited = true;
        live.delete(this.child);
        this.listening.reject(new Error(`writer exited (code ${code}, signal ${signal}) before listening: ${this.stderrTail()}`));
        resolveExit({ code, signal });
      });
    });
    this.child.stdin?.on('error', () => undefined);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    let pending = '';
    const stdout = this.child.stdout;
    if (!stdout) throw new Error('writer has no stdout');
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? ''; // an unterminated line (cut by SIGKILL) is never parsed
      for (const line of lines) this.onLine(line);
    });
    this.stdoutDone = new Promise((resolveDone) => stdout.once('close', () => resolveDone()));
  }

  stderrTail(): string {
    return this.stderr.trim().split('\n').slice(-5).join(' | ');
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.errors.push(`unparsable line from the writer: ${line.slice(0, 200)}`);
      return;
    }
    const m = message as Record<string, unknown>;
    if (typeof m.ack === 'number' && typeof m.seq === 'number' && typeof m.sha256 === 'string') {
      this.acks.push({ index: m.ack, seq: m.seq, sha256: m.sha256 });
    } else if (typeof m.listening === 'number' && typeof m.checkpoint === 'string') {
      this.listening.resolve({ port: m.listening, checkpoint: m.checkpoint, refused: typeof m.refused === 'string' ? m.refused : null });
    } else if (typeof m.error === 'string') {
      this.errors.push(`append of seq ${String(m.seq)} rejected: ${m.error}`);
    } else {
      this.errors.push(`unexpected line from the writer: ${line.slice(0, 200)}`);
    }
  }

  kill(): void {
    if (this.hasExited) return;
    this.killedByUs = true;
    this.child.kill('SIGKILL');
  }

  /** Asks the writer to exit (it closes on SIGTERM without flushing anything it has not acknowledged). */
  stop(): void {
    if (!this.hasExited) this.child.kill('SIGTERM');
  }

  /** Resolves once the process exited and every line it wrote was read. */
  async finished(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const status = await this.exited;
    await this.stdoutDone;
    return status;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers.

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function fetchVkey(base: string): Promise<string> {
  const body = (await fetchJson(`${base}/.well-known/certrail`)) as { logVerifierKey?: unknown };
  if (typeof body.logVerifierKey !== 'string') throw new Error('/.well-known/certrail has no logVerifierKey');
  return body.logVerifierKey;
}

/** Fetches a consistency proof over HTTP and verifies it with core verifyConsistency (equal sizes: equal roots). */
async function httpConsistent(
  base: string,
  from: { size: number; root: Uint8Array },
  to: { size: number; root: Uint8Array },
): Promise<boolean> {
  if (from.size === to.size) return bytesEqual(from.root, to.root);
  if (from.size === 0) return true; // the empty tree is a prefix of every tree
  const body = (await fetchJson(`${base}/log/proof/consistency?from=${from.size}&to=${to.size}`)) as { proof?: unknown };
  if (!Array.isArray(body.proof) || !body.proof.every((p): p is string => typeof p === 'string')) return false;
  return verifyConsistency(from.size, to.size, from.root, to.root, body.proof.map(fromBase64));
}


function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// The loop.

export async function runCrashLoop(options: CrashLoopOptions = {}): Promise<CrashLoopSummary> {
  const kills = options.kills ?? 50;
  const minMs = options.minMs ?? 50;
  const maxMs = options.maxMs ?? 400;
  const concurrency = options.concurrency ?? 64;
  const startupKillShare = options.startupKills ?? 0.1;
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0);
  const log = options.log ?? (() => undefined);
  if (!(Number.isInteger(kills) && kills >= 1)) throw new Error('kills must be a positive integer');
  if (!(minMs >= 0 && maxMs >= minMs)) throw new Error('need 0 <= min-ms <= max-ms');

  const temporary = options.dir === undefined;
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'certrail-crash-'));
  mkdirSync(dir, { recursive: true });
  const dbPath = join(dir, 'certrail.db');
  const keyDir = join(dir, 'keys');
  const session = randomBytes(4).toString('hex');
  const random = seededRandom(seed);
  const started = performance.now();

  const violations: string[] = [];
  const acks: AckRecord[] = [];
  const served = new Set<string>();
  const noteCache = new Map<string, OpenedCheckpoint>();
  let verifier: NoteVerifier | null = null;
  let vkey = '';
  /** The last checkpoint served over HTTP (across restarts): served sizes must never decrease. */
  let lastServed: { size: number; root: Uint8Array } | null = null;
  let lastReport: VerifyReport | null = null;
  let startupKills = 0;
  let checkpointsChecked = 0;
  let httpProofs = 0;
  let lost = 0;
  const startupTimes: number[] = [];
  const writerArgs = (run: number, extra: string[] = []) => [
    '--db', dbPath, '--keys', keyDir, '--session', session, '--run', String(run), '--concurrency', String(concurrency), ...extra,
  ];

  /** Records a served note: its signature verifies and its size never goes below an earlier one. */
  async function recordServed(note: string, where: string): Promise<void> {
    if (!verifier) return;
    let opened = noteCache.get(note);
    if (!opened) {
      opened = await openCheckpointNote(note, verifier);
      noteCache.set(note, opened);
    }
    if (!served.has(note)) {
      served.add(note);
      if ('error' in opened) violations.push(`${where}: served checkpoint fails verification: ${opened.error}`);
    }
    if ('error' in opened) return;
    if (lastServed && opened.size < lastServed.size) {
      violations.push(`${where}: served size went down from ${lastServed.size} to ${opened.size}`);
    }
    if (lastServed && opened.size === lastServed.size && !bytesEqual(opened.root, lastServed.root)) {
      violations.push(`${where}: two roots served for size ${opened.size}`);
    }
    lastServed = opened;
  }

  /** Checks the restarted writer before the kill timer starts: it opened at the durable latest and still proves it. */
  async function restartChecks(base: string, listening: Listening, where: string): Promise<void> {
    const opened = verifier ? await openCheckpointNote(listening.checkpoint, verifier) : null;
    if (opened && 'error' in opened) {
      violations.push(`${where}: the checkpoint the writer opened with fails: ${opened.error}`);
      return;
    }
    if (listening.refused !== null) violations.push(`${where}: the restarted writer refuses writes: ${listening.refused}`);
    if (lastReport?.latest && listening.checkpoint !== lastReport.latest.note) {
      violations.push(`${where}: restarted at another checkpoint than the durable latest (${lastReport.latest.size})`);
    }
    const key = await fetchVkey(base);
    if (key !== vkey) violations.push(`${where}: the log verifier key changed across a restart`);
    const before = lastServed;
    if (opened && before) {
      if (before.size > opened.size) {
        violations.push(`${where}: restarted at size ${opened.size} below the served size ${before.size}`);
      } else {
        httpProofs++;
        if (!(await httpConsistent(base, before, opened))) {
          violations.push(`${where}: the restarted log is not consistent with checkpoint ${before.size} served before the kill`);
        }
      }
    }
  }

  async function pollCheckpoints(base: string, writer: WriterProcess, where: string): Promise<void> {
    while (!writer.killedByUs && !writer.hasExited) {
      let note: string | null = null;
      try {
        const res = await fetch(`${base}/log/checkpoint`);
        const body = await res.text();
        if (res.status === 200) note = body;
        else if (!writer.killedByUs) violations.push(`${where}: GET /log/checkpoint answered ${res.status}`);
      } catch (error) {
        // A request cut by the kill is expected; one failing while the writer runs is not.
        if (!writer.killedByUs && !writer.hasExited) violations.push(`${where}: GET /log/checkpoint failed: ${message(error)}`);
      }
      // A note whose whole body arrived was served, even if the kill came right after.
      if (note !== null) await recordServed(note, where);
    }
  }

  async function runOne(run: number, where: string): Promise<{ ranMs: number; atStartup: boolean; acks: number }> {
    const atStartup = run > 1 && random() < startupKillShare;
    const avgStartup = startupTimes.length ? startupTimes.reduce((a, b) => a + b, 0) / startupTimes.length : 700;
    const runDelay = minMs + random() * (maxMs - minMs);
    const startupDelay = random() * avgStartup;
    const writer = new WriterProcess(writerArgs(run));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let listenedAt = 0;
    try {
      if (atStartup) timer = setTimeout(() => writer.kill(), startupDelay);
      let listening: Listening | null = null;
      try {
        listening = await withTimeout(writer.listening.promise, LISTEN_TIMEOUT_MS, 'writer startup');
      } catch (error) {
        if (!writer.killedByUs) violations.push(`${where}: ${message(error)}`);
      }
      if (listening) {
        listenedAt = performance.now();
        startupTimes.push(listenedAt - writer.spawnedAt);
        const base = `http://127.0.0.1:${listening.port}`;
        if (!verifier) {
          vkey = await fetchVkey(base);
          verifier = parseVerifierKey(vkey);
        }
        try {
          await restartChecks(base, listening, where);
          await recordServed(listening.checkpoint, where);
        } catch (error) {
          if (!writer.killedByUs) violations.push(`${where}: restart check failed: ${message(error)}`);
        }
        const polling = pollCheckpoints(base, writer, where);
        if (!atStartup) timer = setTimeout(() => writer.kill(), runDelay);
        await writer.exited;
        await polling;
      }
      const status = await writer.finished();
      if (!writer.killedByUs) {
        violations.push(`${where}: the writer exited by itself (code ${status.code}, signal ${status.signal}): ${writer.stderrTail()}`);
      }
    } finally {
      clearTimeout(timer);
      writer.kill();
      await writer.finished();
    }
    for (const error of writer.errors) violations.push(`${where}: ${error}`);
    for (const ack of writer.acks) acks.push({ ...ack, session, run });
    return { ranMs: listenedAt ? performance.now() - listenedAt : 0, atStartup: atStartup && !listenedAt, acks: writer.acks.length };
  }

  let passed = false;
  try {
    log(`crash-log: ${kills} kills, run ${minMs}..${maxMs} ms, ${concurrency} appends in flight, seed ${seed}, dir ${dir}`);
    for (let run = 1; run <= kills; run++) {
      const where = `kill ${run}`;
      const result = await runOne(run, where);
      if (result.atStartup) startupKills++;
      if (!verifier) {
        violations.push(`${where}: never learned the log verifier key`);
        break;
      }
      const verifyStart = performance.now();
      const report = await verifyLogDatabase({
        dbPath,
        vkey,
        acks,
        served,
        noteCache,
        storedNotesCheckedUpTo: lastReport?.latest?.size ?? -1,
      });
      const verifyMs = performance.now() - verifyStart;
      for (const v of report.violations) violations.push(`${where}: ${v}`);
      if (report.latest === null) violations.push(`${where}: the log has no checkpoint`);
      if (lastReport?.latest && report.latest && report.latest.size < lastReport.latest.size) {
        violations.push(`${where}: the latest checkpoint went back from ${lastReport.latest.size} to ${report.latest.size}`);
      }
      lost = Math.max(lost, report.lost);
      checkpointsChecked += report.servedChecked;
      lastReport = report;
      const how = result.atStartup ? 'during startup' : `after ${Math.round(result.ranMs)} ms`;
      log(
        `${where}/${kills} ${how}: +${result.acks} acked (${acks.length} total), log ${report.entries} entries ` +
          `(${report.unacknowledged} unacked), ${served.size} checkpoints served, verified in ${Math.round(verifyMs)} ms, ` +
          `lost ${report.lost}${report.violationCount ? `, ${report.violationCount} VIOLATIONS` : ''}`,
      );
    }

    // A last restart, without appends: it opens at the durable latest, accepts writes, and proves every checkpoint
    // ever served consistent with it over HTTP.
    const final = new WriterProcess(writerArgs(kills + 1, ['--no-append']));
    try {
      const listening = await withTimeout(final.listening.promise, LISTEN_TIMEOUT_MS, 'final writer startup');
      const base = `http://127.0.0.1:${listening.port}`;
      await restartChecks(base, listening, 'final restart');
      const latest = verifier ? await openCheckpointNote(listening.checkpoint, verifier) : null;
      if (latest && !('error' in latest)) {
        for (const note of served) {
          const opened = noteCache.get(note);
          if (!opened || 'error' in opened) continue;
          httpProofs++;
          if (!(await httpConsistent(base, opened, latest))) {
            violations.push(`final restart: served checkpoint ${opened.size} is not consistent with ${latest.size} over HTTP`);
          }
        }
      }
      final.stop();
      await final.finished();
    } catch (error) {
      violations.push(`final restart: ${message(error)}`);
    } finally {
      final.kill();
      await final.finished();
    }
    passed = violations.length === 0 && lost === 0;
  } finally {
    killAll();
    if (temporary && passed && !options.keep) rmSync(dir, { recursive: true, force: true });
  }

  return {
    kills,
    startupKills,
    acknowledged: acks.length,
    lost,
    unacknowledged: lastReport?.unacknowledged ?? 0,
    entries: lastReport?.entries ?? 0,
    checkpointsServed: served.size,
    checkpointsChecked,
    httpProofs,
    violations,
    dir,
    seed,
    elapsedMs: Math.round(performance.now() - started),
  };
}

export function formatSummary(s: CrashLoopSummary): string {
  return (
    `crash-log summary: kills=${s.kills} (${s.startupKills} during startup) acknowledged=${s.acknowledged} lost=${s.lost} ` +
    `unacknowledged-but-durable=${s.unacknowledged} entries=${s.entries} checkpoints-served=${s.checkpointsServed} ` +
    `checkpoints-checked=${s.checkpointsChecked} http-consistency-proofs=${s.httpProofs} violations=${s.violations.length} ` +
    `seed=${s.seed} time=${(s.elapsedMs / 1000).toFixed(1)}s`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '50' },
      'min-ms': { type: 'string', default: '50' },
      'max-ms': { type: 'string', default: '400' },
      dir: { type: 'string' },
      concurrency: { type: 'string', default: '64' },
      seed: { type: 'string' },
      'startup-kills': { type: 'string', default: '0.1' },
      keep: { type: 'boolean', default: false },
    },
  });
  const onSignal = () => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await runCrashLoop({
    kills: Number(values.kills),
    minMs: Number(values['min-ms']),
    maxMs: Number(values['max-ms']),
    dir: values.dir,
    concurrency: Number(values.concurrency),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    startupKills: Number(values['startup-kills']),
    keep: values.keep,
    log: (line) => console.log(line),
  });
  for (const v of summary.violations) console.error(`VIOLATION ${v}`);
  console.log(formatSummary(summary));
  const failed = summary.violations.length > 0 || summary.lost > 0;
  if (failed) console.error(`crash-log FAILED; database kept in ${summary.dir}`);
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
}
