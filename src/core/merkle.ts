// RFC 9162 Merkle tree hashing, proof planning and proof verification. Pure: no node:* imports.
//
// Sizes and indices are JavaScript numbers and stay exact up to 2^53 - 1: this file uses only
// arithmetic (`/ 2`, `% 2`, `Math.floor`, powers of two as numbers), never the 32-bit operators
// `>> << & |`, which would silently wrap at 2^31.
//
// Proving is split in two so that the same code serves in-memory trees, SQL-backed tiles and tests:
// a *plan* names the perfect subtrees (NodeId) whose hashes make up each proof element, and
// `assembleProof` folds the hashes a caller's `lookup` returns for them.
import { bytesEqual, concatBytes } from './bytes.js';
import { sha256 } from './crypto.js';
import { RegistryError } from './errors.js';

export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, entry));
}

/**
 * The input buffer of nodeHash, reused: interior hashing is the hottest loop of proofs and tiles, and SHA-256 reads
 * its input synchronously without keeping it, so one 65-byte scratch array spares an allocation per node.
 */
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** RFC 9162 §2.1.1: interior node = SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return sha256(concatBytes(NODE_PREFIX, left, right));
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** RFC 9162 §2.1.1: MTH({}) = SHA-256() of the empty string. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** A perfect (complete) subtree: height `level`, covering leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  level: number;
  index: number;
}

// ---------------------------------------------------------------------------------------------
// Number helpers (exact for safe integers; no 32-bit operators).

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isHashList(list: unknown): list is readonly Uint8Array[] {
  return Array.isArray(list) && list.every(isHash);
}

/** Largest power of two ≤ n, and its exponent, for n ≥ 1. */
function floorPow2(n: number): { pow: number; exp: number } {
  let pow = 1;
  let exp = 0;
  while (pow * 2 <= n) {
    pow *= 2;
    exp += 1;
  }
  return { pow, exp };
}

/** RFC 9162 §2.1.1's k: the largest power of two strictly smaller than n, for n ≥ 2. */
function splitPoint(n: number): number {
  return floorPow2(n - 1).pow;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && floorPow2(n).pow === n;
}

function badRange(detail: string): never {
  throw new RegistryError('bad-range', detail);
}

// ---------------------------------------------------------------------------------------------
// Roots over in-memory hashes.

/**
 * Right fold h = nodeHash(s_i, h), starting from the last element. Folding the subtrees of
 * `rangePlan(start, end)` yields MTH(D[start:end]) (RFC 9162 §2.1.1 splits off the largest
 * left subtree first). The empty fold is MTH({}) = emptyRoot().
 */
export function foldRange(nodes: readonly Uint8Array[]): Uint8Array {
  const last = nodes[nodes.length - 1];
  if (last === undefined) return emptyRoot();
  let h = last;
  for (let i = nodes.length - 2; i >= 0; i--) h = nodeHash(nodes[i]!, h);
  return h;
}

/**
 * Root of the perfect subtree over hashes[start .. start+count), count a power of two ≥ 1.
 * Throws RegistryError('bad-range') otherwise.
 */
export function perfectRoot(
  hashes: readonly Uint8Array[],
  start = 0,
  count = hashes.length - start,
): Uint8Array {
  if (!isSize(start) || !isSize(count) || !isPowerOfTwo(count) || start + count > hashes.length) {
    badRange(`perfectRoot: no power-of-two run of ${count} hashes at ${start} of ${hashes.length}`);
  }
  let level = hashes.slice(start, start + count);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/** MTH(D[n]) of RFC 9162 §2.1.1 over leaf hashes held in memory; O(n) hashes. */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  return foldRange(
    rangePlan(0, leafHashes.length).map(({ level, index }) =>
      perfectRoot(leafHashes, index * 2 ** level, 2 ** level),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Plans.

/**
 * The perfect subtrees covering leaves [start, end), left to right, largest first, exactly as
 * RFC 9162 §2.1.1's MTH splits D[start:end]: one subtree per set bit of end - start, from the
 * highest bit down. Their right fold (`foldRange`) is MTH(D[start:end]); [] for an empty range.
 *
 * Precondition: start is a multiple of the largest power of two ≤ end - start (so that every
 * piece is aligned, i.e. a real node of the tree). Every range in RFC 9162's PATH and PROOF
 * recursions satisfies it. Throws RegistryError('bad-range') when it does not hold.
 */
export function rangePlan(start: number, end: number): NodeId[] {
  if (!isSize(start) || !isSize(end) || start > end) badRange(`rangePlan: bad range [${start}, ${end})`);
  const out: NodeId[] = [];
  if (start === end) return out;
  const top = floorPow2(end - start);
  if (start % top.pow !== 0) badRange(`rangePlan: ${start} is not aligned to ${top.pow}`);
  // Invariant: `at` is a multiple of 2^exp, so each piece [at, at + 2^exp) is a node.
  let at = start;
  let rest = end - start;
  for (let pow = top.pow, exp = top.exp; rest > 0; pow /= 2, exp -= 1) {
    if (rest >= pow) {
      out.push({ level: exp, index: at / pow });
      at += pow;
      rest -= pow;
    }
  }
  return out;
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[n]) as a plan: element i (leaf side first) is MTH of a sibling range,
 * given as that range's `rangePlan`. Throws RegistryError('bad-range') unless 0 ≤ index < size.
 */
export function inclusionProofPlan(index: number, size: number): NodeId[][] {
  if (!isSize(index) || !isSize(size) || index >= size) {
    badRange(`inclusionProofPlan: index ${index} not in a tree of size ${size}`);
  }
  // Walk the recursion top-down over absolute ranges [s, e) ∋ index; RFC 9162 lists the
  // elements bottom-up (PATH(m, D[0:k]) : MTH(D[k:n])), so the result is reversed.
  const topDown: NodeId[][] = [];
  let s = 0;
  let e = size;
  while (e - s > 1) {
    const k = splitPoint(e - s);
    if (index < s + k) {
      topDown.push(rangePlan(s + k, e));
      e = s + k;
    } else {
      topDown.push(rangePlan(s, s + k));
      s += k;
    }
  }
  return topDown.reverse();
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as a plan. Throws
 * RegistryError('bad-range') unless 0 < oldSize ≤ newSize (oldSize 0 is refused by policy: a
 * consistency proof from the empty tree proves nothing). oldSize == newSize gives [].
 */
export function consistencyProofPlan(oldSize: number, newSize: number): NodeId[][] {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize === 0 || oldSize > newSize) {
    badRange(`consistencyProofPlan: bad sizes ${oldSize} → ${newSize}`);
  }
  // Top-down over absolute ranges [s, e) with s < oldSize ≤ e; `complete` is SUBPROOF's b flag.
  const topDown: NodeId[][] = [];
  let s = 0;
  let e = newSize;
  let complete = true;
  while (oldSize !== e) {
    const k = splitPoint(e - s);
    if (oldSize - s <= k) {
      topDown.push(rangePlan(s + k, e)); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      e = s + k;
    } else {
      topDown.push(rangePlan(s, s + k)); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      s += k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b = true it is {} (the verifier knows the root).
  if (!complete) topDown.push(rangePlan(s, e));
  return topDown.reverse();
}

/** Turns a plan into proof hashes: each element is the right fold of its looked-up subtrees. */
export function assembleProof(
  plan: readonly NodeId[][],
  lookup: (node: NodeId) => Uint8Array,
): Uint8Array[] {
  return plan.map((nodes) => foldRange(nodes.map(lookup)));
}

// ---------------------------------------------------------------------------------------------
// Verification. These never throw: malformed input (hash not 32 bytes, size or index not a safe
// non-negative integer, index ≥ size, proof of the wrong length) gives null / false.

/**
 * RFC 9162 §2.1.3.2: the root that `proof` leads to from `leafHash` at `index` in a tree of
 * `size`, or null when the proof cannot be a proof for that position (wrong length, bad input).
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!isHash(leafHash) || !isSize(index) || !isSize(size) || index >= size) return null;
  if (!isHashList(proof)) return null;
  // fn walks the leaf's position, sn the last leaf's position, one level up per proof element.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return null; // proof too long
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right-edge node without a right sibling moves up without hashing.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return null; // proof too short
  return r === leafHash ? leafHash.slice() : r;
}

/** RFC 9162 §2.1.3.2: does `proof` show `leafHash` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  return computed !== null && bytesEqual(computed, root);
}

/**
 * RFC 9162 §2.1.4.2: the new root that `proof` leads to, provided it is consistent with `oldRoot`
 * at `oldSize`; null otherwise. Policy: oldSize 0 is an error; oldSize == newSize requires an empty
 * proof and returns oldRoot.
 */
export function rootFromConsistencyProof(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize === 0 || oldSize > newSize) return null;
  if (!isHash(oldRoot) || !isHashList(proof)) return null;
  if (oldSize === newSize) return proof.length === 0 ? oldRoot.slice() : null;
  if (proof.length === 0) return null;
  // When oldSize is a power of two the old tree is a node of the new one and the proof omits it.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // fr rebuilds the old root, sr the new root, from the same starting node.
  let fr = path[0]!;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return null; // proof too long
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !bytesEqual(fr, oldRoot)) return null;
  return sr;
}

/** RFC 9162 §2.1.4.2: is the tree (newSize, newRoot) an append-only extension of (oldSize, oldRoot)? */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isHash(newRoot)) return false;
  const computed = rootFromConsistencyProof(oldSize, newSize, oldRoot, proof);
  return computed !== null && bytesEqual(computed, newRoot);
}
