// The log's storage interface and the drizzle queries both drivers share: the same reads (logReads) and the same rows
// per commit (commitRows). They differ in how they write a commit atomically: better-sqlite3 runs INSERTs prepared
// once inside BEGIN IMMEDIATE (sqlite.ts), D1 the multi-row statements of commitStatements in one db.batch (d1.ts).
import { and, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import { logCheckpoints, logEntries, logTiles } from '../../schema/tables.js';
import { tileKey } from '../core/tiles.js';

export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  /** The signed note exactly as it was signed and first served. */
  note: string;
  createdAt: number;
}

export interface TileWrite {
  level: number;
  index: number;
  /** Every hash the tile holds after this commit (32 bytes each). */
  data: Uint8Array;
}

/** A drizzle statement that maintains an index table (certificates, keys, ...) in the same commit as its entry. */
export type IndexWrite = BatchItem<'sqlite'>;

/** One sequenced batch: new entries from `previousSize` on, the tiles they changed, and the checkpoint over them. */
export interface LogCommit {
  previousSize: number;
  entries: Uint8Array[];
  tiles: TileWrite[];
  checkpoint: StoredCheckpoint;
  /** Index rows derived from the entries; they commit or fail with them. */
  writes?: IndexWrite[];
}

export interface LogStore {
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /** Checkpoints with size >= fromSize, smallest first, at most `limit`. */
  checkpoints(fromSize: number, limit: number): Promise<StoredCheckpoint[]>;
  /** Stored tiles by `tileKey(level, index)`; absent keys are tiles never written. */
  readTiles(ids: ReadonlyArray<{ level: number; index: number }>): Promise<Map<string, Uint8Array>>;
  /** Entries [start, end) in index order; fewer if the log is shorter. */
  readEntries(start: number, end: number): Promise<Uint8Array[]>;
  /**
   * Atomically appends the batch and its checkpoint. Compare-and-swap: throws RegistryError('conflict') and writes
   * nothing unless the latest stored checkpoint has size `previousSize` (or the log is empty and previousSize is 0
   * with no checkpoint yet).
   */
  commit(commit: LogCommit): Promise<void>;
}

// Both drivers' databases: sync (better-sqlite3) or async (D1). Awaiting a drizzle query works on either.
export type AnySQLiteDatabase = BaseSQLiteDatabase<'sync' | 'async', unknown, Record<string, unknown>>;

/** SQLite's default limit of bound parameters per statement (D1 allows far fewer: the driver passes its own). */
export const SQLITE_MAX_PARAMETERS = 32_766;

/** Splits rows into chunks whose insert binds at most `maxParameters` (`columns` per row). */
export function chunkRows<T>(rows: readonly T[], columns: number, maxParameters: number): T[][] {
  const size = Math.max(1, Math.floor(maxParameters / columns));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

function toBytes(value: Uint8Array | ArrayBuffer | number[]): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return new Uint8Array(value);
}

function toCheckpoint(row: typeof logCheckpoints.$inferSelect): StoredCheckpoint {
  return { size: row.size, root: toBytes(row.root), note: row.note, createdAt: row.createdAt };
}

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export async function selectLatestCheckpoint(db: AnySQLiteDatabase): Promise<StoredCheckpoint | null> {
  const rows = await db.select().from(logCheckpoints).orderBy(desc(logCheckpoints.size)).limit(1);
  return rows[0] ? toCheckpoint(rows[0]) : null;
}

export async function selectCheckpoints(db: AnySQLiteDatabase, fromSize: number, limit: number): Promise<StoredCheckpoint[]> {
  const rows = await db
    .select()
    .from(logCheckpoints)
    .where(gte(logCheckpoints.size, fromSize))
    .orderBy(logCheckpoints.size)
    .limit(limit);
  return rows.map(toCheckpoint);
}

/** One tile by primary key, prepared once per synchronous database (proofs and tile requests read a few each). */
const tileStatements = new WeakMap<AnySQLiteDatabase, { get(values: { level: number; idx: number }): unknown }>();

function tileStatement(db: AnySQLiteDatabase) {
  let statement = tileStatements.get(db);
  if (!statement) {
    statement = db
      .select()
      .from(logTiles)
      .where(and(eq(logTiles.level, sql.placeholder('level')), eq(logTiles.idx, sql.placeholder('idx'))))
      .prepare();
    tileStatements.set(db, statement);
  }
  return statement as { get(values: { level: number; idx: number }): typeof logTiles.$inferSelect | undefined };
}

export async function selectTiles(
  db: AnySQLiteDatabase,
  ids: ReadonlyArray<{ level: number; index: number }>,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  if (ids.length === 0) return out;
  if ((db as unknown as { resultKind?: string }).resultKind === 'sync') {
    // better-sqlite3: primary-key lookups of a prepared statement, cheaper than building the OR query each time
    // (D1 keeps the one query: there each statement is a round trip).
    const statement = tileStatement(db);
    for (const { level, index } of ids) {
      const row = statement.get({ level, idx: index });
      if (row) out.set(tileKey(level, index), toBytes(row.data));
    }
    return out;
  }
  const byLevel = new Map<number, number[]>();
  for (const { level, index } of ids) {
    const list = byLevel.get(level) ?? [];
    list.push(index);
    byLevel.set(level, list);
  }
  const conditions = [...byLevel].map(([level, indices]) => and(eq(logTiles.level, level), inArray(logTiles.idx, indices)));
  const rows = await db.select().from(logTiles).where(or(...conditions));
  for (const row of rows) out.set(tileKey(row.level, row.idx), toBytes(row.data));
  return out;
}

export async function selectEntries(db: AnySQLiteDatabase, start: number, end: number): Promise<Uint8Array[]> {
  const rows = await db
    .select({ data: logEntries.data })
    .from(logEntries)
    .where(and(gte(logEntries.idx, start), lt(logEntries.idx, end)))
    .orderBy(logEntries.idx);
  return rows.map((r) => toBytes(r.data));
}

/** The read half of a LogStore, the same queries on both drivers. */
export function logReads(db: AnySQLiteDatabase): Omit<LogStore, 'commit'> {
  return {
    latestCheckpoint: () => selectLatestCheckpoint(db),
    checkpoints: (fromSize, limit) => selectCheckpoints(db, fromSize, limit),
    readTiles: (ids) => selectTiles(db, ids),
    readEntries: (start, end) => selectEntries(db, start, end),
  };
}

/** The write statements of a commit, in order, for D1's batch; `maxParameters`: what the driver binds per statement. */
export function commitStatements(db: AnySQLiteDatabase, commit: LogCommit, maxParameters: number): IndexWrite[] {
  const statements: IndexWrite[] = [];
  const { entryRows, tileRows, checkpointRow } = commitRows(commit);
  for (const rows of chunkRows(entryRows, 2, maxParameters)) {
    // A plain INSERT: an index that already exists (another sequencer won the race) aborts the whole commit.
    statements.push(db.insert(logEntries).values(rows));
  }
  for (const rows of chunkRows(tileRows, 3, maxParameters)) {
    statements.push(db.insert(logTiles).values(rows).onConflictDoUpdate(TILE_UPSERT));
  }
  statements.push(db.insert(logCheckpoints).values(checkpointRow));
  statements.push(...(commit.writes ?? []));
  return statements;
}

/** A tile row holds every hash the tile has: a commit that extends a partial tile replaces its row. */
export const TILE_UPSERT = { target: [logTiles.level, logTiles.idx], set: { data: sql`excluded.data` } };

/** The rows a commit adds to the log tables (its index rows aside), as both drivers write them. */
export function commitRows(commit: LogCommit) {
  const c = commit.checkpoint;
  return {
    entryRows: commit.entries.map((data, i) => ({ idx: commit.previousSize + i, data: buffer(data) })),
    tileRows: commit.tiles.map((t) => ({ level: t.level, idx: t.index, data: buffer(t.data) })),
    checkpointRow: { size: c.size, root: buffer(c.root), note: c.note, createdAt: c.createdAt },
  };
}
