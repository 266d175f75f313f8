// Node's native crypto for src/core's hooks (src/core stays free of `node:` imports): SHA-256 by `crypto.hash`, about
// 2.5x faster than the pure-JS one for the 65-byte inputs of Merkle hashing, and Ed25519 verification by node:crypto
// `verify` with a cached KeyObject: synchronous (110 against WebCrypto's 125 µs of CPU per signature, which also hops
// to a libuv thread; scripts/bench/bundle.ts), or on libuv's thread pool for a server. Both compute the same functions
// as the defaults; test/core/crypto.test.ts runs each Ed25519 form through every Wycheproof vector behind src/core's
// strict encoding pre-checks.
import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';
import { useEd25519Verify, useSha256 } from './core/crypto.js';

/** RFC 8410 §4 SubjectPublicKeyInfo prefix of an Ed25519 public key; the 32 key bytes follow. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** KeyObjects by public key bytes (as latin1 text), oldest evicted past the bound. */
const KEY_CACHE_LIMIT = 256;
const keyObjects = new Map<string, KeyObject>();

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function keyObjectOf(publicKey: Uint8Array): KeyObject {
  const id = bufferOf(publicKey).toString('latin1');
  let key = keyObjects.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keyObjects.size >= KEY_CACHE_LIMIT) keyObjects.delete(keyObjects.keys().next().value!);
    keyObjects.set(id, key);
  }
  return key;
}

export function sha256Native(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** Pure Ed25519 verification (RFC 8032 §5.1.7) by OpenSSL; throws on a public key that is not a curve point. */
export function verifyEd25519Native(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verify(null, message, keyObjectOf(publicKey), signature);
}

/**
 * The same check on libuv's thread pool (the callback form of `crypto.verify`): the calling thread only queues it.
 * A server whose main thread is its bottleneck gains the other cores (issuance over HTTP: about 1,100 → 1,290/s on 2
 * cores, scripts/bench/api.ts); a single-threaded verifier (the CLI, one pinned core) is better off synchronous.
 */
export function verifyEd25519OnThreadPool(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const key = keyObjectOf(publicKey);
  return new Promise((resolve, reject) => verify(null, message, key, signature, (error, ok) => (error ? reject(error) : resolve(ok))));
}

/**
 * Installs both into src/core (and so into the SDK it runs in this process); `threadPool` verifies signatures with
 * verifyEd25519OnThreadPool instead of on the calling thread.
 */
export function installNativeCrypto(options: { threadPool?: boolean } = {}): void {
  useSha256(sha256Native);
  useEd25519Verify(options.threadPool ? verifyEd25519OnThreadPool : verifyEd25519Native);
}
