// better-sqlite3 driver: one database file in WAL mode with synchronous=FULL, so a commit that returned is on disk.
//
// Faults: a commit that meets a full disk, a read-only file or an I/O error throws RegistryError('unavailable') and
// leaves nothing behind (SQLite rolls the transaction back). A write lock held by another process is waited for
// asynchronously (the event loop keeps serving reads) for at most COMMIT_LOCK_WAIT_MS, then the commit fails the same
// way. The connection itself survives all of these: it writes again once the fault is gone.
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import { RegistryError, storageUnavailable } from '../core/errors.js';
import { logCheckpoints, logEntries, logTiles } from '../../schema/tables.js';
import {
  commitRows,
  logReads,
  type AnySQLiteDatabase,
  type LogCommit,
  type LogStore,
  TILE_UPSERT,
} from './log-store.js';

/** A drizzle query built on the better-sqlite3 driver, which runs synchronously. */
interface SyncStatement {
  run(): unknown;
}

const MIGRATIONS = fileURLToPath(new URL('../../schema/migrations', import.meta.url));
/** Reads wait this long for a lock (rare in WAL mode: only while another connection recovers the WAL). */
const BUSY_TIMEOUT_MS = 5000;
/** How long a commit waits, without blocking the event loop, for a write lock another process holds. */
export const COMMIT_LOCK_WAIT_MS = 1000;

export interface SqliteHandle {
  sqlite: Database.Database;
  db: BetterSQLite3Database;
}

/** Opens (creating if needed) the database file and applies pending migrations. */
export function openSqlite(path: string): SqliteHandle {
  return underSetupLock(path, () => {
    const sqlite = new Database(path);
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    const db = drizzle({ client: sqlite });
    migrate(db, { migrationsFolder: MIGRATIONS });
    return { sqlite, db };
  });
}

/** How long a process opening the database waits for another one that is setting it up. */
const SETUP_LOCK_WAIT_MS = 60_000;

/**
 * Runs the set-up of a database file (switching a new file to WAL, applying migrations) while holding an exclusive
 * lock on the sidecar file `<db>-migrate.lock`. Processes opening a new database together would otherwise collide:
 * the switch to WAL fails with SQLITE_BUSY while another connection makes it, and drizzle's migrator reads which
 * migrations were applied before it takes the write lock, so a second process would apply the first one again
 * ("table already exists"). Under this lock each finds the set-up done. The OS releases the lock if its holder dies.
 */
function underSetupLock<T>(path: string, setUp: () => T): T {
  if (path === ':memory:' || path === '') return setUp();
  const lock = new Database(`${path}-migrate.lock`);
  try {
    lock.pragma(`busy_timeout = ${SETUP_LOCK_WAIT_MS}`);
    lock.exec('BEGIN EXCLUSIVE');
    const result = setUp();
    lock.exec('COMMIT');
    return result;
  } finally {
    lock.close();
  }
}

/**
 * The log tables' INSERTs, prepared once and run row by row inside the commit's transaction: building and compiling a
 * multi-row INSERT for every batch (log-store.ts commitStatements, which D1's batch takes) cost about a twentieth of an
 * issuance's main-thread time. Same rows, same conflict rules: a duplicate entry index aborts the commit.
 */
function preparedLogWrites(db: BetterSQLite3Database): (commit: LogCommit) => void {
  const entry = db.insert(logEntries).values({ idx: sql.placeholder('idx'), data: sql.placeholder('data') }).prepare();
  const tile = db
    .insert(logTiles)
    .values({ level: sql.placeholder('level'), idx: sql.placeholder('idx'), data: sql.placeholder('data') })
    .onConflictDoUpdate(TILE_UPSERT)
    .prepare();
  const checkpoint = db
    .insert(logCheckpoints)
    .values({ size: sql.placeholder('size'), root: sql.placeholder('root'), note: sql.placeholder('note'), createdAt: sql.placeholder('createdAt') })
    .prepare();
  return (commit) => {
    const { entryRows, tileRows, checkpointRow } = commitRows(commit);
    for (const row of entryRows) entry.run(row);
    for (const row of tileRows) tile.run(row);
    checkpoint.run(checkpointRow);
  };
}

export function createSqliteLogStore({ sqlite, db }: SqliteHandle): LogStore {
  const shared = db as unknown as AnySQLiteDatabase;
  const writeLog = preparedLogWrites(db);
  /** One attempt: BEGIN IMMEDIATE without waiting for the lock (SQLITE_BUSY at once if another process holds it). */
  const commitOnce = (commit: LogCommit) => {
    // A connection left inside a transaction (a rollback that itself failed) would turn the next BEGIN into a
    // savepoint whose release commits nothing: roll it back, or refuse.
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    sqlite.pragma('busy_timeout = 0');
    try {
      db.transaction(
        (tx) => {
          const latest = tx.get<{ size: number | null }>(sql`SELECT max(size) AS size FROM log_checkpoints`);
          const current = latest?.size ?? 0;
          if (current !== commit.previousSize) {
            throw new RegistryError('conflict', `log moved: expected size ${commit.previousSize}, found ${current}`);
          }
          writeLog(commit);
          for (const statement of commit.writes ?? []) (statement as unknown as SyncStatement).run();
        },
        { behavior: 'immediate' },
      );
    } finally {
      sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  };
  return {
    ...logReads(shared),
    async commit(commit: LogCommit) {
      const deadline = Date.now() + COMMIT_LOCK_WAIT_MS;
      for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
        try {
          return commitOnce(commit);
        } catch (error) {
          const busy = /^SQLITE_BUSY/.test(String((error as { code?: unknown }).code));
          if (busy && Date.now() + delay < deadline) {
            await new Promise((resolve) => setTimeout(resolve, delay));
            continue;
          }
          throw storageUnavailable(error) ?? error;
        }
      }
    },
  };
}

/**
 * A counter that changes whenever another connection (another process) committed to the database: SQLite's
 * `PRAGMA data_version`. A process that does not sequence uses it to notice new checkpoints before serving reads.
 */
export function dataVersion({ sqlite }: SqliteHandle): () => number {
  const statement = sqlite.prepare('PRAGMA data_version').pluck();
  return () => statement.get() as number;
}

/** A held sequencer lock (see trySequencerLock): `term` counts the leaderships the database has had. */
export interface SequencerLock {
  term: number;
  release(): void;
}

/**
 * Takes the sequencer lock of the database at `dbPath`, or returns null while another connection holds it. The lock
 * is an exclusive SQLite lock (POSIX advisory lock) on the sidecar file `<db>-sequencer.lock`, opened with
 * `locking_mode=EXCLUSIVE` and written once, so it is held until release() or until the process ends, however it
 * ends (the OS drops the locks of a killed process). Only its holder may sequence the log (src/log/leader.ts).
 */
export function trySequencerLock(dbPath: string): SequencerLock | null {
  const lock = new Database(`${dbPath}-sequencer.lock`);
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS leadership (term INTEGER NOT NULL)');
    lock.exec('INSERT INTO leadership SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM leadership)');
    const term = lock.prepare('UPDATE leadership SET term = term + 1 RETURNING term').pluck().get() as number;
    lock.exec('COMMIT');
    return { term, release: () => lock.close() };
  } catch (error) {
    lock.close();
    if (/^SQLITE_BUSY/.test(String((error as { code?: unknown }).code))) return null;
    throw error;
  }
}
