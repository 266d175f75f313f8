// The D1 driver (src/store/d1.ts) against a real local D1 (wrangler's getPlatformProxy: workerd's D1 with the
// migrations of schema/migrations applied, driven from this Node process): commits fit D1's limit of 100 bound
// parameters per statement, and the compare-and-swap holds without BEGIN: a second sequencer on the same database
// loses, writes nothing and refuses writes, so the log never forks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPlatformProxy } from 'wrangler';
import { join } from 'node:path';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { randomBytes } from '../../src/core/crypto.js';
import { RegistryError } from '../../src/core/errors.js';
import { leafHash, rootFromLeafHashes } from '../../src/core/merkle.js';
import { formatSignerKey, parseSignerKey } from '../../src/core/note.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { createD1LogStore, D1_MAX_PARAMETERS, openD1 } from '../../src/store/d1.js';
import type { AnySQLiteDatabase } from '../../src/store/log-store.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { freshState, ROOT } from '../../scripts/worker/wrangler-dev.js';
import { tempDir } from '../support/registry.js';

const ORIGIN = 'certrail.test/log';

interface D1Like {
  prepare(sql: string): object;
}

/**
 * getPlatformProxy hands the D1 binding to Node through a serializing proxy that refuses Node's pooled Buffers as
 * parameters; D1 itself takes a byte array for a BLOB as well (as the Worker's D1 binding does on its side), so
 * bound byte views are passed as plain arrays here. Only the test's transport changes, not the statements.
 */
function plainBlobParameters(d1: D1Like): D1Like {
  const plain = (value: unknown) =>
    ArrayBuffer.isView(value) ? Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) : value;
  const forward = <T extends object>(target: T) => (name: string | symbol) => {
    const value: unknown = Reflect.get(target, name);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  return new Proxy(d1, {
    get(target, name) {
      if (name !== 'prepare') return forward(target)(name);
      return (sql: string) => {
        const statement = target.prepare(sql) as { bind(...values: unknown[]): unknown };
        return new Proxy(statement, {
          get(s, n) {
            return n === 'bind' ? (...values: unknown[]) => s.bind(...values.map(plain)) : forward(s)(n);
          },
        });
      };
    },
  });
}

describe('the D1 log store', () => {
  const dir = tempDir('certrail-d1-');
  let proxy: Awaited<ReturnType<typeof getPlatformProxy>>;
  let db: ReturnType<typeof openD1>;

  beforeAll(async () => {
    const persist = join(dir.path, 'state');
    await freshState(persist);
    // getPlatformProxy's persist path is the state folder itself; `--persist-to` (freshState) adds v3/.
    proxy = await getPlatformProxy({ configPath: join(ROOT, 'wrangler.toml'), persist: { path: join(persist, 'v3') } });
    db = openD1(plainBlobParameters((proxy.env as { DB: D1Like }).DB) as Parameters<typeof openD1>[0]);
  }, 120_000);
  afterAll(async () => {
    await proxy?.dispose();
    dir.remove();
  });

  const signer = () => parseSignerKey(formatSignerKey(ORIGIN, randomBytes(32)));

  it('commits large batches within D1 parameter limits, and a second sequencer cannot fork the log', async () => {
    const key = await signer();
    const store = createD1LogStore(db);
    const first = await Sequencer.open({ store, signer: key, origin: ORIGIN, maxBatch: 300, maxDelayMs: 5 });
    const entries = Array.from({ length: 300 }, (_, i) => utf8(`entry ${i} ${'x'.repeat(i)}`));
    const results = await Promise.all(entries.map((e) => first.append(e)));
    expect(results.map((r) => r.index)).toEqual(entries.map((_, i) => i));
    expect(first.checkpoint.size).toBe(300);
    expect(toHex(first.checkpoint.root)).toBe(toHex(rootFromLeafHashes(entries.map(leafHash))));
    expect((await store.readEntries(0, 300)).map(toHex)).toEqual(entries.map(toHex));

    // A second sequencer opened on the same log, say a stale instance during a deploy.
    const second = await Sequencer.open({ store: createD1LogStore(db), signer: key, origin: ORIGIN, maxDelayMs: 1 });
    expect(second.checkpoint.size).toBe(300);
    await first.append(utf8('the first one moves on'));
    await expect(second.append(utf8('a fork'))).rejects.toMatchObject({ code: 'unavailable' });
    expect(second.refused).toMatch(/another writer/);
    // Nothing of the loser is stored, and the winner goes on.
    await first.append(utf8('and on'));
    const latest = await store.latestCheckpoint();
    expect(latest?.size).toBe(302);
    expect((await store.readEntries(300, 303)).map((e) => new TextDecoder().decode(e))).toEqual(['the first one moves on', 'and on']);
  });

  it('refuses a commit whose previous size is stale even when it adds no entry (the guard, not a primary key)', async () => {
    const store = createD1LogStore(db);
    const latest = (await store.latestCheckpoint())!;
    const stale = { ...latest, size: latest.size + 1, note: `${latest.note}x` };
    await expect(store.commit({ previousSize: latest.size - 1, entries: [], tiles: [], checkpoint: stale })).rejects.toBeInstanceOf(RegistryError);
    expect((await store.latestCheckpoint())?.size).toBe(latest.size);
  });

  it('splits index rows to D1 parameter limits (a certificate with 256 models and 32 standards)', () => {
    const registry = new RegistryStore(db as unknown as AnySQLiteDatabase, D1_MAX_PARAMETERS);
    const writes = registry.insertCertificate(
      {
        issuer: 'acme-cert',
        number: 'MANY-1',
        issuedIndex: 1,
        loggedAt: 0,
        lastIndex: 1,
        lastLeafHash: new Uint8Array(32),
        lifecycle: 'active',
        organization: 'o',
        systemName: 's',
        validFrom: 0,
        validUntil: 1,
        keyId: 'key-1',
      },
      { certificate: { validFrom: '1970-01-01T00:00:00Z', validUntil: '1970-01-01T00:00:01Z', scope: 's', surveillance: { intervalMonths: 12, firstDueBy: '1970-01-01T00:00:01Z' } }, events: [] },
      Array.from({ length: 256 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`),
      Array.from({ length: 32 }, (_, i) => `standard ${i}`),
    );
    const params = writes.map((w) => (w as unknown as { toSQL(): { params: unknown[] } }).toSQL().params.length);
    expect(Math.max(...params)).toBeLessThanOrEqual(D1_MAX_PARAMETERS);
    expect(params.reduce((a, b) => a + b, 0)).toBe(15 + 256 * 3 + 32 * 3);
  });
});
