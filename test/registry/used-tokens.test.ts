// The burnt token ids (schema/tables.ts used_tokens) on a real SQLite file:
// - each write keeps its token's id until the token expires; expired ids are deleted by a later write, at most once
//   per TOKEN_PRUNE_INTERVAL_MS, so the table holds minutes of writes rather than every token ever used;
// - a restarted process reloads exactly the unexpired ids, by a range of the expiry index;
// - migration 0003 keeps the unexpired ids a database written under the jti-keyed table holds.
import Database from 'better-sqlite3';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { formatSignerKey, parseSignerKey } from '../../src/core/note.js';
import { LogReader } from '../../src/log/reader.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { Registry, TOKEN_PRUNE_INTERVAL_MS, type Actor } from '../../src/registry/registry.js';
import type { AnySQLiteDatabase } from '../../src/store/log-store.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { newCbKey } from '../support/client.js';
import { tempDir } from '../support/registry.js';

const BASE_URL = 'http://certrail.test';
const ORIGIN = 'certrail.test/log';
const MIGRATIONS = join(import.meta.dirname, '..', '..', 'schema', 'migrations');
const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('used token ids', () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });
  const newDir = () => {
    const dir = tempDir('certrail-tokens-');
    dirs.push(dir);
    return dir.path;
  };

  it('are kept until they expire, then deleted by a write at most once per interval', async () => {
    const path = join(newDir(), 'certrail.db');
    const handle = openSqlite(path);
    let clock = T0;
    const now = () => clock;
    try {
      const store = createSqliteLogStore(handle);
      const registryStore = new RegistryStore(handle.db as unknown as AnySQLiteDatabase);
      const signer = await parseSignerKey(formatSignerKey(ORIGIN, randomBytes(32)));
      const sequencer = await Sequencer.open({ store, signer, origin: ORIGIN, maxDelayMs: 0, now });
      const seed = randomBytes(32);
      const registry = new Registry({
        baseUrl: BASE_URL,
        store: registryStore,
        sequencer,
        log: new LogReader(store, async () => sequencer.checkpoint),
        registryKey: { seed, publicKey: await ed25519PublicKey(seed) },
        managedKeys: { get: async () => null, create: async () => Promise.reject(new Error('no managed keys here')) },
        now,
      });
      const operator = (jti: string, expiresIn: number): Actor => ({ issuer: 'registry', keyId: 'registry', jti, expiresAt: clock + expiresIn });
      /** One write (a CB registration) that burns the token `jti`. */
      const write = async (slug: string, jti: string, expiresIn: number) => {
        const key = await newCbKey(slug, 'key-1');
        await registry.registerIssuer(operator(jti, expiresIn), {
          slug,
          name: `${slug} GmbH`,
          managedSigning: false,
          keys: [{ keyId: key.keyId, publicKeyMultibase: key.publicKeyMultibase }],
        });
      };
      const stored = () => handle.sqlite.prepare('SELECT jti FROM used_tokens ORDER BY jti').pluck().all() as string[];

      await write('cb-one', 'j1', 30_000);
      expect(stored()).toEqual(['j1']);

      // j1 expired 10 s ago, but the last prune was 40 s ago: it stays until the interval has passed.
      clock = T0 + 40_000;
      await write('cb-two', 'j2', 60_000);
      expect(stored()).toEqual(['j1', 'j2']);

      // Past the interval: the next write deletes what expired by its time (j1), not what is still live (j2).
      clock = T0 + TOKEN_PRUNE_INTERVAL_MS + 1;
      await write('cb-three', 'j3', 120_000);
      expect(stored()).toEqual(['j2', 'j3']);

      // A restart at this time reloads exactly the unexpired ids (j2 expires at T0 + 100 s).
      expect((await registryStore.unexpiredTokens(clock)).map((t) => t.jti).sort()).toEqual(['j2', 'j3']);
      expect((await registryStore.unexpiredTokens(T0 + 100_000)).map((t) => t.jti)).toEqual(['j3']);
    } finally {
      handle.sqlite.close();
    }
  });

  it('are read back by a range of the expiry index', () => {
    const handle = openSqlite(join(newDir(), 'certrail.db'));
    try {
      const plan = handle.sqlite
        .prepare('EXPLAIN QUERY PLAN SELECT jti, expires_at FROM used_tokens WHERE expires_at > ?')
        .all(T0) as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX used_tokens_expires_at \(expires_at>\?\)/);
    } finally {
      handle.sqlite.close();
    }
  });

  it('survive migration 0003 from the table keyed by jti while unexpired', () => {
    const dir = newDir();
    const path = join(dir, 'certrail.db');
    // A database as the previous release left it: migrations 0000-0002 only.
    const previous = join(dir, 'migrations-0002');
    cpSync(MIGRATIONS, previous, { recursive: true });
    const journalPath = join(previous, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
    journal.entries = journal.entries.filter((e) => e.tag < '0003');
    writeFileSync(journalPath, JSON.stringify(journal));
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(drizzle({ client: old }), { migrationsFolder: previous });
    // The migration compares with the clock (expires_at in ms): rows around the real time.
    const now = Date.now();
    const insert = old.prepare('INSERT INTO used_tokens (jti, issuer, expires_at) VALUES (?, ?, ?)');
    insert.run('cb-a j-old', 'cb-a', now - 60_000);
    insert.run('cb-a j-live', 'cb-a', now + 60_000);
    insert.run('registry j-op', 'registry', now + 120_000);
    expect(() => insert.run('cb-a j-live', 'cb-a', now + 90_000)).toThrow(/UNIQUE/);
    old.close();

    const handle = openSqlite(path);
    try {
      // The expired id is dropped on the way; the unexpired ones are kept as they were.
      const rows = handle.sqlite.prepare('SELECT jti, issuer, expires_at AS expiresAt FROM used_tokens ORDER BY expires_at').all();
      expect(rows).toEqual([
        { jti: 'cb-a j-live', issuer: 'cb-a', expiresAt: now + 60_000 },
        { jti: 'registry j-op', issuer: 'registry', expiresAt: now + 120_000 },
      ]);
      const indexes = handle.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'used_tokens'").pluck().all();
      expect(indexes).toEqual(['used_tokens_expires_at']);
    } finally {
      handle.sqlite.close();
    }
  });
});
