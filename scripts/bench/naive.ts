// The naive approach beside ours, for the benchmark suite (scripts/bench/suite.ts): a Merkle tree kept with
// merkletreejs, which recomputes every layer of the tree when a leaf is added (`addLeaf`), and which a stateless
// server would rebuild from all leaves to answer a proof (`new MerkleTree(leaves)` then `getProof`). Both cost O(n);
// our log's append costs O(1) amortized (TileBuilder keeps only the right edge) and a proof reads O(log n) stored
// tiles. Both sides hash with node:crypto SHA-256 so that only the algorithm differs.
//
//   npx tsx scripts/bench/naive.ts [--sizes 10000,100000] [--extrapolate 1000000,10000000] [--repeat 3]
//
// merkletreejs is measured at --sizes and extrapolated linearly (its costs are O(n)) to --extrapolate, where
// measuring would take too long; the report marks extrapolated figures. Our append is measured here, in memory (as
// merkletreejs is), at each size: a TileBuilder resumed from the right edge of a tree of that size takes one leaf and
// gives the new root.
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MerkleTree } from 'merkletreejs';
import { useSha256 } from '../../src/core/crypto.js';
import { leafHash } from '../../src/core/merkle.js';
import { rightEdgeTiles, tileKey, TileBuilder } from '../../src/core/tiles.js';

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

export interface NaiveCost {
  size: number;
  /** merkletreejs: ms to add one leaf (the whole tree recomputed). */
  appendMs: number;
  /** merkletreejs: ms to rebuild the tree from all leaves and take one proof. */
  proofMs: number;
  /** True when extrapolated from the largest measured size rather than measured. */
  extrapolated: boolean;
}

function leaves(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => sha256(Buffer.from(`leaf ${i}`)));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** merkletreejs at `size` leaves, `repeat` times each, medians. */
export function measureNaive(size: number, repeat: number): NaiveCost {
  const data = leaves(size);
  const appends: number[] = [];
  const proofs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const tree = new MerkleTree(data.slice(0, size - 1), sha256);
    const t0 = performance.now();
    tree.addLeaf(data[size - 1]!);
    appends.push(performance.now() - t0);
    const index = Math.floor(Math.random() * size);
    const t1 = performance.now();
    const rebuilt = new MerkleTree(data, sha256);
    const proof = rebuilt.getProof(data[index]!, index);
    proofs.push(performance.now() - t1);
    if (!rebuilt.verify(proof, data[index]!, rebuilt.getRoot())) throw new Error('merkletreejs proof does not verify');
  }
  return { size, appendMs: median(appends), proofMs: median(proofs), extrapolated: false };
}

/** Linear extrapolation of the largest measured cost (merkletreejs costs are O(n)). */
export function extrapolate(measured: NaiveCost, size: number): NaiveCost {
  const k = size / measured.size;
  return { size, appendMs: measured.appendMs * k, proofMs: measured.proofMs * k, extrapolated: true };
}

/**
 * Ours, in memory: a TileBuilder resumed from the right edge of a tree of `size` leaves appends one leaf and computes
 * the new root; the median ms of 101 or more appends (each on the grown tree).
 */
export function measureOurAppend(size: number, repeat: number): number {
  useSha256(sha256);
  // The right edge of a tree of `size` (any hashes will do: the builder keeps them, it does not check them).
  const tiles = new Map<string, Uint8Array>();
  for (const tile of rightEdgeTiles(size)) tiles.set(tileKey(tile.level, tile.index), randomBytes(tile.width * 32));
  const builder = TileBuilder.fromRightEdge(size, tiles);
  const times: number[] = [];
  for (let r = 0; r < Math.max(repeat, 101); r++) {
    const h = leafHash(Buffer.from(`leaf ${r}`));
    const t0 = performance.now();
    builder.append([h]);
    builder.root();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export interface NaiveComparison {
  naive: NaiveCost[];
  /** Our in-memory append, ms, by size. */
  oursAppendMs: Map<number, number>;
}

export function compareNaive(sizes: number[], extrapolateTo: number[], repeat: number): NaiveComparison {
  const naive = sizes.map((n) => measureNaive(n, repeat));
  const largest = naive[naive.length - 1]!;
  for (const n of extrapolateTo) if (n > largest.size) naive.push(extrapolate(largest, n));
  const oursAppendMs = new Map<number, number>();
  for (const n of [...sizes, ...extrapolateTo]) oursAppendMs.set(n, measureOurAppend(n, repeat));
  return { naive, oursAppendMs };
}

function sizesOf(text: string | undefined): number[] {
  const sizes = (text ?? '').split(',').filter((s) => s !== '').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2)) throw new Error(`sizes must be integers >= 2: ${text}`);
  return sizes.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '10000,100000' }, extrapolate: { type: 'string', default: '1000000,10000000' }, repeat: { type: 'string', default: '3' } },
    strict: true,
  });
  const result = compareNaive(sizesOf(values.sizes), sizesOf(values.extrapolate), Number(values.repeat));
  for (const c of result.naive) {
    console.log(
      `${c.size.toLocaleString('en-US')} leaves${c.extrapolated ? ' (extrapolated)' : ''}: merkletreejs append ${c.appendMs.toFixed(2)} ms, ` +
        `rebuild + proof ${c.proofMs.toFixed(2)} ms; ours append ${(result.oursAppendMs.get(c.size) ?? Number.NaN).toFixed(4)} ms`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
