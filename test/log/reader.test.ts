// LogReader's proofs on a real SQLite log, with its subtree memos under pressure: thousands of proofs of random and of
// neighbouring entries, many in flight at once, fill the small-subtree memo several times over, so that it is cleared
// while proofs are reading tiles and while one proof fills it. Every proof must still verify against the root.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.js';
import { randomBytes, useSha256 } from '../../src/core/crypto.js';
import { sha256Js } from '../../src/core/sha256.js';
import { leafHash, rootFromInclusionProof } from '../../src/core/merkle.js';
import { formatSignerKey, parseSignerKey } from '../../src/core/note.js';
import { LogReader } from '../../src/log/reader.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { createSqliteLogStore, openSqlite, type SqliteHandle } from '../../src/store/sqlite.js';
import type { StoredCheckpoint } from '../../src/store/log-store.js';
import { tempDir } from '../support/registry.js';

// Not a multiple of 16: the right edge has subtrees below level 4, which every proof shares (from the small memo).
const SIZE = 6013;
const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);

describe('LogReader proofs', () => {
  const dir = tempDir('certrail-reader-');
  let handle: SqliteHandle;
  let reader: LogReader;
  let checkpoint: StoredCheckpoint;

  beforeAll(async () => {
    handle = openSqlite(join(dir.path, 'log.db'));
    const store = createSqliteLogStore(handle);
    const signer = await parseSignerKey(formatSignerKey('certrail.test/log', randomBytes(32)));
    const sequencer = await Sequencer.open({ store, signer, origin: 'certrail.test/log', maxBatch: 1024, maxDelayMs: 1 });
    await Promise.all(Array.from({ length: SIZE }, (_, i) => sequencer.append(entry(i))));
    checkpoint = sequencer.checkpoint;
    reader = new LogReader(store, async () => checkpoint);
  });

  afterAll(() => {
    handle.sqlite.close();
    dir.remove();
  });

  const proves = async (index: number) => {
    const computed = rootFromInclusionProof(leafHash(entry(index)), index, SIZE, await reader.inclusionProof(index, SIZE));
    return computed !== null && bytesEqual(computed, checkpoint.root);
  };

  it('proves random and neighbouring entries, many at once, while the memos fill and clear', async () => {
    expect(checkpoint.size).toBe(SIZE);
    let failures = 0;
    for (let round = 0; round < 60; round++) {
      const start = Math.floor(Math.random() * (SIZE - 40));
      const indices = [
        ...Array.from({ length: 40 }, (_, k) => start + k), // a batch's receipts: neighbours
        ...Array.from({ length: 40 }, () => Math.floor(Math.random() * SIZE)), // bundles and proofs: anywhere
      ];
      const results = await Promise.all(indices.map(proves));
      failures += results.filter((ok) => !ok).length;
    }
    expect(failures).toBe(0);
  });

  it('hashes each subtree once for the receipts of a batch, proved concurrently', async () => {
    // The receipts of one batch are proved at once against one checkpoint. Every proof missed the memo before it read
    // its tiles; each must still find there the subtrees another proof hashed meanwhile, rather than hash them again.
    const fresh = new LogReader(createSqliteLogStore(handle), async () => checkpoint);
    const indices = Array.from({ length: 64 }, (_, k) => 5888 + k);
    let hashes = 0;
    useSha256((data) => {
      hashes++;
      return sha256Js(data);
    });
    let proofs: Uint8Array[][];
    try {
      proofs = await Promise.all(indices.map((index) => fresh.inclusionProof(index, SIZE)));
    } finally {
      useSha256(sha256Js);
    }
    const roots = proofs.map((proof, k) => rootFromInclusionProof(leafHash(entry(indices[k]!)), indices[k]!, SIZE, proof));
    expect(roots.every((root) => root !== null && bytesEqual(root, checkpoint.root))).toBe(true);
    // Each subtree hashed once costs 589 hashes here, all proofs together; each proof hashing its own, 8,704.
    expect(hashes).toBeLessThan(1000);
  });
});
