// The witness's durable state (c2sp.org/tlog-witness): for each log origin, the latest checkpoint it cosigned. Its own
// SQLite file, never the registry's, in WAL mode with synchronous=FULL, so a state committed before a cosignature was
// returned survives a crash or SIGKILL.
//
// Invariants (the whole point of a witness):
// - The check of `old` against the stored size, the consistency proof and the write of the new checkpoint happen in
//   one `BEGIN IMMEDIATE` transaction (tlog-witness §add-checkpoint: "must be performed atomically"), so concurrent
//   requests, in this process or another one on the same file, can never roll the stored size back.
// - The stored checkpoint only ever moves to a checkpoint proven consistent with it, so this witness never cosigns
//   two different roots for one size, and never a smaller tree after a larger one.
import Database from 'better-sqlite3';
import { bytesEqual } from '../core/bytes.js';
import { verifyConsistency } from '../core/merkle.js';

/** Schema migrations, applied in order; PRAGMA user_version counts the ones applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE witness_logs (
     origin TEXT PRIMARY KEY,
     size INTEGER NOT NULL,
     root BLOB NOT NULL,
     note TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE witness_evidence (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     origin TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     reason TEXT NOT NULL,
     request TEXT NOT NULL
   );`,
];

/** Log-signed requests that were refused as inconsistent are kept as evidence, the newest this many. */
const MAX_EVIDENCE_ROWS = 10_000;

export interface WitnessedCheckpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** The checkpoint note as the log submitted it (with the log's signatures). */
  note: string;
  updatedAt: number;
}

export interface CheckpointUpdate {
  origin: string;
  oldSize: number;
  size: number;
  root: Uint8Array;
  proof: readonly Uint8Array[];
  note: string;
}

/**
 * What the witness decided:
 * - `cosign`: the state now holds this checkpoint (or already held it); sign it.
 * - `stale`: `old` is not the stored size (409 with that size).
 * - `root-mismatch`: same size as stored, different root (409): a fork or a rollback.
 * - `inconsistent`: the consistency proof does not verify against the stored root (422).
 * - `smaller`: the checkpoint is smaller than the stored one (cannot happen once old == stored and old <= size; kept
 *   as a guard).
 */
export type UpdateOutcome =
  | { kind: 'cosign' }
  | { kind: 'stale'; size: number }
  | { kind: 'root-mismatch'; size: number }
  | { kind: 'inconsistent'; size: number }
  | { kind: 'smaller'; size: number };

interface LogRow {
  origin: string;
  size: number;
  root: Buffer;
  note: string;
  updated_at: number;
}

export class WitnessState {
  private readonly select: Database.Statement<[string], LogRow>;
  private readonly upsert: Database.Statement<[string, number, Buffer, string, number]>;
  private readonly evidence: Database.Statement<[string, number, string, string]>;
  private readonly prune: Database.Statement<[number]>;
  private readonly updateTx: (update: CheckpointUpdate, now: number) => UpdateOutcome;

  private constructor(private readonly db: Database.Database) {
    this.select = db.prepare('SELECT origin, size, root, note, updated_at FROM witness_logs WHERE origin = ?');
    this.upsert = db.prepare(
      `INSERT INTO witness_logs (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note,
       updated_at = excluded.updated_at`,
    );
    this.evidence = db.prepare('INSERT INTO witness_evidence (origin, received_at, reason, request) VALUES (?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM witness_evidence WHERE id <= (SELECT max(id) FROM witness_evidence) - ?');
    const tx = db.transaction((update: CheckpointUpdate, now: number) => this.decide(update, now));
    this.updateTx = (update, now) => tx.immediate(update, now);
  }

  /** Opens (creating if needed) the state file and applies pending migrations. */
  static open(path: string): WitnessState {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > MIGRATIONS.length) throw new Error(`${path}: witness state version ${applied} is newer than this program`);
    db.transaction(() => {
      for (let i = applied; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
    return new WitnessState(db);
  }

  latest(origin: string): WitnessedCheckpoint | null {
    const row = this.select.get(origin);
    return row ? { origin: row.origin, size: row.size, root: new Uint8Array(row.root), note: row.note, updatedAt: row.updated_at } : null;
  }

  /**
   * tlog-witness §add-checkpoint, the stateful part, atomically: `old` must equal the stored size (0 if none); equal
   * sizes need equal roots; otherwise the consistency proof from the stored checkpoint must verify. Then the new
   * checkpoint is stored (committed with synchronous=FULL) before the caller may sign it. The caller has checked the
   * log's signature and that oldSize <= size.
   */
  update(update: CheckpointUpdate, now: number): UpdateOutcome {
    return this.updateTx(update, now);
  }

  private decide(update: CheckpointUpdate, now: number): UpdateOutcome {
    const row = this.select.get(update.origin);
    const storedSize = row?.size ?? 0;
    if (update.oldSize !== storedSize) return { kind: 'stale', size: storedSize };
    if (row) {
      const storedRoot = new Uint8Array(row.root);
      if (update.size < row.size) return { kind: 'smaller', size: row.size };
      if (update.size === row.size) {
        if (!bytesEqual(update.root, storedRoot)) return { kind: 'root-mismatch', size: row.size };
        if (update.proof.length > 0) return { kind: 'inconsistent', size: row.size };
        // The same tree again: cosign afresh (a newer timestamp), keep the stored note.
        return { kind: 'cosign' };
      }
      // RFC 6962 §2.1.2 from the stored tree. A stored size of 0 (an empty tree was cosigned) needs no proof.
      if (row.size > 0 && !verifyConsistency(row.size, update.size, storedRoot, update.root, update.proof)) {
        return { kind: 'inconsistent', size: row.size };
      }
    }
    this.upsert.run(update.origin, update.size, Buffer.from(update.root), update.note, now);
    return { kind: 'cosign' };
  }

  /** Keeps a log-signed request that was refused as inconsistent (tlog-witness: it may prove log misbehaviour). */
  recordEvidence(origin: string, reason: string, request: string, now: number): void {
    this.evidence.run(origin, now, reason, request);
    this.prune.run(MAX_EVIDENCE_ROWS);
  }

  /** The evidence kept for `origin`, newest first. */
  evidenceOf(origin: string, limit = 100): Array<{ receivedAt: number; reason: string; request: string }> {
    return this.db
      .prepare<[string, number], { received_at: number; reason: string; request: string }>(
        'SELECT received_at, reason, request FROM witness_evidence WHERE origin = ? ORDER BY id DESC LIMIT ?',
      )
      .all(origin, limit)
      .map((r) => ({ receivedAt: r.received_at, reason: r.reason, request: r.request }));
  }

  close(): void {
    this.db.close();
  }
}
