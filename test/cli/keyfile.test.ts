// Key files created by processes that start together on one key folder (several servers on one database, README
// "Several processes on one database"): every process must end up with the same key, none may fail or overwrite.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/registry.js';

const KEYFILE = fileURLToPath(new URL('../../src/cli/keyfile.ts', import.meta.url));
const PROCESSES = 6;

/** A process that waits until `startAt`, then loads or creates the key and prints its public key in hex. */
function racer(path: string, startAt: number): Promise<{ code: number | null; out: string; err: string }> {
  const script = `
    const { loadOrCreateKeyFile } = await import(${JSON.stringify(KEYFILE)});
    while (Date.now() < ${startAt}) {}
    const key = await loadOrCreateKeyFile(${JSON.stringify(path)}, 'race.example/log');
    process.stdout.write(Buffer.from(key.publicKey).toString('hex'));
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('loadOrCreateKeyFile across processes', { timeout: 60_000 }, () => {
  it('gives every process that starts together the one key that was written', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'keys', 'log.key');
      // Module loading takes a few hundred ms per process; the busy wait lines them up on the same moment.
      const results = await Promise.all(Array.from({ length: PROCESSES }, () => racer(path, Date.now() + 4000)));
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
});
