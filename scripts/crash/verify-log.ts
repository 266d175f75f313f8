// Verifies a Certrail log database after a crash, reading the file directly (read-only) with nothing of the killed
// process in between. What it checks, and why each is an invariant of the sequencer (DESIGN §Architecture):
//
// - entries are stored at indices 0..n-1 without a gap, and n equals the latest checkpoint's size (entries, tiles and
//   checkpoint are committed in one transaction, so none can be ahead of or behind the others);
// - every entry follows the rules of the program that wrote it (EntryRules): for scripts/crash-log.ts a well-formed
//   crash entry whose bytes regenerate exactly from its header, each header once (verifyLogDatabase); for
//   scripts/reliability/crash-http.ts a registry entry, each document once (scripts/reliability/registry-entries.ts);
// - the root recomputed from all entries (core rootFromLeafHashes over leaf hashes taken with node:crypto) equals
//   the latest checkpoint's root, whose note verifies with the log's verifier key and names the stored size and root;
// - every stored checkpoint is a prefix root of the entries; stored tiles hold exactly the hashes the entries imply;
// - every acknowledged write is at its index with the bytes it was acknowledged for (otherwise it counts as lost);
// - every checkpoint ever served verifies, is byte-identical to the stored checkpoint of its size (so it was durable
//   and never rolled back), is the prefix root of the entries at its size, and is consistent with the latest
//   checkpoint by an RFC 9162 consistency proof assembled from the stored tiles (core verifyConsistency);
// - on request, SQLite's own `PRAGMA integrity_check` (b-trees, indices, free lists) says ok.
// (The server's own proof path, LogReader over HTTP, is exercised by scripts/crash-log.ts after every restart.)
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { bytesEqual, toHex } from '../../src/core/bytes.js';
import { parseCheckpoint } from '../../src/core/checkpoint.js';
import {
  assembleProof,
  consistencyProofPlan,
  emptyRoot,
  foldRange,
  rangePlan,
  rootFromLeafHashes,
  verifyConsistency,
} from '../../src/core/merkle.js';
import { openNote, parseVerifierKey, type NoteVerifier } from '../../src/core/note.js';
import { hashNodeFromTile, tileKey, tileSpanOfNode, TILE_HEIGHT, TILE_WIDTH } from '../../src/core/tiles.js';
import type { StoredCheckpoint } from '../../src/store/log-store.js';
import { crashEntry, parseCrashEntry, sha256Hex, type EntryId } from './entries.js';

/** One acknowledged append, as the writer reported it (session and run are the parent's). */
export interface AckRecord {
  index: number;
  session: string;
  run: number;
  seq: number;
  sha256: string;
}

/** One acknowledged write: the index its acknowledgement named, and what must be stored there. */
export interface Acknowledgement {
  index: number;
  /** Names the write in messages, e.g. `run 3 seq 17`. */
  label: string;
  /** Whether `stored`, the entry at `index`, is the entry that was acknowledged. */
  matches(stored: Uint8Array): boolean;
}

/** Reports a broken rule of one entry. */
export type EntryViolation = (message: string) => void;

/** What the entries of a log must look like. `start` begins one pass over every stored entry, in index order. */
export interface EntryRules {
  start(): (index: number, entry: Uint8Array, violation: EntryViolation) => void;
}

/** A verified checkpoint note: its size and root, or why it failed. */
export type OpenedCheckpoint = { size: number; root: Uint8Array } | { error: string };

export interface LogCheckOptions {
  dbPath: string;
  /** The log's verifier key (C2SP vkey), as published at /.well-known/certrail. */
  vkey: string;
  acks: readonly Acknowledgement[];
  rules: EntryRules;
  /** Also run `PRAGMA integrity_check` (reads the whole file). */
  integrityCheck?: boolean;
  /** Distinct checkpoint notes served over HTTP so far. */
  served: Iterable<string>;
  /** Verified notes from earlier calls, so that each note's signature is checked once per loop. */
  noteCache?: Map<string, OpenedCheckpoint>;
  /** Stored checkpoints of this size or less had their signatures checked earlier; default: check all. */
  storedNotesCheckedUpTo?: number;
  /** Messages kept in `violations`; the rest are only counted. */
  maxMessages?: number;
}

/** The crash-log program's options: its acknowledgements, and its entries' rules implied. */
export type VerifyOptions = Omit<LogCheckOptions, 'acks' | 'rules'> & { acks: readonly AckRecord[] };

export interface VerifyReport {
  /** Empty when every invariant holds. */
  violations: string[];
  violationCount: number;
  /** Entries stored. */
  entries: number;
  /** The latest stored checkpoint, null if the log was never created. */
  latest: StoredCheckpoint | null;
  /** Acknowledged entries not found at their index with their bytes. */
  lost: number;
  /** Entries in the tree that no acknowledgement named (committed, but the process died before the ack was seen). */
  unacknowledged: number;
  /** Served checkpoints checked against the latest. */
  servedChecked: number;
  storedCheckpoints: number;
  tiles: number;
  /** `PRAGMA integrity_check`'s answer (`ok` when sound), null when not asked for. */
  integrity: string | null;
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

class Violations {
  readonly messages: string[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  add(message: string): void {
    this.count++;
    if (this.messages.length < this.max) this.messages.push(message);
  }
  list(): string[] {
    const hidden = this.count - this.messages.length;
    return hidden > 0 ? [...this.messages, `… and ${hidden} more`] : [...this.messages];
  }
}

/** Opens a checkpoint note against the log key: the verified size and root, or the reason it fails. */
export async function openCheckpointNote(note: string, verifier: NoteVerifier): Promise<OpenedCheckpoint> {
  try {
    const opened = await openNote(note, [verifier]);
    const checkpoint = parseCheckpoint(opened.text);
    if (checkpoint.origin !== verifier.name) return { error: `origin ${checkpoint.origin} is not ${verifier.name}` };
    return { size: checkpoint.size, root: checkpoint.root };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** RFC 9162 §2.1.1 leaf hash SHA-256(0x00 || entry), with node:crypto: independent of the writer's hashing code. */
export function leafHashOf(entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest());
}

/** RFC 9162 §2.1.1 interior node SHA-256(0x01 || left || right), with node:crypto. */
function nodeHashOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

/** Every perfect subtree's hash: levels[h][j] covers leaves [j·2^h, (j+1)·2^h). */
export function perfectLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.slice()];
  for (let below = levels[0]!; below.length > 1; ) {
    const level: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) level.push(nodeHashOf(below[i]!, below[i + 1]!));
    levels.push(level);
    below = level;
  }
  return levels;
}

/** The root of the first `size` leaves: the right fold of the perfect subtrees RFC 9162 splits [0, size) into. */
export function prefixRoot(levels: readonly Uint8Array[][], size: number): Uint8Array | null {
  if (size > (levels[0]?.length ?? 0)) return null;
  const nodes: Uint8Array[] = [];
  for (const { level, index } of rangePlan(0, size)) {
    const hash = levels[level]?.[index];
    if (!hash) return null;
    nodes.push(hash);
  }
  return foldRange(nodes);
}

/** The tiles (tlog-tiles) of the tree, keyed by tileKey, each with all the hashes it holds. */
export function expectedTiles(levels: readonly Uint8Array[][]): Map<string, Uint8Array> {
  const tiles = new Map<string, Uint8Array>();
  for (let height = 0; height < levels.length; height += TILE_HEIGHT) {
    const level = levels[height]!;
    for (let index = 0; index * TILE_WIDTH < level.length; index++) {
      const hashes = level.slice(index * TILE_WIDTH, (index + 1) * TILE_WIDTH);
      const data = new Uint8Array(hashes.length * 32);
      hashes.forEach((h, i) => data.set(h, i * 32));
      tiles.set(tileKey(height / TILE_HEIGHT, index), data);
    }
  }
  return tiles;
}

/**
 * RFC 9162 §2.1.4 consistency proofs, assembled from stored tiles as the server's LogReader does (core
 * consistencyProofPlan, hashNodeFromTile, assembleProof), from tiles already in memory. Node hashes are memoized, as
 * consecutive proofs share most of their nodes.
 */
export function tileProver(tiles: ReadonlyMap<string, Uint8Array>): (from: number, to: number) => Uint8Array[] {
  const nodes = new Map<string, Uint8Array>();
  return (from, to) =>
    assembleProof(consistencyProofPlan(from, to), (node) => {
      const key = `${node.level}:${node.index}`;
      let hash = nodes.get(key);
      if (!hash) {
        const span = tileSpanOfNode(node);
        const data = tiles.get(tileKey(span.level, span.index));
        if (!data) throw new Error(`tile ${tileKey(span.level, span.index)} is missing`);
        hash = hashNodeFromTile(data, node);
        nodes.set(key, hash);
      }
      return hash;
    });
}

/** Byte equality with a native compare (entries are up to 64 KiB and there are many). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  created_at: number;
}

/** Same header; with the regeneration check on every stored entry, that means the same bytes as crashEntry(id). */
function sameEntry(a: EntryId | null, b: EntryId): boolean {
  return a !== null && a.session === b.session && a.run === b.run && a.seq === b.seq;
}

/** Crash entries: well-formed, each header once, bytes regenerating exactly from the header. */
const CRASH_ENTRY_RULES: EntryRules = {
  start() {
    const headers = new Set<string>();
    return (idx, bytes, violation) => {
      const id = parseCrashEntry(bytes);
      if (!id) {
        violation(`entry ${idx} is not a crash entry`);
        return;
      }
      const header = `${id.session} ${id.run} ${id.seq}`;
      if (headers.has(header)) violation(`entry ${idx} (${header}) is stored twice`);
      headers.add(header);
      if (!sameBytes(bytes, crashEntry(id))) violation(`entry ${idx} (${header}) has altered bytes`);
    };
  },
};

function crashAcknowledgement(ack: AckRecord): Acknowledgement {
  return {
    index: ack.index,
    label: `run ${ack.run} seq ${ack.seq}`,
    matches: (stored) => sha256Hex(stored) === ack.sha256 && sameEntry(parseCrashEntry(stored), ack),
  };
}

/** Verifies a database written by scripts/crash/log-writer.ts (crash entries). */
export function verifyLogDatabase(options: VerifyOptions): Promise<VerifyReport> {
  return verifyLog({ ...options, acks: options.acks.map(crashAcknowledgement), rules: CRASH_ENTRY_RULES });
}

export async function verifyLog(options: LogCheckOptions): Promise<VerifyReport> {
  const violations = new Violations(options.maxMessages ?? 100);
  const noteCache = options.noteCache ?? new Map<string, OpenedCheckpoint>();
  const verifier = parseVerifierKey(options.vkey);
  const served = [...new Set(options.served)];
  const report = (partial: Omit<VerifyReport, 'violations' | 'violationCount'>): VerifyReport => ({
    ...partial,
    violations: violations.list(),
    violationCount: violations.count,
  });
  const nothing = {
    entries: 0,
    latest: null,
    lost: options.acks.length,
    unacknowledged: 0,
    servedChecked: 0,
    storedCheckpoints: 0,
    tiles: 0,
    integrity: null,
  };

  if (!existsSync(options.dbPath)) {
    if (options.acks.length > 0 || served.length > 0) violations.add(`database ${options.dbPath} is missing`);
    return report(nothing);
  }
  const sqlite = new Database(options.dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(
      sqlite
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`)
        .all()
        .map((row) => (row as { name: string }).name),
    );
    const rows = tables.has('log_checkpoints')
      ? (sqlite.prepare('SELECT size, root, note, created_at FROM log_checkpoints ORDER BY size').all() as CheckpointRow[])
      : [];
    const last = rows[rows.length - 1];
    if (!last) {
      if (options.acks.length > 0 || served.length > 0) violations.add('the log has no checkpoint');
      return report(nothing);
    }
    const latest: StoredCheckpoint = { size: last.size, root: new Uint8Array(last.root), note: last.note, createdAt: last.created_at };

    // Entries: contiguous from 0, each following the rules.
    const entries: Uint8Array[] = [];
    const byIndex = new Map<number, Uint8Array>();
    const checkEntry = options.rules.start();
    const violation = (message: string) => violations.add(message);
    let contiguous = true;
    for (const row of sqlite.prepare('SELECT idx, data FROM log_entries ORDER BY idx').iterate()) {
      const { idx, data } = row as { idx: number; data: Buffer };
      if (contiguous && idx !== entries.length) {
        violations.add(`entry indices have a gap: expected ${entries.length}, found ${idx}`);
        contiguous = false;
      }
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      entries.push(bytes);
      byIndex.set(idx, bytes);
      checkEntry(idx, bytes, violation);
    }
    if (entries.length !== latest.size) {
      violations.add(`${entries.length} entries stored but the latest checkpoint has size ${latest.size}`);
    }

    // The tree: root recomputed from every entry, the latest note, every stored checkpoint, every tile.
    const leaves = entries.slice(0, latest.size).map(leafHashOf);
    const levels = perfectLevels(leaves);
    if (!bytesEqual(rootFromLeafHashes(leaves), latest.root)) {
      violations.add(`root recomputed from ${leaves.length} entries differs from checkpoint ${latest.size}'s root`);
    }
    const latestOpened = await openCheckpointNote(latest.note, verifier);
    if ('error' in latestOpened) violations.add(`latest checkpoint note (size ${latest.size}) fails: ${latestOpened.error}`);
    else if (latestOpened.size !== latest.size || !bytesEqual(latestOpened.root, latest.root)) {
      violations.add(`latest checkpoint note does not name the stored size ${latest.size} and root`);
    }

    const servedOpened = new Map<string, OpenedCheckpoint>();
    for (const note of served) {
      let opened = noteCache.get(note);
      if (!opened) {
        opened = await openCheckpointNote(note, verifier);
        noteCache.set(note, opened);
      }
      servedOpened.set(note, opened);
    }
    const storedBySize = new Map<number, CheckpointRow>();
    const checkedUpTo = options.storedNotesCheckedUpTo ?? -1;
    for (const row of rows) {
      storedBySize.set(row.size, row);
      const root = prefixRoot(levels, row.size);
      if (!root || !bytesEqual(root, row.root)) {
        violations.add(`stored checkpoint ${row.size} is not the root of the first ${row.size} entries`);
      }
      if (row.size > checkedUpTo) {
        const opened = await openCheckpointNote(row.note, verifier);
        if ('error' in opened) violations.add(`stored checkpoint ${row.size}'s note fails: ${opened.error}`);
        else if (opened.size !== row.size || !bytesEqual(opened.root, row.root)) {
          violations.add(`stored checkpoint ${row.size}'s note names size ${opened.size} and another root`);
        }
      }
    }

    const storedTiles = new Map<string, Uint8Array>();
    if (tables.has('log_tiles')) {
      for (const row of sqlite.prepare('SELECT level, idx, data FROM log_tiles').iterate()) {
        const { level, idx, data } = row as { level: number; idx: number; data: Buffer };
        storedTiles.set(tileKey(level, idx), new Uint8Array(data));
      }
    }
    const tiles = expectedTiles(levels);
    for (const [key, data] of tiles) {
      const stored = storedTiles.get(key);
      if (!stored) violations.add(`tile ${key} is missing`);
      else if (!bytesEqual(stored, data)) violations.add(`tile ${key} does not hold the hashes of the entries`);
    }
    for (const key of storedTiles.keys()) if (!tiles.has(key)) violations.add(`tile ${key} is beyond the tree`);

    // Acknowledged entries.
    let lost = 0;
    const ackedIndices = new Map<number, Acknowledgement>();
    for (const ack of options.acks) {
      const previous = ackedIndices.get(ack.index);
      if (previous) violations.add(`index ${ack.index} acknowledged twice (${previous.label}, ${ack.label})`);
      ackedIndices.set(ack.index, ack);
      const stored = ack.index < latest.size ? byIndex.get(ack.index) : undefined;
      const where = `acknowledged entry ${ack.index} (${ack.label})`;
      if (!stored) {
        lost++;
        violations.add(`${where} is not in the tree of size ${latest.size}`);
      } else if (!ack.matches(stored)) {
        lost++;
        violations.add(`${where} is stored with other bytes`);
      }
    }
    let unacknowledged = 0;
    for (let i = 0; i < latest.size; i++) if (byIndex.has(i) && !ackedIndices.has(i)) unacknowledged++;

    // Served checkpoints, each against the latest.
    const prove = tileProver(storedTiles);
    let servedChecked = 0;
    for (const [note, opened] of servedOpened) {
      servedChecked++;
      if ('error' in opened) {
        violations.add(`a served checkpoint fails verification: ${opened.error}`);
        continue;
      }
      const { size, root } = opened;
      const label = `served checkpoint ${size} (root ${toHex(root).slice(0, 12)}…)`;
      if (size > latest.size) {
        violations.add(`${label} is beyond the latest stored checkpoint ${latest.size}: rolled back`);
        continue;
      }
      if (storedBySize.get(size)?.note !== note) violations.add(`${label} is not the stored checkpoint of its size`);
      const prefix = prefixRoot(levels, size);
      if (!prefix || !bytesEqual(prefix, root)) violations.add(`${label} is not the root of the first ${size} entries`);
      let consistent: boolean;
      if (size === 0) consistent = bytesEqual(root, emptyRoot());
      else if (size === latest.size) consistent = bytesEqual(root, latest.root);
      else {
        try {
          const proof = prove(size, latest.size);
          consistent = verifyConsistency(size, latest.size, root, latest.root, proof);
        } catch (error) {
          consistent = false;
          violations.add(`${label}: no consistency proof: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (!consistent) violations.add(`${label} is not consistent with the latest checkpoint ${latest.size}`);
    }

    let integrity: string | null = null;
    if (options.integrityCheck) {
      integrity = (sqlite.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
      if (integrity !== 'ok') violations.add(`PRAGMA integrity_check: ${integrity.slice(0, 500)}`);
    }

    return report({
      entries: entries.length,
      latest,
      lost,
      unacknowledged,
      servedChecked,
      storedCheckpoints: rows.length,
      tiles: storedTiles.size,
      integrity,
    });
  } finally {
    sqlite.close();
  }
}
