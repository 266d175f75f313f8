// Cloudflare D1 driver. D1 has no BEGIN (every statement is its own transaction), so a commit runs as one `db.batch`,
// which D1 executes atomically: every statement of it lands or none does.
//
// Compare-and-swap without a transaction: the batch starts with a guard statement that violates the NOT NULL
// constraint of log_checkpoints.note (aborting the whole batch) unless the latest stored checkpoint still has size
// `previousSize`. Entries are plain INSERTs on their primary key as well, so a batch built on a log that moved can
// never land. The single writer is one Durable Object (src/worker.ts); the guard is what keeps a second one (a
// stale instance during a deploy, a misconfiguration) from forking the log.
import { sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle, type AnyD1Database, type DrizzleD1Database } from 'drizzle-orm/d1';
import { logCheckpoints } from '../../schema/tables.js';
import { bytesEqual } from '../core/bytes.js';
import { RegistryError } from '../core/errors.js';
import {
  commitStatements,
  logReads,
  selectLatestCheckpoint,
  type AnySQLiteDatabase,
  type LogCommit,
  type LogStore,
} from './log-store.js';

/** D1 binds at most 100 parameters per statement (Cloudflare D1 limits); multi-row inserts are split to fit. */
export const D1_MAX_PARAMETERS = 100;

export type D1Handle = DrizzleD1Database;

/** The drizzle database over a D1 binding. Migrations are applied by wrangler (`migrations_dir`), not here. */
export function openD1(binding: AnyD1Database): D1Handle {
  return drizzle(binding);
}

/** The CAS guard: inserts one row with a NULL note (a constraint error) exactly when the log moved. */
function casGuard(db: D1Handle, previousSize: number): BatchItem<'sqlite'> {
  if (!Number.isSafeInteger(previousSize) || previousSize < 0) throw new RangeError(`bad previous size ${previousSize}`);
  // The size is inlined (a checked integer): drizzle 0.45 cannot batch a raw statement on D1 that binds parameters.
  return db.run(
    sql`INSERT INTO ${logCheckpoints} (size, root, note, created_at)
        SELECT -1, x'', NULL, 0 WHERE coalesce((SELECT max(size) FROM ${logCheckpoints}), 0) <> ${sql.raw(String(previousSize))}`,
  );
}

export function createD1LogStore(db: D1Handle): LogStore {
  const shared = db as unknown as AnySQLiteDatabase;
  return {
    ...logReads(shared),
    async commit(commit: LogCommit) {
      const statements = commitStatements(shared, commit, D1_MAX_PARAMETERS);
      try {
        await db.batch([casGuard(db, commit.previousSize), ...statements]);
      } catch (error) {
        // The batch is atomic, so the store holds either all of it or none of it. Find out which: an error seen
        // after D1 committed (a lost reply) must not be reported as a failure of a commit that landed.
        let latest;
        try {
          latest = await selectLatestCheckpoint(shared);
        } catch {
          throw error;
        }
        const size = latest?.size ?? 0;
        const ours = commit.checkpoint;
        if (latest && size === ours.size && bytesEqual(latest.root, ours.root) && latest.note === ours.note) return;
        if (size !== commit.previousSize) {
          throw new RegistryError('conflict', `log moved: expected size ${commit.previousSize}, found ${size}`);
        }
        throw error;
      }
    },
  };
}
