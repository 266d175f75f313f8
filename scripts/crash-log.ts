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
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  deferred,
  killChildren,
  killPlan,
  messageOf as message,
  runProgram,
  ServedCheckpoints,
  trackChild,
  withTimeout,
  type KillPlanOptions,
} from './crash/loop.js';
import { verifyLogDatabase, type AckRecord, type VerifyReport } from './crash/verify-log.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRITER = fileURLToPath(new URL('./crash/log-writer.ts', import.meta.url));
const LISTEN_TIMEOUT_MS = 30_000;

/** Kill plan defaults: 50 kills, writers running 50..400 ms. */
export interface CrashLoopOptions extends KillPlanOptions {
  /** Appends in flight in the writer (default 64). */
  concurrency?: number;
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
// Writer processes. Every one is SIGKILLed on exit of this process (scripts/crash/loop.ts); they also exit when their
// stdin closes.

/** Writer processes currently running (0 once runCrashLoop returned). */
export { liveChildren as liveWriters } from './crash/loop.js';

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
    this.child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(this.child);
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.hasExited = true;
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
// The loop.

export async function runCrashLoop(options: CrashLoopOptions = {}): Promise<CrashLoopSummary> {
  const { kills, minMs, maxMs, startupKillShare, seed, random, dir, temporary } = killPlan(
    options,
    { kills: 50, minMs: 50, maxMs: 400 },
    'certrail-crash-',
  );
  const concurrency = options.concurrency ?? 64;
  const log = options.log ?? (() => undefined);
  const dbPath = join(dir, 'certrail.db');
  const keyDir = join(dir, 'keys');
  const session = randomBytes(4).toString('hex');
  const started = performance.now();

  const violations: string[] = [];
  const acks: AckRecord[] = [];
  const served = new ServedCheckpoints(violations);
  let lastReport: VerifyReport | null = null;
  let startupKills = 0;
  let checkpointsChecked = 0;
  let lost = 0;
  const startupTimes: number[] = [];
  const writerArgs = (run: number, extra: string[] = []) => [
    '--db', dbPath, '--keys', keyDir, '--session', session, '--run', String(run), '--concurrency', String(concurrency), ...extra,
  ];

  /** Checks the restarted writer before the kill timer starts: it opened at the durable latest and still proves it. */
  async function restartChecks(base: string, listening: Listening, where: string): Promise<void> {
    if (listening.refused !== null) violations.push(`${where}: the restarted writer refuses writes: ${listening.refused}`);
    if (lastReport?.latest && listening.checkpoint !== lastReport.latest.note) {
      violations.push(`${where}: restarted at another checkpoint than the durable latest (${lastReport.latest.size})`);
    }
    await served.learnKey(base, where);
    await served.checkRestart(base, listening.checkpoint, where);
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
        try {
          await restartChecks(base, listening, where);
          await served.record(listening.checkpoint, where);
        } catch (error) {
          if (!writer.killedByUs) violations.push(`${where}: restart check failed: ${message(error)}`);
        }
        const polling = served.poll(base, writer, where);
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
      if (!served.knowsKey) {
        violations.push(`${where}: never learned the log verifier key`);
        break;
      }
      const verifyStart = performance.now();
      const report = await verifyLogDatabase({
        dbPath,
        vkey: served.vkey,
        acks,
        served: served.notes,
        noteCache: served.cache,
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
          `(${report.unacknowledged} unacked), ${served.notes.size} checkpoints served, verified in ${Math.round(verifyMs)} ms, ` +
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
      await served.proveAll(base, listening.checkpoint, 'final restart');
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
    killChildren();
    if (temporary && passed && !options.keep) rmSync(dir, { recursive: true, force: true });
  }

  return {
    kills,
    startupKills,
    acknowledged: acks.length,
    lost,
    unacknowledged: lastReport?.unacknowledged ?? 0,
    entries: lastReport?.entries ?? 0,
    checkpointsServed: served.notes.size,
    checkpointsChecked,
    httpProofs: served.httpProofs,
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

runProgram(import.meta.url, main);
