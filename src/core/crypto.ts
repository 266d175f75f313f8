// Hashing and signatures for every core module. Pure: runs in Node, Workers and browsers.
//
// SHA-256: a plain-JS one (sha256.ts) unless the runtime plugs in a native one with `useSha256`.
//
// Ed25519 (RFC 8032, pure variant): WebCrypto `crypto.subtle` is the fast path; @noble/ed25519 is the
// fallback when the runtime has no Ed25519 in WebCrypto, and an independent cross-check in tests. Verification falls
// back to noble's async API, which takes SHA-512 from WebCrypto's digest, so the verify page carries no SHA-512 of
// its own; the synchronous key derivation and the signing fallback give noble @noble/hashes' SHA-512 when they first
// run (those paths never run in the page, so the bundler leaves it out). A runtime with
// a faster synchronous verifier (Node: `crypto.verify` with a cached KeyObject, src/native-crypto.ts) plugs it in
// with `useEd25519Verify`. Every path sits behind the same strict encoding pre-checks, so they return the same
// verdicts on the Wycheproof vectors (see test/core/crypto.test.ts).
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { sha256Js } from './sha256.js';

let sha256Implementation: (data: Uint8Array) => Uint8Array = sha256Js;

/** SHA-256 (FIPS 180-4), synchronous so that Merkle code stays simple and fast. */
export function sha256(data: Uint8Array): Uint8Array {
  return sha256Implementation(data);
}

/**
 * Lets a runtime with a faster synchronous native SHA-256 (Node's `crypto.hash`) replace the pure-JS one on the hot
 * paths (leaf hashes, tiles, proofs). The replacement must compute the same function; the test checks Node's.
 */
export function useSha256(implementation: (data: Uint8Array) => Uint8Array): void {
  sha256Implementation = implementation;
}

/** Cryptographically secure random bytes (crypto.getRandomValues, at most 65,536 bytes per call). */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('randomBytes: bad length');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) globalThis.crypto.getRandomValues(out.subarray(i, i + 65_536));
  return out;
}

/** noble with a synchronous SHA-512 (@noble/hashes), for the synchronous derivation and the signing fallback. */
function nobleSync(): typeof ed {
  ed.hashes.sha512 ??= sha512;
  return ed;
}

const ED25519 = { name: 'Ed25519' } as const;
const SEED_LENGTH = 32;
const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
/** RFC 8410 PKCS#8 prefix for an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** WebCrypto wants ArrayBuffer-backed views; copy only when the input is backed by something else. */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function subtle(): SubtleCrypto | undefined {
  return globalThis.crypto?.subtle;
}

// RFC 8032 §7.1 test 1 (empty message), used to probe that the runtime's Ed25519 works and is correct.
const PROBE_SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const PROBE_PUBLIC = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');

let webCryptoSupport: Promise<boolean> | undefined;

/** Detects once whether WebCrypto implements Ed25519 (sign, export and verify), then caches the answer. */
function hasWebCryptoEd25519(): Promise<boolean> {
  webCryptoSupport ??= (async () => {
    try {
      const s = subtle();
      if (!s) return false;
      const msg = new Uint8Array(0);
      const sig = await webCryptoSign(s, PROBE_SEED, msg);
      const pub = await webCryptoPublicKey(s, PROBE_SEED);
      const key = await s.importKey('raw', buf(PROBE_PUBLIC), ED25519, false, ['verify']);
      return bytesEqual(pub, PROBE_PUBLIC) && (await s.verify(ED25519, key, buf(sig), msg));
    } catch {
      return false;
    }
  })();
  return webCryptoSupport;
}

function importSeed(s: SubtleCrypto, seed: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + SEED_LENGTH);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  return s.importKey('pkcs8', pkcs8, ED25519, extractable, ['sign']);
}

/**
 * Imported signing keys by seed object: long-lived signers (the log key signs every checkpoint) import once. Keyed by
 * identity in a WeakMap, so no secret-derived key is kept and nothing outlives its seed.
 */
const signingKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

async function webCryptoSign(s: SubtleCrypto, seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  let key = signingKeys.get(seed);
  if (!key) {
    key = importSeed(s, seed, false);
    signingKeys.set(seed, key);
  }
  return new Uint8Array(await s.sign(ED25519, await key, buf(message)));
}

async function webCryptoPublicKey(s: SubtleCrypto, seed: Uint8Array): Promise<Uint8Array> {
  const jwk = await s.exportKey('jwk', await importSeed(s, seed, true));
  if (typeof jwk.x !== 'string') throw new Error('Ed25519 JWK without x');
  return fromBase64Url(jwk.x);
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== SEED_LENGTH) throw new RangeError('Ed25519 seed must be 32 bytes');
}

/** 32-byte seed (RFC 8032 private key) → 32-byte public key. */
export async function ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
  checkSeed(seed);
  const s = subtle();
  if (s && (await hasWebCryptoEd25519())) return webCryptoPublicKey(s, seed);
  return nobleSync().getPublicKey(seed);
}

/** Pure Ed25519 signature (RFC 8032 §5.1.6), deterministic: 64 bytes R || S. */
export async function signEd25519(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  checkSeed(seed);
  const s = subtle();
  if (s && (await hasWebCryptoEd25519())) return webCryptoSign(s, seed, message);
  return nobleSync().sign(message, seed);
}

// --- strict verification -------------------------------------------------------------------------

/** L = 2^252 + 27742317777372353535851937790883648493, the order of the base point, little-endian. */
const L_LE = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

/** RFC 8032 §5.1.7 step 1: S must be in [0, L). Compares little-endian 32-byte integers. */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! !== L_LE[i]!) return s[i]! < L_LE[i]!;
  }
  return false; // S == L
}

/**
 * RFC 8032 §5.1.3 point decoding, the checks that need no curve arithmetic: the encoded y must be
 * below p = 2^255 - 19 (step 1), and x = 0 (that is y = 1 or y = p - 1) must not carry a set sign bit
 * (step 4). Whether y is on the curve is left to the backend.
 */
function isCanonicalPointEncoding(p: Uint8Array): boolean {
  const sign = p[31]! >> 7;
  const top = p[31]! & 0x7f;
  let middleAllOnes = top === 0x7f;
  let middleAllZero = top === 0;
  for (let i = 1; i < 31; i++) {
    middleAllOnes &&= p[i] === 0xff;
    middleAllZero &&= p[i] === 0;
  }
  // y >= p  <=>  top bits all ones and low byte >= 0xed.
  if (middleAllOnes && p[0]! >= 0xed) return false;
  if (sign === 1) {
    if (middleAllZero && p[0] === 1) return false; // y = 1
    if (middleAllOnes && p[0] === 0xec) return false; // y = p - 1
  }
  return true;
}

function passesStrictPrechecks(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return (
    publicKey.length === PUBLIC_KEY_LENGTH &&
    signature.length === SIGNATURE_LENGTH &&
    isCanonicalPointEncoding(publicKey) &&
    isCanonicalPointEncoding(signature.subarray(0, 32)) &&
    isCanonicalScalar(signature.subarray(32))
  );
}

/**
 * A native verifier of pure Ed25519 signatures; it sees only inputs that passed the strict pre-checks (lengths,
 * canonical R, A and S) and may throw on a key it cannot load (counted as not verifying).
 */
export type Ed25519Verifier = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;

let nativeVerify: Ed25519Verifier | null = null;

/**
 * Lets a runtime replace WebCrypto for verification (Node: `crypto.verify`, about 30% cheaper per signature than
 * `subtle.verify`, which also hops to a worker thread). The replacement must implement RFC 8032 §5.1.7 verification;
 * test/core/crypto.test.ts runs Node's through every Wycheproof vector. `null` restores the default.
 */
export function useEd25519Verify(verifier: Ed25519Verifier | null): void {
  nativeVerify = verifier;
}

/** Imported verify keys by hex public key; null marks a key WebCrypto refused. Bounded, oldest evicted. */
const KEY_CACHE_LIMIT = 256;
const keyCache = new Map<string, Promise<CryptoKey | null>>();

function verifyKey(s: SubtleCrypto, publicKey: Uint8Array): Promise<CryptoKey | null> {
  const hex = toHex(publicKey);
  let key = keyCache.get(hex);
  if (key === undefined) {
    key = s.importKey('raw', new Uint8Array(publicKey), ED25519, false, ['verify']).catch(() => null);
    if (keyCache.size >= KEY_CACHE_LIMIT) {
      const oldest = keyCache.keys().next().value;
      if (oldest !== undefined) keyCache.delete(oldest);
    }
    keyCache.set(hex, key);
  }
  return key;
}

/**
 * Verifies a pure Ed25519 signature (RFC 8032 §5.1.7) with strict encodings: wrong lengths,
 * non-canonical R or A and S >= L are rejected before any backend runs. Never throws.
 */
export async function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    if (!passesStrictPrechecks(publicKey, signature)) return false;
    if (nativeVerify !== null) return await nativeVerify(publicKey, message, signature);
    const s = subtle();
    if (!s || !(await hasWebCryptoEd25519())) return verifyEd25519Noble(publicKey, message, signature);
    const key = await verifyKey(s, publicKey);
    if (key === null) return false;
    return await s.verify(ED25519, key, buf(signature), buf(message));
  } catch {
    return false;
  }
}

/**
 * The independent pure-JS path (@noble/ed25519 with `zip215: false`, its RFC 8032 branch; the default
 * ZIP-215 rules accept non-canonical encodings), behind the same strict pre-checks. Its SHA-512 is WebCrypto's
 * `digest`, so without `crypto.subtle` (a browser page outside a secure context) nothing verifies. Never throws.
 */
export async function verifyEd25519Noble(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    if (!passesStrictPrechecks(publicKey, signature)) return false;
    return await ed.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Synchronous public key derivation (pure JS, @noble/ed25519), for the few places that must stay
 * synchronous (formatting signer keys). Prefer `ed25519PublicKey`.
 */
export function ed25519PublicKeySync(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return nobleSync().getPublicKey(seed);
}
