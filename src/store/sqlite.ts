// better-sqlite3 driver: one database file in WAL mode with synchronous=FULL, so a commit that returned is on disk.
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import { RegistryError } from '../core/errors.js';
import {
  commitStatements,
  selectCheckpoints,
  selectEntries,
  selectLatestCheckpoint,
  selectTiles,
  type AnySQLiteDatabase,
  type LogCommit,
  type LogStore,
} from './log-store.js';

/** A drizzle query built on the better-sqlite3 driver, which runs synchronously. */
interface SyncStatement {
  run(): unknown;
}

const MIGRATIONS = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

export interface SqliteHandle {
  sqlite: Database.Database;
  db: BetterSQLite3Database;
}

/** Opens (creating if needed) the database file and applies pending migrations. */
export function openSqlite(path: string): SqliteHandle {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle({ client: sqlite });
  migrate(db, { migrationsFolder: MIGRATIONS });
  return { sqlite, db };
}

export function createSqliteLogStore({ db }: SqliteHandle): LogStore {
  const shared = db as unknown as AnySQLiteDatabase;
  return {
    latestCheckpoint: () => selectLatestCheckpoint(shared),
    checkpoints: (fromSize, limit) => selectCheckpoints(shared, fromSize, limit),
    readTiles: (ids) => selectTiles(shared, ids),
    readEntries: (start, end) => selectEntries(shared, start, end),
    async commit(commit: LogCommit) {
      db.transaction(
        (tx) => {
          const latest = tx.get<{ size: number | null }>(sql`SELECT max(size) AS size FROM log_checkpoints`);
          const current = latest?.size ?? 0;
          if (current !== commit.previousSize) {
            throw new RegistryError('conflict', `log moved: expected size ${commit.previousSize}, found ${current}`);
          }
          for (const statement of commitStatements(tx as unknown as AnySQLiteDatabase, commit)) {
            (statement as unknown as SyncStatement).run();
          }
        },
        { behavior: 'immediate' },
      );
    },
  };
}
