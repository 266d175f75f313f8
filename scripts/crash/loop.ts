// Shared parts of the crash programs (scripts/crash-log.ts: the log alone; scripts/reliability/crash-http.ts: the
// registry over HTTP): child processes that die with the parent, timeouts, and the record of every checkpoint the
// killed servers served, checked as it is seen and across each restart (signature, sizes never going down, one root
// per size, RFC 9162 consistency over HTTP from the last note served before the kill).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytesEqual, fromBase64 } from '../../src/core/bytes.js';
import { verifyConsistency } from '../../src/core/merkle.js';
import { parseVerifierKey, type NoteVerifier } from '../../src/core/note.js';
import { seededRandom } from './entries.js';
import { openCheckpointNote, type OpenedCheckpoint } from './verify-log.js';

// ---------------------------------------------------------------------------------------------
// Child processes: every one is SIGKILLed when this process exits.

const live = new Set<ChildProcess>();
let exitHook = false;

/** Registers a child to be SIGKILLed on exit of this process; it is forgotten once it exits. */
export function trackChild(child: ChildProcess): void {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', killChildren);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Tracked children still running. */
export function liveChildren(): number {
  return live.size;
}

export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// Promises.

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // A rejection nobody awaited is not an error here.
  return { promise, resolve, reject };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// HTTP.

export async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function fetchVkey(base: string): Promise<string> {
  const body = (await fetchJson(`${base}/.well-known/certrail`)) as { logVerifierKey?: unknown };
  if (typeof body.logVerifierKey !== 'string') throw new Error('/.well-known/certrail has no logVerifierKey');
  return body.logVerifierKey;
}

/** Fetches a consistency proof over HTTP and verifies it with core verifyConsistency (equal sizes: equal roots). */
export async function httpConsistent(
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

// ---------------------------------------------------------------------------------------------
// Served checkpoints.

/**
 * Every distinct checkpoint note served over HTTP, across all restarts, and the invariants checked as each is seen.
 * Violations are pushed onto the array given, prefixed with where they were seen.
 */
export class ServedCheckpoints {
  /** Distinct notes served, in the order first seen. */
  readonly notes = new Set<string>();
  /** Opened notes (each signature checked once per loop); also given to the verifier of the database. */
  readonly cache = new Map<string, OpenedCheckpoint>();
  /** The log key, learned from the first server that listened. */
  vkey = '';
  /** Consistency proofs fetched over HTTP and verified. */
  httpProofs = 0;
  private verifier: NoteVerifier | null = null;
  /** The last checkpoint served (across restarts): served sizes must never decrease. */
  private last: { size: number; root: Uint8Array } | null = null;

  constructor(private readonly violations: string[]) {}

  get knowsKey(): boolean {
    return this.verifier !== null;
  }

  /** Learns the log key from `base` the first time; afterwards checks that a restarted server kept it. */
  async learnKey(base: string, where: string): Promise<void> {
    const key = await fetchVkey(base);
    if (!this.verifier) {
      this.vkey = key;
      this.verifier = parseVerifierKey(key);
    } else if (key !== this.vkey) {
      this.violations.push(`${where}: the log verifier key changed across a restart`);
    }
  }

  async open(note: string): Promise<OpenedCheckpoint | null> {
    if (!this.verifier) return null;
    let opened = this.cache.get(note);
    if (!opened) {
      opened = await openCheckpointNote(note, this.verifier);
      this.cache.set(note, opened);
    }
    return opened;
  }

  /**
   * Records a served note: its signature verifies and, when `ordered` (notes from one poller, in the order served),
   * its size never goes below the previous one and a size has one root. Notes carried by receipts of concurrent
   * writes arrive in any order; the database verifier checks every note against the log either way.
   */
  async record(note: string, where: string, { ordered = true } = {}): Promise<void> {
    const opened = await this.open(note);
    if (!opened) return;
    if (!this.notes.has(note)) {
      this.notes.add(note);
      if ('error' in opened) this.violations.push(`${where}: served checkpoint fails verification: ${opened.error}`);
    }
    if ('error' in opened || !ordered) return;
    const last = this.last;
    if (last && opened.size < last.size) this.violations.push(`${where}: served size went down from ${last.size} to ${opened.size}`);
    if (last && opened.size === last.size && !bytesEqual(opened.root, last.root)) {
      this.violations.push(`${where}: two roots served for size ${opened.size}`);
    }
    this.last = opened;
  }

  /**
   * Polls `base`'s checkpoint until `server` is killed or exits, recording every note served. A request cut by the
   * kill is expected; one failing while the server runs is a violation. `pauseMs` between polls.
   */
  async poll(base: string, server: { killedByUs: boolean; hasExited: boolean }, where: string, pauseMs = 0): Promise<void> {
    while (!server.killedByUs && !server.hasExited) {
      let note: string | null = null;
      try {
        const res = await fetch(`${base}/log/checkpoint`);
        const body = await res.text();
        if (res.status === 200) note = body;
        else if (!server.killedByUs) this.violations.push(`${where}: GET /log/checkpoint answered ${res.status}`);
      } catch (error) {
        if (!server.killedByUs && !server.hasExited) this.violations.push(`${where}: GET /log/checkpoint failed: ${messageOf(error)}`);
      }
      // A note whose whole body arrived was served, even if the kill came right after.
      if (note !== null) await this.record(note, where);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  /**
   * Checks a restarted server's first checkpoint `note` before anything else is sent to it: it verifies, it is not
   * below what was served before the kill, and the server proves it consistent with that over HTTP.
   */
  async checkRestart(base: string, note: string, where: string): Promise<void> {
    const opened = await this.open(note);
    if (opened && 'error' in opened) {
      this.violations.push(`${where}: the checkpoint the server opened with fails: ${opened.error}`);
      return;
    }
    const before = this.last;
    if (opened && before) {
      if (before.size > opened.size) {
        this.violations.push(`${where}: restarted at size ${opened.size} below the served size ${before.size}`);
      } else {
        this.httpProofs++;
        if (!(await httpConsistent(base, before, opened))) {
          this.violations.push(`${where}: the restarted log is not consistent with checkpoint ${before.size} served before the kill`);
        }
      }
    }
  }

  /** Proves every note ever served consistent with `latestNote` over HTTP (the final restart). */
  async proveAll(base: string, latestNote: string, where: string): Promise<void> {
    const latest = await this.open(latestNote);
    if (!latest || 'error' in latest) {
      this.violations.push(`${where}: the latest checkpoint does not verify`);
      return;
    }
    for (const note of this.notes) {
      const opened = this.cache.get(note);
      if (!opened || 'error' in opened) continue;
      this.httpProofs++;
      if (!(await httpConsistent(base, opened, latest))) {
        this.violations.push(`${where}: served checkpoint ${opened.size} is not consistent with ${latest.size} over HTTP`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The kill loop's plan, and the programs' entry.

export interface KillPlanOptions {
  /** SIGKILLs to deliver. */
  kills?: number;
  /** A server runs this long after it started listening before it is killed: uniform in [minMs, maxMs]. */
  minMs?: number;
  maxMs?: number;
  /** Share of kills (after the first) delivered during startup instead (default 0.1). */
  startupKills?: number;
  /** Seed of the kill timings (default random; printed so a run can be repeated). */
  seed?: number;
  /** Where the database and keys live; a fresh temporary folder by default. */
  dir?: string;
}

export interface KillPlan {
  kills: number;
  minMs: number;
  maxMs: number;
  startupKillShare: number;
  seed: number;
  random: () => number;
  dir: string;
  /** The folder was made here (and is removed after a passing run). */
  temporary: boolean;
}

/** Validates the options against the program's defaults and makes the working folder. */
export function killPlan(
  options: KillPlanOptions,
  defaults: { kills: number; minMs: number; maxMs: number },
  tempPrefix: string,
): KillPlan {
  const kills = options.kills ?? defaults.kills;
  const minMs = options.minMs ?? defaults.minMs;
  const maxMs = options.maxMs ?? defaults.maxMs;
  if (!(Number.isInteger(kills) && kills >= 1)) throw new Error('kills must be a positive integer');
  if (!(minMs >= 0 && maxMs >= minMs)) throw new Error('need 0 <= min-ms <= max-ms');
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0);
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), tempPrefix));
  mkdirSync(dir, { recursive: true });
  return {
    kills,
    minMs,
    maxMs,
    startupKillShare: options.startupKills ?? 0.1,
    seed,
    random: seededRandom(seed),
    dir,
    temporary: options.dir === undefined,
  };
}

/**
 * Runs a program's main when its module is the one started (`npx tsx <file>`): SIGINT and SIGTERM, and an uncaught
 * error, kill the tracked children first.
 */
export function runProgram(moduleUrl: string, main: () => Promise<void>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const onSignal = () => {
    killChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  main().catch((error: unknown) => {
    console.error(error);
    killChildren();
    process.exit(1);
  });
}
