// Processes that start together on one new database and key folder (several servers on one database, README
// "Several processes on one database"): every process must open the same schema and end up with the same key; none
// may fail or overwrite another's work.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/registry.js';

const PROCESSES = 6;
const moduleUrl = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));

/**
 * Runs `body` in PROCESSES Node processes at the same moment (module loading takes a few hundred ms per process; a
 * busy wait lines them up) and returns each one's exit code, standard output and standard error.
 */
function race(imports: string, body: string): Promise<Array<{ code: number | null; out: string; err: string }>> {
  const startAt = Date.now() + 4000;
  const script = `${imports}\nwhile (Date.now() < ${startAt}) {}\n${body}`;
  return Promise.all(
    Array.from({ length: PROCESSES }, () => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    })),
  );
}

describe('processes starting together', { timeout: 60_000 }, () => {
  it('agree on the one key file that was written (loadOrCreateKeyFile)', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'keys', 'log.key');
      const results = await race(
        `const { loadOrCreateKeyFile } = await import(${moduleUrl('../../src/cli/keyfile.ts')});`,
        `const key = await loadOrCreateKeyFile(${JSON.stringify(path)}, 'race.example/log');
         process.stdout.write(Buffer.from(key.publicKey).toString('hex'));`,
      );
      for (const r of results) expect(r.code, r.err).toBe(0);
      const keys = new Set(results.map((r) => r.out));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(/^[0-9a-f]{64}$/);
      expect(readFileSync(path, 'utf8')).toMatch(/^PRIVATE\+KEY\+race\.example\/log\+/);
      expect(statSync(path).mode & 0o077).toBe(0);
    } finally {
      dir.remove();
    }
  });

  it('apply the schema migrations once (openSqlite)', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'certrail.db');
      const results = await race(
        `const { openSqlite } = await import(${moduleUrl('../../src/store/sqlite.ts')});`,
        `const { sqlite } = openSqlite(${JSON.stringify(path)});
         process.stdout.write(String(sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()));
         sqlite.close();`,
      );
      for (const r of results) expect(r.code, r.err).toBe(0);
      const migrations = readdirSync(fileURLToPath(new URL('../../schema/migrations', import.meta.url))).filter((f) => f.endsWith('.sql')).length;
      expect(new Set(results.map((r) => r.out))).toEqual(new Set([String(migrations)]));
      const db = new Database(path, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(migrations);
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    } finally {
      dir.remove();
    }
  });
});
