// Read side of the log: tiles, entry bundles and proofs, all computed from stored tiles (C2SP tlog-tiles), bounded by
// the latest checkpoint so nothing beyond the signed tree is ever served.
import { bytesEqual } from '../core/bytes.js';
import { RegistryError } from '../core/errors.js';
import { assembleProof, consistencyProofPlan, inclusionProofPlan, type NodeId } from '../core/merkle.js';
import { encodeEntryBundle, hashNodeFromTile, tileKey, tileSpanOfNode, tilesForNodes, TILE_WIDTH, type TileId } from '../core/tiles.js';
import type { LogStore, StoredCheckpoint } from '../store/log-store.js';

const HASH_BYTES = 32;

/** Hashes a tile of `level` holds in a tree of `size`, counted across all tiles of the level. */
function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * Proofs memoize the hashes of perfect subtrees (a perfect subtree's hash never changes once it exists). Those of at
 * least 2^MEMO_MIN_LEVEL leaves are shared by most proofs (each costs up to 127 hashes to recompute); the smaller
 * ones, down to single leaves, by the proofs of neighbouring entries, such as the receipts of one batch, which prove
 * consecutive entries against one checkpoint: they get a small memo of their own, so that proofs of random entries
 * do not push the large subtrees out.
 */
const MEMO_MIN_LEVEL = 4;
const MEMO_SIZE = 100_000;
const SMALL_MEMO_SIZE = 4096;

export class LogReader {
  private readonly subtrees = new Map<string, Uint8Array>();
  private readonly smallSubtrees = new Map<string, Uint8Array>();

  constructor(
    private readonly store: LogStore,
    /** The latest checkpoint to serve; the sequencer's when this process writes. */
    private readonly latest: () => Promise<StoredCheckpoint>,
  ) {}

  checkpoint(): Promise<StoredCheckpoint> {
    return this.latest();
  }

  /** The hash tile, or null when the tree does not (yet) have it at that width. */
  async hashTile(tile: TileId): Promise<Uint8Array | null> {
    const { size } = await this.latest();
    if (tile.index * TILE_WIDTH + tile.width > hashesAtLevel(size, tile.level)) return null;
    const data = (await this.store.readTiles([tile])).get(tileKey(tile.level, tile.index));
    if (!data || data.length < tile.width * HASH_BYTES) return null;
    return data.subarray(0, tile.width * HASH_BYTES);
  }

  /** The entry bundle (uint16-length-prefixed entries), or null when the tree does not have those entries. */
  async entryBundle(tile: TileId): Promise<Uint8Array | null> {
    const { size } = await this.latest();
    const start = tile.index * TILE_WIDTH;
    if (start + tile.width > size) return null;
    const entries = await this.store.readEntries(start, start + tile.width);
    if (entries.length !== tile.width) return null;
    return encodeEntryBundle(entries);
  }

  /**
   * Whether entry `index` of the served tree has `leafHash`: the level-0 tile the checkpoint's root commits to holds
   * that hash at that position (the sequencer verified at start that the tiles reproduce the checkpoint's root).
   */
  async hasLeaf(index: number, leafHash: Uint8Array): Promise<boolean> {
    const { size } = await this.latest();
    if (!(index >= 0 && index < size)) return false;
    const tileIndex = Math.floor(index / TILE_WIDTH);
    const data = (await this.store.readTiles([{ level: 0, index: tileIndex }])).get(tileKey(0, tileIndex));
    const offset = (index - tileIndex * TILE_WIDTH) * HASH_BYTES;
    return data !== undefined && data.length >= offset + HASH_BYTES && bytesEqual(data.subarray(offset, offset + HASH_BYTES), leafHash);
  }

  /** RFC 9162 §2.1.4 consistency proof between two sizes of the served tree (1 ≤ from ≤ to ≤ size). */
  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    const { size } = await this.latest();
    if (!(from >= 1 && from <= to && to <= size)) {
      throw new RegistryError('bad-range', `need 1 <= from <= to <= ${size}; got from=${from} to=${to}`);
    }
    return this.prove(consistencyProofPlan(from, to), to);
  }

  /** RFC 9162 §2.1.3 inclusion proof of `index` in the tree of `treeSize` (≤ the served size). */
  async inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]> {
    const { size } = await this.latest();
    if (!(index >= 0 && index < treeSize && treeSize <= size)) {
      throw new RegistryError('bad-range', `need 0 <= index < size <= ${size}; got index=${index} size=${treeSize}`);
    }
    return this.prove(inclusionProofPlan(index, treeSize), treeSize);
  }

  private async prove(plan: NodeId[][], treeSize: number): Promise<Uint8Array[]> {
    // The memoized hashes are taken first: a memo may be cleared while the tiles are read (by another proof) or
    // while this proof fills it, and a node found here has no tile read for it.
    const known = new Map<string, Uint8Array>();
    const missing: NodeId[] = [];
    for (const node of plan.flat()) {
      const key = nodeKey(node);
      const hash = this.memoOf(node).get(key);
      if (hash) known.set(key, hash);
      else missing.push(node);
    }
    const tiles = missing.length > 0 ? await this.store.readTiles(tilesForNodes(missing, treeSize)) : new Map<string, Uint8Array>();
    return assembleProof(plan, (node) => {
      const key = nodeKey(node);
      // A proof assembled meanwhile (the receipts of one batch are proved concurrently) may have memoized the node.
      let hash = known.get(key) ?? this.memoOf(node).get(key);
      if (!hash) {
        const span = tileSpanOfNode(node);
        const data = tiles.get(tileKey(span.level, span.index));
        if (!data) throw new RegistryError('log-integrity', `tile ${span.level}/${span.index} is missing`);
        hash = hashNodeFromTile(data, node);
        const memo = this.memoOf(node);
        if (memo.size >= (memo === this.subtrees ? MEMO_SIZE : SMALL_MEMO_SIZE)) memo.clear();
        memo.set(key, hash);
      }
      return hash;
    });
  }

  private memoOf(node: NodeId): Map<string, Uint8Array> {
    return node.level >= MEMO_MIN_LEVEL ? this.subtrees : this.smallSubtrees;
  }
}

function nodeKey(node: NodeId): string {
  return `${node.level}/${node.index}`;
}
