// The crash program (scripts/crash-log.ts): a short run of the real kill loop, and proof that its verifier catches
// damage: a database written by the sequencer in-process passes, and copies of it with one defect each fail.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveWriters, runCrashLoop } from '../../scripts/crash-log.js';
import { CRASH_BASE_URL, crashEntry, sha256Hex } from '../../scripts/crash/entries.js';
import { verifyLogDatabase, type AckRecord } from '../../scripts/crash/verify-log.js';
import { loadOrCreateKeyFile } from '../../src/cli/keyfile.js';
import { formatCheckpoint } from '../../src/core/checkpoint.js';
import { signNote } from '../../src/core/note.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { logOriginFor } from '../../src/node.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from '../support/registry.js';

const SESSION = 'c0ffee';
const ORIGIN = logOriginFor(CRASH_BASE_URL);

describe('verifyLogDatabase', () => {
  const dir = tempDir('certrail-crash-verify-');
  const dbPath = join(dir.path, 'certrail.db');
  const keyDir = join(dir.path, 'keys');
  const acks: AckRecord[] = [];
  const served: string[] = [];
  let vkey = '';
  let copies = 0;

  beforeAll(async () => {
    const handle = openSqlite(dbPath);
    const key = await loadOrCreateKeyFile(join(keyDir, 'log.key'), ORIGIN);
    const sequencer = await Sequencer.open({ store: createSqliteLogStore(handle), signer: key, origin: ORIGIN, maxDelayMs: 1 });
    vkey = key.vkey;
    served.push(sequencer.checkpoint.note); // the empty tree
    for (const [run, count] of [
      [1, 300],
      [2, 333],
    ] as const) {
      const results = await Promise.all(
        Array.from({ length: count }, async (_, seq) => {
          const bytes = crashEntry({ session: SESSION, run, seq });
          const result = await sequencer.append(bytes);
          acks.push({ index: result.index, session: SESSION, run, seq, sha256: sha256Hex(bytes) });
          return result;
        }),
      );
      served.push(...new Set(results.map((r) => r.checkpoint.note)));
    }
    await sequencer.flush();
    handle.sqlite.close();
  });
  afterAll(() => dir.remove());

  /** A copy of the database with `damage` applied through a read-write connection. */
  function damagedCopy(damage: (db: Database.Database) => void): string {
    const path = join(dir.path, `copy-${copies++}.db`);
    copyFileSync(dbPath, path);
    if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${path}-wal`);
    const db = new Database(path);
    damage(db);
    db.close();
    return path;
  }

  const verify = (path: string, extra: { served?: string[]; acks?: AckRecord[] } = {}) =>
    verifyLogDatabase({ dbPath: path, vkey, acks: extra.acks ?? acks, served: extra.served ?? served });

  it('passes an intact log', async () => {
    const report = await verify(dbPath);
    expect(report.violations).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.entries).toBe(633);
    expect(report.latest?.size).toBe(633);
    expect(report.unacknowledged).toBe(0);
    expect(report.servedChecked).toBe(new Set(served).size);
    expect(report.servedChecked).toBeGreaterThan(2);
  });

  it('flags a changed byte of an acknowledged entry as lost', async () => {
    const path = damagedCopy((db) => {
      const { data } = db.prepare('SELECT data FROM log_entries WHERE idx = 17').get() as { data: Buffer };
      data[data.length - 1]! ^= 0x01;
      db.prepare('UPDATE log_entries SET data = ? WHERE idx = 17').run(data);
    });
    const report = await verify(path);
    expect(report.lost).toBe(1);
    expect(report.violations.join('\n')).toMatch(/acknowledged entry 17 .* other bytes/);
    expect(report.violations.join('\n')).toMatch(/entry 17 .* altered bytes/);
    expect(report.violations.join('\n')).toMatch(/root recomputed from 633 entries differs/);
  });

  it('flags a deleted acknowledged row', async () => {
    const path = damagedCopy((db) => db.prepare('DELETE FROM log_entries WHERE idx = 400').run());
    const report = await verify(path);
    expect(report.lost).toBe(1);
    expect(report.violations.join('\n')).toMatch(/gap: expected 400, found 401/);
    expect(report.violations.join('\n')).toMatch(/632 entries stored but the latest checkpoint has size 633/);
  });

  it('flags a rolled-back commit (last checkpoint and its entries gone)', async () => {
    const path = damagedCopy((db) => {
      const sizes = (db.prepare('SELECT size FROM log_checkpoints ORDER BY size DESC LIMIT 2').all() as { size: number }[]).map((r) => r.size);
      db.prepare('DELETE FROM log_checkpoints WHERE size = ?').run(sizes[0]);
      db.prepare('DELETE FROM log_entries WHERE idx >= ?').run(sizes[1]);
    });
    const report = await verify(path);
    expect(report.lost).toBeGreaterThan(0);
    expect(report.violations.join('\n')).toMatch(/served checkpoint 633 .* rolled back/);
  });

  it('flags a tile that does not match the entries', async () => {
    const path = damagedCopy((db) => {
      const { data } = db.prepare('SELECT data FROM log_tiles WHERE level = 0 AND idx = 0').get() as { data: Buffer };
      data[5]! ^= 0x80;
      db.prepare('UPDATE log_tiles SET data = ? WHERE level = 0 AND idx = 0').run(data);
    });
    const report = await verify(path);
    expect(report.lost).toBe(0);
    expect(report.violations.join('\n')).toMatch(/tile 0\/0 does not hold the hashes of the entries/);
  });

  it('flags an acknowledgement the log does not hold', async () => {
    const phantom: AckRecord = { index: 633, session: SESSION, run: 3, seq: 0, sha256: sha256Hex(crashEntry({ session: SESSION, run: 3, seq: 0 })) };
    const report = await verify(dbPath, { acks: [...acks, phantom] });
    expect(report.lost).toBe(1);
    expect(report.violations).toEqual(['acknowledged entry 633 (run 3 seq 0) is not in the tree of size 633']);
  });

  it('flags a forged note and a validly signed fork', async () => {
    const latest = served[served.length - 1]!;
    const forged = latest.replace(/\n633\n/, '\n634\n');
    const key = await loadOrCreateKeyFile(join(keyDir, 'log.key'), ORIGIN);
    const fork = await signNote(formatCheckpoint({ origin: ORIGIN, size: 300, root: new Uint8Array(32).fill(7), extensions: [] }), [key]);
    const report = await verify(dbPath, { served: [...served, forged, fork] });
    const text = report.violations.join('\n');
    expect(text).toMatch(/a served checkpoint fails verification/);
    expect(text).toMatch(/served checkpoint 300 .* is not the stored checkpoint of its size/);
    expect(text).toMatch(/served checkpoint 300 .* is not consistent with the latest checkpoint 633/);
    expect(report.lost).toBe(0);
  });
});

describe('runCrashLoop', () => {
  it('survives 5 SIGKILLs without losing an acknowledged entry', async () => {
    const lines: string[] = [];
    const summary = await runCrashLoop({ kills: 5, minMs: 40, maxMs: 200, concurrency: 32, log: (l) => lines.push(l) });
    expect(liveWriters()).toBe(0);
    expect(summary.violations).toEqual([]);
    expect(summary.kills).toBe(5);
    expect(summary.lost).toBe(0);
    expect(summary.acknowledged).toBeGreaterThan(0);
    expect(summary.entries).toBeGreaterThanOrEqual(summary.acknowledged);
    expect(summary.checkpointsServed).toBeGreaterThan(0);
    expect(summary.httpProofs).toBeGreaterThan(0);
    expect(lines.filter((l) => /^kill \d+\/5 /.test(l))).toHaveLength(5);
    expect(existsSync(summary.dir)).toBe(false); // a passing run removes its temporary folder
  }, 60_000);
});
