// Drizzle tables shared by the SQLite (better-sqlite3) and D1 drivers. Migrations are generated into
// schema/migrations by drizzle-kit; wrangler applies the same files to D1 (migrations_dir).
import { blob, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Log entries (leaves). Invariant: indices are 0..size-1 of the latest checkpoint, with no gap; never updated. */
export const logEntries = sqliteTable('log_entries', {
  idx: integer('idx').primaryKey(),
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/**
 * Hash tiles (C2SP tlog-tiles), one row per (level, index) holding every hash the tile has so far: a partial tile
 * grows in place until it has 256 hashes, then never changes. A partial tile `.p/W` is the first W hashes.
 */
export const logTiles = sqliteTable(
  'log_tiles',
  {
    level: integer('level').notNull(),
    idx: integer('idx').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.idx] })],
);

/** Every checkpoint the log has signed, by tree size. The latest is the one with the largest size. */
export const logCheckpoints = sqliteTable('log_checkpoints', {
  size: integer('size').primaryKey(),
  root: blob('root', { mode: 'buffer' }).notNull(),
  note: text('note').notNull(),
  createdAt: integer('created_at').notNull(),
});
