import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, concatBytes, toHex, utf8 } from '../../src/core/bytes.js';
import { RegistryError } from '../../src/core/errors.js';
import { leafHash, perfectRoot, rangePlan, rootFromLeafHashes, inclusionProofPlan, consistencyProofPlan } from '../../src/core/merkle.js';
import {
  TILE_WIDTH,
  TileBuilder,
  decodeEntryBundle,
  encodeEntryBundle,
  entriesPath,
  hashNodeFromTile,
  parseTilePath,
  rightEdgeTiles,
  rootFromTiles,
  tileKey,
  tilePath,
  tileSpanOfNode,
  tilesForNodes,
  type TileId,
} from '../../src/core/tiles.js';

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).code).toBe(code);
    return;
  }
  throw new Error('expected a RegistryError');
}

/** Hashes of every level, naively: level L+1 hash k = perfect root of level-L hashes [256k, 256k+256). */
function naiveLevels(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leafHashes.slice()];
  for (;;) {
    const below = levels[levels.length - 1]!;
    if (below.length < TILE_WIDTH) return levels;
    const next: Uint8Array[] = [];
    for (let k = 0; (k + 1) * TILE_WIDTH <= below.length; k++) next.push(perfectRoot(below, k * TILE_WIDTH, TILE_WIDTH));
    levels.push(next);
  }
}

/** The naive contents of tile (level, index) in a tree of `size`, per tlog-tiles "Merkle Tree". */
function naiveTile(levels: Uint8Array[][], size: number, level: number, index: number): Uint8Array {
  const available = Math.floor(size / 256 ** level);
  const hashes = levels[level] ?? [];
  const end = Math.min((index + 1) * TILE_WIDTH, available);
  return concatBytes(...hashes.slice(index * TILE_WIDTH, end));
}

function syntheticLeaves(n: number, seed = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const h = new Uint8Array(32);
    const view = new DataView(h.buffer);
    view.setUint32(0, i);
    view.setUint32(4, seed);
    h[31] = 0xa5;
    out.push(h);
  }
  return out;
}

describe('tile paths (tlog-tiles "Merkle Tree", "Log entries")', () => {
  it('encodes the spec example and partial widths', () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 4, index: 1234067, width: 8 })).toBe('tile/4/x001/x234/067.p/8');
    expect(tilePath({ level: 0, index: 0, width: 256 })).toBe('tile/0/000');
    expect(tilePath({ level: 1, index: 5, width: 1 })).toBe('tile/1/005.p/1');
    expect(tilePath({ level: 63, index: 1000, width: 255 })).toBe('tile/63/x001/000.p/255');
    expect(tilePath({ level: 2, index: 999, width: 256 })).toBe('tile/2/999');
    expect(tilePath({ level: 0, index: 2 ** 53 - 1, width: 256 })).toBe('tile/0/x009/x007/x199/x254/x740/991');
    expect(entriesPath(1234067, 256)).toBe('tile/entries/x001/x234/067');
    expect(entriesPath(5, 17)).toBe('tile/entries/005.p/17');
  });

  it('refuses impossible tile ids', () => {
    expectCode(() => tilePath({ level: 64, index: 0, width: 256 }), 'bad-range');
    expectCode(() => tilePath({ level: 0, index: -1, width: 256 }), 'bad-range');
    expectCode(() => tilePath({ level: 0, index: 0, width: 0 }), 'bad-range');
    expectCode(() => tilePath({ level: 0, index: 0, width: 257 }), 'bad-range');
    expectCode(() => tilePath({ level: 0, index: 2 ** 53, width: 256 }), 'bad-range');
    expectCode(() => entriesPath(1.5, 256), 'bad-range');
  });

  it('parses paths back', () => {
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ kind: 'hash', tile: { level: 0, index: 1234067, width: 256 } });
    expect(parseTilePath('tile/2/000.p/1')).toEqual({ kind: 'hash', tile: { level: 2, index: 0, width: 1 } });
    expect(parseTilePath('tile/entries/x001/x234/067.p/112')).toEqual({
      kind: 'entries',
      tile: { level: 0, index: 1234067, width: 112 },
    });
  });

  it('round-trips every tile id', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.maxSafeNat()),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          const tile: TileId = { level, index, width };
          expect(parseTilePath(tilePath(tile))).toEqual({ kind: 'hash', tile });
          expect(parseTilePath(entriesPath(index, width))).toEqual({ kind: 'entries', tile: { level: 0, index, width } });
        },
      ),
    );
  });

  it('rejects non-canonical paths', () => {
    const bad = [
      '',
      '0/000', // no tile/ prefix
      '/tile/0/000',
      'tile/0',
      'tile/0/',
      'tile/00/000', // level with a leading zero
      'tile/64/000', // level above 63
      'tile/100/000',
      'tile/-1/000',
      'tile/+1/000',
      'tile/a/000',
      'tile/0/0', // index not padded
      'tile/0/01',
      'tile/0/0000',
      'tile/0/x000/001', // leading all-zero element
      'tile/0/x000/x001/000',
      'tile/0/x1/000',
      'tile/0/001/002', // x missing
      'tile/0/x001/x002', // last element with x
      'tile/0/x001', // only an x element
      'tile/0/X001/002',
      'tile/0/x001//002',
      'tile/0/000/',
      'tile/0/000.p/0', // W outside 1..255
      'tile/0/000.p/256',
      'tile/0/000.p/01', // W with a leading zero
      'tile/0/000.p/',
      'tile/0/000.p',
      'tile/0/000.P/5',
      'tile/0/000.p/5/',
      'tile/0/000.p/5.p/5',
      'tile/0/x009/x007/x199/x254/x740/992', // 2^53
      'tile/0/x999/x999/x999/x999/x999/x999/999',
      'tile/entries/0',
      'tile/entries/000.p/256',
      'tile/entries/x000/005',
      'tile/entries',
      'tile/entries/',
      'tile/data/000',
      'tile/0/٠٠٠', // non-ASCII digits
      'tile/0/000?x',
      'tile/0/000 ',
    ];
    for (const path of bad) expectCode(() => parseTilePath(path), 'bad-request');
  });
});

describe('entry bundles (tlog-tiles "Log entries")', () => {
  it('round-trips, with big-endian uint16 length prefixes', () => {
    const entries = [utf8('a'), new Uint8Array(0), new Uint8Array(300).fill(7), new Uint8Array(65535).fill(1)];
    const bundle = encodeEntryBundle(entries);
    expect(Array.from(bundle.subarray(0, 6))).toEqual([0, 1, 97, 0, 0, 1]);
    expect(bundle.length).toBe(2 * 4 + 1 + 300 + 65535);
    const decoded = decodeEntryBundle(bundle, 4);
    expect(decoded.map((e) => e.length)).toEqual(entries.map((e) => e.length));
    decoded.forEach((e, i) => expect(bytesEqual(e, entries[i]!)).toBe(true));
  });

  it('round-trips random bundles', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 256 }), (entries) => {
        expect(decodeEntryBundle(encodeEntryBundle(entries), entries.length)).toEqual(entries);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses to encode oversize entries and bad counts', () => {
    expectCode(() => encodeEntryBundle([new Uint8Array(65536)]), 'entry-too-large');
    expectCode(() => encodeEntryBundle([]), 'bad-range');
    expectCode(() => encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(1))), 'bad-range');
  });

  it('rejects malformed bundles', () => {
    expectCode(() => decodeEntryBundle(new Uint8Array(0)), 'bad-request');
    expectCode(() => decodeEntryBundle(new Uint8Array([0])), 'bad-request'); // truncated length
    expectCode(() => decodeEntryBundle(new Uint8Array([0, 2, 1])), 'bad-request'); // truncated entry
    expectCode(() => decodeEntryBundle(new Uint8Array([0, 1, 1, 0])), 'bad-request'); // trailing byte
    expectCode(() => decodeEntryBundle(new Uint8Array([0xff, 0xff, 1, 2, 3])), 'bad-request');
    const many = new Uint8Array(2 * 257); // 257 empty entries
    expectCode(() => decodeEntryBundle(many), 'bad-request');
    expect(decodeEntryBundle(many.subarray(0, 512))).toHaveLength(256);
    expectCode(() => decodeEntryBundle(encodeEntryBundle([utf8('x')]), 2), 'bad-request');
  });
});

describe('nodes and tiles', () => {
  it('locates nodes in tiles', () => {
    expect(tileSpanOfNode({ level: 0, index: 1234067 })).toEqual({ level: 0, index: 4820, offset: 147, count: 1 });
    expect(tileSpanOfNode({ level: 3, index: 33 })).toEqual({ level: 0, index: 1, offset: 8, count: 8 });
    expect(tileSpanOfNode({ level: 8, index: 300 })).toEqual({ level: 1, index: 1, offset: 44, count: 1 });
    expect(tileSpanOfNode({ level: 15, index: 1 })).toEqual({ level: 1, index: 0, offset: 128, count: 128 });
    expect(tileSpanOfNode({ level: 16, index: 2 })).toEqual({ level: 2, index: 0, offset: 2, count: 1 });
    expect(tileSpanOfNode({ level: 52, index: 1 })).toEqual({ level: 6, index: 0, offset: 16, count: 16 });
  });

  it('matches the spec example of a tree of size 70,000 (tlog-tiles "Partial Tiles")', () => {
    expect(rightEdgeTiles(70000)).toEqual([
      { level: 2, index: 0, width: 1 },
      { level: 1, index: 1, width: 17 },
      { level: 0, index: 273, width: 112 },
    ]);
    expect(rightEdgeTiles(256)).toEqual([{ level: 1, index: 0, width: 1 }]);
    expect(rightEdgeTiles(0)).toEqual([]);
    expect(rightEdgeTiles(1)).toEqual([{ level: 0, index: 0, width: 1 }]);
    expect(rightEdgeTiles(2 ** 53 - 1).map((t) => t.width)).toEqual([31, 255, 255, 255, 255, 255, 255]);
  });

  it('lists the tiles that proofs need, full or partial', () => {
    const size = 70000;
    const plan = inclusionProofPlan(1234, size).flat();
    const tiles = tilesForNodes(plan, size);
    const keys = tiles.map((t) => tileKey(t.level, t.index));
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of tiles) {
      const full = Math.floor(size / 256 ** t.level / 256);
      expect(t.width).toBe(t.index < full ? 256 : Math.floor(size / 256 ** t.level) % 256);
    }
    expect(tilesForNodes(consistencyProofPlan(1000, size).flat(), size).length).toBeGreaterThan(0);
    expectCode(() => tilesForNodes([{ level: 0, index: 70000 }], size), 'bad-range');
    expectCode(() => tilesForNodes([{ level: 4, index: 4375 }], size), 'bad-range'); // [70000, 70016)
    expect(tilesForNodes([{ level: 4, index: 4374 }], size)).toEqual([{ level: 0, index: 273, width: 112 }]);
  });

  it('reads node hashes from tiles and rejects short tiles', () => {
    const leaves = syntheticLeaves(256);
    const tile = concatBytes(...leaves);
    expect(hashNodeFromTile(tile, { level: 7, index: 1 })).toEqual(rootFromLeafHashes(leaves.slice(128)));
    // A node of height 8 is one hash of a level-1 tile.
    expect(hashNodeFromTile(rootFromLeafHashes(leaves), { level: 8, index: 0 })).toEqual(rootFromLeafHashes(leaves));
    expect(hashNodeFromTile(tile, { level: 2, index: 3 })).toEqual(rootFromLeafHashes(leaves.slice(12, 16)));
    expect(hashNodeFromTile(tile, { level: 0, index: 5 })).toEqual(leaves[5]);
    expectCode(() => hashNodeFromTile(tile.subarray(0, 32 * 15), { level: 2, index: 3 }), 'bad-range');
    expectCode(() => hashNodeFromTile(tile.subarray(0, 33), { level: 0, index: 0 }), 'bad-range');
  });

  it('reports a missing tile', () => {
    expectCode(() => rootFromTiles(3, new Map()), 'not-found');
    expectCode(() => TileBuilder.fromRightEdge(3, new Map()), 'not-found');
    expect(rootFromTiles(0, new Map())).toEqual(rootFromLeafHashes([]));
  });
});

type Emitted = Array<{ level: number; index: number; data: Uint8Array }>;

/** Byte equality without vitest's slow element-by-element diff of large typed arrays. */
function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  if (actual === undefined || !bytesEqual(actual, expected)) {
    expect(actual === undefined ? 'missing' : toHex(actual)).toBe(toHex(expected));
  }
}

function expectSameEmitted(actual: Emitted, expected: Emitted): void {
  expect(actual.map((t) => [t.level, t.index, t.data.length])).toEqual(expected.map((t) => [t.level, t.index, t.data.length]));
  actual.forEach((t, i) => expectBytes(t.data, expected[i]!.data));
}

/** Runs the builder over `batches`, checking every emitted tile, the store, the root and resumption. */
function checkBuilder(leaves: readonly Uint8Array[], batchSizes: readonly number[], resumeAfter: number, fullCheck: boolean): void {
  const levels = naiveLevels(leaves);
  const store = new Map<string, Uint8Array>();
  let builder = TileBuilder.fromRightEdge(0, store);
  let resumed: TileBuilder | undefined;
  let at = 0;
  batchSizes.forEach((n, batch) => {
    const chunk = leaves.slice(at, at + n);
    const emitted: Emitted = builder.append(chunk);
    if (resumed !== undefined) expectSameEmitted(resumed.append(chunk), emitted);
    at += chunk.length;
    expect(builder.size).toBe(at);

    // Every emitted tile is the naive tile at the new size, once each.
    const seen = new Set<string>();
    for (const t of emitted) {
      const key = tileKey(t.level, t.index);
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      expect(t.data.length % 32).toBe(0);
      expectBytes(t.data, naiveTile(levels, at, t.level, t.index));
      store.set(key, t.data);
    }
    // Nothing else changed: each right-edge tile in the store is exactly its naive contents.
    for (const t of rightEdgeTiles(at)) {
      const data = store.get(tileKey(t.level, t.index));
      expect(data?.length).toBe(t.width * 32);
      expectBytes(data, naiveTile(levels, at, t.level, t.index));
    }

    const root = builder.root();
    if (fullCheck || batch === batchSizes.length - 1) expect(root).toEqual(rootFromLeafHashes(leaves.slice(0, at)));
    expect(rootFromTiles(at, store)).toEqual(root);
    if (resumed !== undefined) expect(resumed.root()).toEqual(root);
    if (batch === resumeAfter) {
      resumed = TileBuilder.fromRightEdge(at, store);
      expect(resumed.size).toBe(at);
      expect(resumed.root()).toEqual(root);
    }
  });
  // Every full tile of the final tree is stored.
  for (let level = 0; level < levels.length; level++) {
    const full = Math.floor((levels[level]?.length ?? 0) / TILE_WIDTH);
    for (let index = 0; index < full; index++) {
      expectBytes(store.get(tileKey(level, index)), naiveTile(levels, at, level, index));
    }
  }
  // The builder can swap for a freshly resumed one at the end, too.
  builder = TileBuilder.fromRightEdge(at, store);
  expect(builder.root()).toEqual(rootFromLeafHashes(leaves));
}

describe('TileBuilder', () => {
  it('starts empty', () => {
    const b = TileBuilder.fromRightEdge(0, new Map());
    expect(b.size).toBe(0);
    expect(b.root()).toEqual(rootFromLeafHashes([]));
    expect(b.append([])).toEqual([]);
    expect(TileBuilder.empty().root()).toEqual(rootFromLeafHashes([]));
    expectCode(() => b.append([new Uint8Array(31)]), 'bad-request');
  });

  it('matches naive tiles and roots for random batch splits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1200 })), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.nat(),
        fc.integer({ min: 0, max: 30 }),
        (n, rawSizes, seed, resumeAfter) => {
          const leaves = Array.from({ length: n }, (_, i) => leafHash(utf8(`entry ${seed} ${i}`)));
          // Turn the raw sizes into a split of exactly n leaves (the last batch takes the rest).
          const sizes: number[] = [];
          let left = n;
          for (const s of rawSizes) {
            const take = Math.min(s, left);
            sizes.push(take);
            left -= take;
          }
          sizes.push(left);
          checkBuilder(leaves, sizes, resumeAfter % sizes.length, true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('handles tile boundaries exactly', () => {
    const leaves = syntheticLeaves(1100, 7);
    checkBuilder(leaves, [255, 1, 1, 254, 1, 256, 256, 1, 255, 70], 3, true);
    checkBuilder(leaves, [1100], 0, true);
  });

  it('crosses a level-2 boundary (65,536 leaves) and resumes there', () => {
    const n = 65536 + 300;
    const leaves = syntheticLeaves(n, 1);
    const sizes: number[] = [];
    for (let left = 65536 - 1 - 20000; left > 0; ) {
      const s = Math.min(left, 4999);
      sizes.push(s);
      left -= s;
    }
    // 20,000 in one batch, then single leaves around 65,535 / 65,536 / 65,537, then the rest.
    sizes.push(20000, 1, 1, 1, 298);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    checkBuilder(leaves, sizes, sizes.length - 4, false);
    expect(rightEdgeTiles(65536)).toEqual([{ level: 2, index: 0, width: 1 }]);

    // Resume exactly at 65,536 from its only right-edge tile.
    const b = TileBuilder.fromRightEdge(0, new Map());
    const store = new Map<string, Uint8Array>();
    for (const t of b.append(leaves.slice(0, 65536))) store.set(tileKey(t.level, t.index), t.data);
    const onlyEdge = new Map([[tileKey(2, 0), store.get(tileKey(2, 0))!]]);
    const r = TileBuilder.fromRightEdge(65536, onlyEdge);
    expect(r.root()).toEqual(b.root());
    const e1 = b.append(leaves.slice(65536));
    expectSameEmitted(r.append(leaves.slice(65536)), e1);
    expect(e1.map((t) => [t.level, t.index, t.data.length / 32])).toEqual([
      [0, 256, 256],
      [0, 257, 44],
      [1, 1, 1],
    ]); // the level-2 tile is untouched: no level-1 tile completed
    expect(r.root()).toEqual(rootFromLeafHashes(leaves));
  });

  it('appends quickly', () => {
    const leaves = syntheticLeaves(50000, 3);
    const b = TileBuilder.fromRightEdge(0, new Map());
    const start = performance.now();
    for (let i = 0; i < leaves.length; i += 100) {
      b.append(leaves.slice(i, i + 100));
      b.root();
    }
    const ms = performance.now() - start;
    expect(b.size).toBe(50000);
    expect(ms).toBeLessThan(2000);
  });

  it('rangePlan agrees with the right edge', () => {
    for (const size of [1, 255, 256, 257, 65535, 65536, 70000]) {
      const nodes = rangePlan(0, size);
      const tiles = rightEdgeTiles(size);
      expect(tilesForNodes(nodes, size)).toEqual(tiles);
      for (const t of tiles) expect(t.width).toBeLessThan(256);
    }
  });
});
