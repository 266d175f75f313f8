// The sequencer on a real SQLite file: pooling, durability across reopen, the start-up integrity check and the
// compare-and-swap that keeps two writers from forking the log.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/core/checkpoint.js';
import { randomBytes } from '../../src/core/crypto.js';
import { leafHash, rootFromLeafHashes } from '../../src/core/merkle.js';
import { formatSignerKey, openNote, parseSignerKey, parseVerifierKey } from '../../src/core/note.js';
import { MAX_ENTRY_BYTES } from '../../src/core/entry.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { COMMIT_LOCK_WAIT_MS, createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from '../support/registry.js';

const ORIGIN = 'certrail.test/log';
const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

async function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const signer = await parseSignerKey(formatSignerKey(ORIGIN, randomBytes(32)));
  const path = join(dir.path, 'log.db');
  const open = async (options: { maxBatch?: number } = {}) => {
    const handle = openSqlite(path);
    const store = createSqliteLogStore(handle);
    const sequencer = await Sequencer.open({ store, signer, origin: ORIGIN, maxDelayMs: 1, ...options });
    return { handle, store, sequencer };
  };
  return { path, signer, open };
}

const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);

describe('Sequencer', () => {
  it('pools concurrent appends into batches with contiguous indices and a signed checkpoint over them', async () => {
    const { signer, open } = await setup();
    const { sequencer, store, handle } = await open({ maxBatch: 64 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => sequencer.append(entry(i))));
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Several appends shared a commit (pooling), and no batch exceeded maxBatch.
    const sizes = new Set(results.map((r) => r.checkpoint.size));
    expect(sizes.size).toBeGreaterThanOrEqual(1000 / 64);
    expect(sizes.size).toBeLessThan(1000);
    const latest = await store.latestCheckpoint();
    const opened = await openNote(latest!.note, [parseVerifierKey(signer.vkey)]);
    const body = parseCheckpoint(opened.text);
    expect(body.size).toBe(1000);
    expect(body.root).toEqual(rootFromLeafHashes(Array.from({ length: 1000 }, (_, i) => leafHash(entry(i)))));
    handle.sqlite.close();
  });

  it('hands each item its leaf hash, the one the tree was built from, for its index rows and its result', async () => {
    const { open } = await setup();
    const { sequencer, handle } = await open({ maxBatch: 8 });
    const seen = new Map<number, Uint8Array>();
    const item = (i: number) => ({
      entry: (loggedAt: number) => new TextEncoder().encode(`entry ${i} at ${loggedAt}`),
      writes: (index: number, bytes: Uint8Array, _loggedAt: number, leaf: Uint8Array) => {
        expect(leaf).toEqual(leafHash(bytes));
        seen.set(index, leaf);
        return [];
      },
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sequencer.append(item(i))));
    for (const r of results) {
      expect(r.leafHash).toEqual(leafHash(r.entry));
      expect(seen.get(r.index)).toEqual(r.leafHash);
    }
    expect(sequencer.checkpoint.root).toEqual(rootFromLeafHashes(results.map((r) => r.leafHash)));
    handle.sqlite.close();
  });

  it('keeps every acknowledged entry across a reopen and continues the same tree', async () => {
    const { open } = await setup();
    const first = await open();
    await Promise.all(Array.from({ length: 300 }, (_, i) => first.sequencer.append(entry(i))));
    first.handle.sqlite.close();
    const second = await open();
    expect(second.sequencer.refused).toBeNull();
    expect(second.sequencer.checkpoint.size).toBe(300);
    await Promise.all(Array.from({ length: 300 }, (_, i) => second.sequencer.append(entry(300 + i))));
    const stored = await second.store.readEntries(0, 600);
    expect(stored.map((e) => new TextDecoder().decode(e))).toEqual(Array.from({ length: 600 }, (_, i) => `entry ${i}`));
    expect(second.sequencer.checkpoint.root).toEqual(rootFromLeafHashes(stored.map(leafHash)));
    second.handle.sqlite.close();
  });

  it('refuses entries over 65,535 bytes and accepts one of exactly that size', async () => {
    const { open } = await setup();
    const { sequencer, handle } = await open();
    await expect(sequencer.append(new Uint8Array(MAX_ENTRY_BYTES + 1))).rejects.toMatchObject({ code: 'entry-too-large' });
    await expect(sequencer.append(new Uint8Array(MAX_ENTRY_BYTES))).resolves.toMatchObject({ index: 0 });
    handle.sqlite.close();
  });

  it('refuses writes at start when the stored tiles do not reproduce the latest checkpoint', async () => {
    const { path, open } = await setup();
    const first = await open();
    await Promise.all(Array.from({ length: 10 }, (_, i) => first.sequencer.append(entry(i))));
    first.handle.sqlite.close();
    const raw = new Database(path);
    raw.prepare("UPDATE log_tiles SET data = zeroblob(length(data)) WHERE level = 0 AND idx = 0").run();
    raw.close();
    const second = await open();
    expect(second.sequencer.refused).toMatch(/do not reproduce/);
    await expect(second.sequencer.append(entry(99))).rejects.toMatchObject({ code: 'unavailable' });
    expect((await second.store.latestCheckpoint())!.size).toBe(10);
    second.handle.sqlite.close();
  });

  it('lets only one of two writers on the same file sequence; the loser acknowledges nothing and stops', async () => {
    const { open } = await setup();
    const a = await open();
    const b = await open();
    await a.sequencer.append(entry(0));
    await expect(b.sequencer.append(entry(1))).rejects.toMatchObject({ code: 'unavailable' });
    expect(b.sequencer.refused).toMatch(/another writer/);
    await expect(b.sequencer.append(entry(2))).rejects.toMatchObject({ code: 'unavailable' });
    await a.sequencer.append(entry(3));
    const entries = await a.store.readEntries(0, 10);
    expect(entries.map((e) => new TextDecoder().decode(e))).toEqual(['entry 0', 'entry 3']);
    a.handle.sqlite.close();
    b.handle.sqlite.close();
  });

  it('answers 503 while another connection holds the write lock, keeps nothing of the failed batch, then recovers', async () => {
    const { path, open } = await setup();
    const { sequencer, store, handle } = await open();
    await sequencer.append(entry(0));
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    await expect(sequencer.append(entry(1))).rejects.toMatchObject({ code: 'unavailable', detail: /locked by another process/ });
    clearInterval(ticker);
    // The commit waited about COMMIT_LOCK_WAIT_MS for the lock without blocking the event loop: the timer kept firing.
    expect(ticks).toBeGreaterThan(COMMIT_LOCK_WAIT_MS / 20 / 2);
    holder.exec('ROLLBACK');
    holder.close();
    expect(sequencer.refused).toBeNull();
    expect(sequencer.checkpoint.size).toBe(1);
    await expect(sequencer.append(entry(2))).resolves.toMatchObject({ index: 1 });
    const stored = await store.readEntries(0, 10);
    expect(stored.map((e) => new TextDecoder().decode(e))).toEqual(['entry 0', 'entry 2']);
    expect(sequencer.checkpoint.root).toEqual(rootFromLeafHashes(stored.map(leafHash)));
    handle.sqlite.close();
  });
});
