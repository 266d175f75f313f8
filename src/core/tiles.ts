// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths, entry bundles, and the mapping between Merkle tree
// nodes (RFC 9162 §2.1) and the tiles that store their hashes. Pure: runs in Node, Workers and browsers.
//
// Tree sizes and indices are safe integers up to 2^53, so they are handled with Math.floor and `/` by powers of two
// (exact in binary floating point), never with 32-bit bitwise operators. Only tile widths and offsets (< 256) use them.

import { RegistryError } from './errors.js';
import {
  HASH_SIZE,
  emptyRoot,
  foldRange,
  nodeHash,
  perfectRoot,
  rangePlan,
  type NodeId,
} from './merkle.js';

/** tlog-tiles "Merkle Tree": every tile is a subtree of height 8… */
export const TILE_HEIGHT = 8;
/** …so a full tile is 256 hashes (8,192 bytes) wide. */
export const TILE_WIDTH = 256;

/** Highest tile level a path may name (tlog-tiles "Merkle Tree": `<L>` is between 0 and 63). */
const MAX_LEVEL = 63;
/** Longest entry in an entry bundle: its length is a big-endian uint16 (tlog-tiles "Log entries"). */
const MAX_ENTRY_SIZE = 0xffff;
const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

/** A tile: `level` 0 holds leaf hashes; `width` is 1..256, 256 being a full tile and anything less a partial one. */
export interface TileId {
  level: number;
  index: number;
  width: number;
}

/** `2^(8·level)` = 256^level, exact for every level a safe-integer tree can reach. */
function tileSpan(level: number): number {
  return 2 ** (TILE_HEIGHT * level);
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL) {
    throw new RegistryError('bad-range', `tile level ${level} outside 0..${MAX_LEVEL}`);
  }
}

function checkIndex(index: number, what: string): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RegistryError('bad-range', `${what} ${index} is not a non-negative safe integer`);
  }
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RegistryError('bad-range', `tile width ${width} outside 1..${TILE_WIDTH}`);
  }
}

/**
 * `<N>` of a tile path (tlog-tiles "Merkle Tree"): the index as zero-padded 3-digit path elements, all but the last
 * prefixed with `x`, e.g. 1234067 → `x001/x234/067`, 5 → `005`.
 */
function encodeTileIndex(index: number): string {
  let digits = String(index);
  while (digits.length % 3 !== 0) digits = '0' + digits;
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? 'x' + g : g)).join('/');
}

/** The `.p/<W>` suffix, present only for partial tiles (tlog-tiles "Partial Tiles"). */
function widthSuffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` (tlog-tiles "Merkle Tree"), relative to the log prefix. */
export function tilePath(tile: TileId): string {
  checkLevel(tile.level);
  checkIndex(tile.index, 'tile index');
  checkWidth(tile.width);
  return `tile/${tile.level}/${encodeTileIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]` (tlog-tiles "Log entries"), relative to the log prefix. */
export function entriesPath(index: number, width: number): string {
  checkIndex(index, 'entry bundle index');
  checkWidth(width);
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/** A parsed tile path. Entry bundles are reported with `level: 0`, the level whose tile they correspond to. */
export type ParsedTilePath = { kind: 'hash'; tile: TileId } | { kind: 'entries'; tile: TileId };

// `<N>`: any number of `xDDD/` elements then a final `DDD`; then the optional `.p/<W>` with W in 1..255 and no
// leading zeroes (tlog-tiles "Merkle Tree" and "Partial Tiles"). Numeric ranges are checked after matching.
const INDEX_AND_WIDTH = /^((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;
const LEVEL = /^(?:0|[1-9][0-9]?)$/;

function badPath(path: string, why: string): RegistryError {
  return new RegistryError('bad-request', `non-canonical tile path ${JSON.stringify(path)}: ${why}`);
}

/**
 * Parses a tile or entry-bundle path in exactly the form `tilePath` / `entriesPath` produce: `tile/<L>/<N>[.p/<W>]` or
 * `tile/entries/<N>[.p/<W>]`, starting with `tile/` and with no leading slash (strip the log prefix first). Only the
 * one canonical spelling of each resource is accepted, since it names an immutable, cacheable resource: the level
 * is 0..63 with no leading zeroes; the index has no all-zero leading `x000` element and is a safe integer; W is
 * 1..255 with no leading zeroes (a full tile has no `.p/` suffix). Anything else throws RegistryError('bad-request').
 */
export function parseTilePath(path: string): ParsedTilePath {
  if (!path.startsWith('tile/')) throw badPath(path, 'must start with "tile/"');
  const rest = path.slice('tile/'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw badPath(path, 'missing tile index');
  const head = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);

  let kind: 'hash' | 'entries';
  let level: number;
  if (head === 'entries') {
    kind = 'entries';
    level = 0;
  } else {
    if (!LEVEL.test(head)) throw badPath(path, 'level must be a decimal integer with no leading zeroes');
    level = Number(head);
    if (level > MAX_LEVEL) throw badPath(path, `level above ${MAX_LEVEL}`);
    kind = 'hash';
  }

  const m = INDEX_AND_WIDTH.exec(tail);
  if (m === null) throw badPath(path, 'index must be zero-padded 3-digit elements, all but the last prefixed with x');
  const xGroups = m[1] ?? '';
  const last = m[2] ?? '';
  const widthText = m[3];
  if (xGroups.startsWith('x000/')) throw badPath(path, 'index has a leading all-zero element');
  const digits = xGroups.replaceAll('x', '').replaceAll('/', '') + last;
  if (digits.length > 18) throw badPath(path, 'index beyond 2^53');
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) throw badPath(path, 'index beyond 2^53');

  let width = TILE_WIDTH;
  if (widthText !== undefined) {
    width = Number(widthText);
    if (width < 1 || width >= TILE_WIDTH) throw badPath(path, 'partial width must be 1..255');
  }
  return { kind, tile: { level, index, width } };
}

/**
 * An entry bundle (tlog-tiles "Log entries"): the entries, each prefixed with its length as a big-endian uint16.
 * A bundle holds 1..256 entries (empty tiles are never served). An entry longer than 65,535 bytes throws
 * RegistryError('entry-too-large').
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new RegistryError('bad-range', `an entry bundle holds 1..${TILE_WIDTH} entries, not ${entries.length}`);
  }
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) {
      throw new RegistryError('entry-too-large', `entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
    }
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >>> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/**
 * Decodes an entry bundle strictly: every length prefix and entry must be complete, no bytes may trail, and the
 * bundle must hold 1..256 entries (exactly `expectedCount` when given, e.g. the W of the path it was fetched from).
 * Entries are returned as copies. Throws RegistryError('bad-request') otherwise.
 */
export function decodeEntryBundle(bytes: Uint8Array, expectedCount?: number): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (entries.length === TILE_WIDTH) {
      throw new RegistryError('bad-request', `entry bundle holds more than ${TILE_WIDTH} entries`);
    }
    if (o + 2 > bytes.length) throw new RegistryError('bad-request', 'entry bundle ends inside a length prefix');
    const length = (bytes[o]! << 8) | bytes[o + 1]!;
    const start = o + 2;
    const end = start + length;
    if (end > bytes.length) throw new RegistryError('bad-request', 'entry bundle ends inside an entry');
    entries.push(bytes.slice(start, end));
    o = end;
  }
  if (entries.length === 0) throw new RegistryError('bad-request', 'empty entry bundle');
  if (expectedCount !== undefined && entries.length !== expectedCount) {
    throw new RegistryError('bad-request', `entry bundle holds ${entries.length} entries, expected ${expectedCount}`);
  }
  return entries;
}

/** The map key of a tile in the `tiles` arguments below: `${level}/${index}`. */
export function tileKey(level: number, index: number): string {
  return `${level}/${index}`;
}

/**
 * Which tile holds a node's hashes, where, and how many (a node of height h lives in level floor(h/8) as 2^(h mod 8)
 * consecutive hashes). Per tlog-tiles "Merkle Tree", hash i of tile n at level l is MTH of the leaves
 * [(n·256 + i)·256^l, (n·256 + i + 1)·256^l), so node (h, k) spans tile hashes [k·2^r, (k+1)·2^r) of its level, r = h mod 8.
 */
export function tileSpanOfNode(node: NodeId): { level: number; index: number; offset: number; count: number } {
  if (!Number.isInteger(node.level) || node.level < 0 || node.level >= TILE_HEIGHT * (MAX_LEVEL + 1)) {
    throw new RegistryError('bad-range', `node height ${node.level} out of range`);
  }
  checkIndex(node.index, 'node index');
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level % TILE_HEIGHT);
  const first = node.index * count; // position of the node's first hash within its level
  if (!Number.isSafeInteger(first)) throw new RegistryError('bad-range', 'node beyond 2^53');
  return { level, index: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count };
}

/** The hash of `node`, computed from the hashes of the tile that holds it (`tileData` may be partial or full). */
export function hashNodeFromTile(tileData: Uint8Array, node: NodeId): Uint8Array {
  const { offset, count } = tileSpanOfNode(node);
  return spanRoot(tileData, offset, count);
}

/** The perfect root of `count` (a power of two) consecutive hashes of a tile, starting at hash `offset`. */
function spanRoot(tileData: Uint8Array, offset: number, count: number): Uint8Array {
  if (tileData.length % HASH_SIZE !== 0) {
    throw new RegistryError('bad-range', `tile data of ${tileData.length} bytes is not a whole number of hashes`);
  }
  if ((offset + count) * HASH_SIZE > tileData.length) {
    throw new RegistryError('bad-range', `tile of ${tileData.length / HASH_SIZE} hashes lacks hashes ${offset}..${offset + count - 1}`);
  }
  if (count === 1) return tileData.slice(offset * HASH_SIZE, (offset + 1) * HASH_SIZE);
  const hashes: Uint8Array[] = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    const at = (offset + i) * HASH_SIZE;
    hashes[i] = tileData.subarray(at, at + HASH_SIZE);
  }
  return perfectRoot(hashes);
}

/** How many hashes a tree of `size` has completed at `level`: floor(size / 256^level). */
function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / tileSpan(level));
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RegistryError('bad-range', `tree size ${size} is not a safe integer`);
}

/**
 * The tiles, as (level, index, width), that a tree of `size` needs to answer lookups for the given nodes, in order of
 * first use, without duplicates. A tile is full (256) when the tree has completed it, otherwise it is the partial tile
 * of width floor(size / 256^level) mod 256 (tlog-tiles "Partial Tiles"). Throws RegistryError('bad-range') for a node
 * that is not complete in a tree of `size`.
 */
export function tilesForNodes(nodes: readonly NodeId[], size: number): TileId[] {
  checkSize(size);
  const seen = new Set<string>();
  const out: TileId[] = [];
  for (const node of nodes) {
    const span = tileSpanOfNode(node);
    const available = hashesAtLevel(size, span.level);
    const tileStart = span.index * TILE_WIDTH;
    if (tileStart + span.offset + span.count > available) {
      throw new RegistryError('bad-range', `node ${node.level}/${node.index} is not in a tree of size ${size}`);
    }
    const key = tileKey(span.level, span.index);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ level: span.level, index: span.index, width: Math.min(TILE_WIDTH, available - tileStart) });
  }
  return out;
}

/**
 * The right-edge tiles that determine the root of a tree of `size`: for each level with a nonzero partial width
 * floor(size/256^L) mod 256, the partial tile of that width at index floor(size/256^(L+1)) (tlog-tiles "Partial
 * Tiles"). Levels whose width is 0 contribute nothing: their full tiles are already summarized one level up. These
 * are exactly the tiles holding the perfect subtrees of rangePlan(0, size), listed in the order of those subtrees
 * (left to right, so highest level first).
 */
export function rightEdgeTiles(size: number): TileId[] {
  checkSize(size);
  return tilesForNodes(rangePlan(0, size), size);
}

/**
 * The RFC 9162 §2.1.1 root of a tree of `size`, from its right-edge tiles: the right fold of the perfect subtrees of
 * [0, size), each read from its tile. `tiles` maps tileKey(level, index) to the tile's hashes (at least width·32 bytes,
 * so the full tile also serves). A missing tile throws RegistryError('not-found').
 */
export function rootFromTiles(size: number, tiles: ReadonlyMap<string, Uint8Array>): Uint8Array {
  checkSize(size);
  if (size === 0) return emptyRoot();
  const subtrees: Uint8Array[] = [];
  for (const node of rangePlan(0, size)) {
    const span = tileSpanOfNode(node);
    const data = tiles.get(tileKey(span.level, span.index));
    if (data === undefined) throw new RegistryError('not-found', `tile ${tileKey(span.level, span.index)} is missing`);
    subtrees.push(spanRoot(data, span.offset, span.count));
  }
  return foldRange(subtrees);
}

/** The partial tile of one level being filled by a TileBuilder. */
interface LevelEdge {
  /** Index of the tile being filled = number of full tiles at this level. */
  index: number;
  /** Hashes so far (a full tile's worth of room, filled up to `width`). */
  data: Uint8Array;
  width: number;
  /**
   * Roots of the perfect runs of hashes [0, width) of this tile, largest (leftmost) first: one per set bit of
   * `width`, kept like a binary counter so that each hash costs one node hash amortized and the tile root (the one
   * run left when width reaches 256) comes for free.
   */
  runs: Uint8Array[];
}

function newEdge(index: number): LevelEdge {
  return { index, data: new Uint8Array(FULL_TILE_BYTES), width: 0, runs: [] };
}

/**
 * The right edge of a tile-stored tree, kept in memory by the sequencer: appending leaf hashes updates the partial
 * tile of each level (completing a level-L tile adds its root to level L+1, tlog-tiles "Merkle Tree") and reports every
 * tile it changed, with its full new data.
 */
export class TileBuilder {
  #size: number;
  /** edges[L] is the partial tile of level L; levels above the tree's height are created on first use. */
  readonly #edges: LevelEdge[];

  private constructor(size: number, edges: LevelEdge[]) {
    this.#size = size;
    this.#edges = edges;
  }

  /** An empty tree. */
  static empty(): TileBuilder {
    return new TileBuilder(0, []);
  }

  /**
   * Resumes from stored right-edge tiles: `tiles` must hold, for every tile of rightEdgeTiles(size), at least its
   * width's hashes under tileKey(level, index) (a full tile also serves). Throws RegistryError('not-found') if one is
   * missing. The caller checks root() against the latest checkpoint.
   */
  static fromRightEdge(size: number, tiles: ReadonlyMap<string, Uint8Array>): TileBuilder {
    checkSize(size);
    const edges: LevelEdge[] = [];
    for (let level = 0; hashesAtLevel(size, level) > 0; level++) {
      const available = hashesAtLevel(size, level);
      const edge = newEdge(Math.floor(available / TILE_WIDTH));
      const width = available % TILE_WIDTH;
      if (width > 0) {
        const key = tileKey(level, edge.index);
        const stored = tiles.get(key);
        if (stored === undefined) throw new RegistryError('not-found', `right-edge tile ${key} is missing`);
        if (stored.length < width * HASH_SIZE) {
          throw new RegistryError('bad-range', `right-edge tile ${key} holds fewer than ${width} hashes`);
        }
        edge.data.set(stored.subarray(0, width * HASH_SIZE));
        edge.width = width;
        // One run per set bit of width, largest first.
        let offset = 0;
        for (let bit = TILE_HEIGHT - 1; bit >= 0; bit--) {
          const count = 1 << bit;
          if ((width & count) === 0) continue;
          edge.runs.push(spanRoot(edge.data.subarray(0, width * HASH_SIZE), offset, count));
          offset += count;
        }
      }
      edges.push(edge);
    }
    return new TileBuilder(size, edges);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Appends leaf hashes (RFC 9162 leaf hashes, 32 bytes each) and returns every tile this changed with all its hashes
   * so far (width = data.length / 32): tiles completed by this call (width 256), then the partial tile of each level
   * touched, lowest level first. Returned arrays are owned by the caller and never reused.
   */
  append(leafHashes: readonly Uint8Array[]): Array<{ level: number; index: number; data: Uint8Array }> {
    for (const h of leafHashes) {
      if (h.length !== HASH_SIZE) throw new RegistryError('bad-request', `leaf hash of ${h.length} bytes`);
    }
    if (!Number.isSafeInteger(this.#size + leafHashes.length)) {
      throw new RegistryError('bad-range', 'tree size would exceed 2^53');
    }
    const changed: Array<{ level: number; index: number; data: Uint8Array }> = [];
    let lowestTouched = Infinity;
    let highestTouched = -1;
    for (const h of leafHashes) {
      // Add the hash at level 0; each completed tile carries its root one level up.
      let level = 0;
      let hash: Uint8Array | undefined = h;
      while (hash !== undefined) {
        if (level < lowestTouched) lowestTouched = level;
        if (level > highestTouched) highestTouched = level;
        hash = this.#push(level, hash, changed);
        level++;
      }
    }
    this.#size += leafHashes.length;
    for (let level = lowestTouched; level <= highestTouched; level++) {
      const edge = this.#edges[level];
      if (edge !== undefined && edge.width > 0) {
        changed.push({ level, index: edge.index, data: edge.data.slice(0, edge.width * HASH_SIZE) });
      }
    }
    return changed;
  }

  /** Adds one hash to the partial tile of `level`; returns the tile's root if that completed it. */
  #push(level: number, hash: Uint8Array, changed: Array<{ level: number; index: number; data: Uint8Array }>): Uint8Array | undefined {
    let edge = this.#edges[level];
    if (edge === undefined) {
      // A level above the current height: nothing there yet, so its first tile is index 0.
      edge = newEdge(0);
      this.#edges[level] = edge;
    }
    const position = edge.width;
    edge.data.set(hash, position * HASH_SIZE);
    edge.width = position + 1;
    // Binary-counter merge: each trailing one-bit of the old width closes a run of equal size to the left.
    let run = hash;
    for (let carry = position; (carry & 1) === 1; carry >>>= 1) {
      const left = edge.runs.pop();
      if (left === undefined) throw new Error('TileBuilder: run stack underflow');
      run = nodeHash(left, run);
    }
    edge.runs.push(run);
    if (edge.width < TILE_WIDTH) return undefined;
    // Full tile: hand its buffer to the caller (no copy) and start the next tile at this level.
    changed.push({ level, index: edge.index, data: edge.data });
    this.#edges[level] = newEdge(edge.index + 1);
    return run;
  }

  /** The RFC 9162 §2.1.1 root of the tree so far: the right fold of every level's runs, highest level first. */
  root(): Uint8Array {
    const subtrees: Uint8Array[] = [];
    for (let level = this.#edges.length - 1; level >= 0; level--) {
      const edge = this.#edges[level];
      if (edge !== undefined) subtrees.push(...edge.runs);
    }
    return subtrees.length === 0 ? emptyRoot() : foldRange(subtrees);
  }
}
