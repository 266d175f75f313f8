// base58btc, its multibase form ('z' + base58btc) and Multikey encodings of Ed25519 keys.
//
// base58btc: draft-msporny-base58-03 (Bitcoin alphabet; each leading zero byte is one leading '1').
// Multibase: draft-multiformats-multibase §2, base58btc only (prefix 'z'), as Data Integrity and Multikey use.
// Multikey: W3C Controlled Identifiers 1.0 §2.2.2 and vc-di-eddsa §2.1.1: multicodec varint prefix + raw key,
// 0xed 0x01 (ed25519-pub) + 32-byte public key, 0x80 0x26 (ed25519-priv) + 32-byte seed.
import { bytesEqual, concatBytes } from './bytes.js';
import { RegistryError } from './errors.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ALPHABET_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) ALPHABET_INDEX[ALPHABET.charCodeAt(i)] = i;

const ED25519_PUB_PREFIX = Uint8Array.of(0xed, 0x01);
const ED25519_PRIV_PREFIX = Uint8Array.of(0x80, 0x26);
const ED25519_KEY_LENGTH = 32;

/** base58btc without a multibase prefix. Quadratic in the length: meant for keys and signatures. */
export function toBase58btc(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Base-58 digits, least significant first, of the big-endian number after the leading zeros.
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j]! * 256;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '1'.repeat(zeros);
  for (let j = digits.length - 1; j >= 0; j--) out += ALPHABET[digits[j]!]!;
  return out;
}

/** Inverse of toBase58btc; any character outside the alphabet throws RegistryError('bad-request'). */
export function fromBase58btc(text: string): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  // Bytes, least significant first, of the number the remaining digits spell.
  const bytes: number[] = [];
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let carry = code < 128 ? ALPHABET_INDEX[code]! : -1;
    if (carry < 0) throw new RegistryError('bad-request', `invalid base58btc character at offset ${i}`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let j = 0; j < bytes.length; j++) out[out.length - 1 - j] = bytes[j]!;
  return out;
}

/** Multibase base58btc: 'z' + base58btc. */
export function toMultibase(bytes: Uint8Array): string {
  return `z${toBase58btc(bytes)}`;
}

/** Decodes a multibase string; only the base58btc ('z') encoding is accepted. */
export function fromMultibase(text: string): Uint8Array {
  if (!text.startsWith('z')) throw new RegistryError('bad-request', 'multibase value must use base58btc (z)');
  return fromBase58btc(text.slice(1));
}

/** Multikey `publicKeyMultibase` of an Ed25519 public key: `z6Mk…`. */
export function encodeMultikey(publicKey: Uint8Array): string {
  return encodeKey(ED25519_PUB_PREFIX, publicKey, 'public');
}

/** The 32-byte Ed25519 public key of a Multikey; any other prefix, codec or length throws. */
export function decodeMultikey(text: string): Uint8Array {
  return decodeKey(ED25519_PUB_PREFIX, text, 'public');
}

/** Multikey `secretKeyMultibase` of an Ed25519 seed (ed25519-priv): `z3u2…`. */
export function encodeSecretMultikey(seed: Uint8Array): string {
  return encodeKey(ED25519_PRIV_PREFIX, seed, 'secret');
}

/** The 32-byte Ed25519 seed of a secret Multikey; any other prefix, codec or length throws. */
export function decodeSecretMultikey(text: string): Uint8Array {
  return decodeKey(ED25519_PRIV_PREFIX, text, 'secret');
}

function encodeKey(prefix: Uint8Array, key: Uint8Array, kind: string): string {
  if (key.length !== ED25519_KEY_LENGTH) {
    throw new RegistryError('bad-request', `an Ed25519 ${kind} key has ${ED25519_KEY_LENGTH} bytes, not ${key.length}`);
  }
  return toMultibase(concatBytes(prefix, key));
}

function decodeKey(prefix: Uint8Array, text: string, kind: string): Uint8Array {
  // A 34-byte value is at most 47 base58 digits; checking first keeps hostile input from the quadratic decoder.
  if (text.length > 48) throw new RegistryError('bad-request', `not an Ed25519 ${kind} Multikey: too long`);
  const bytes = fromMultibase(text);
  if (bytes.length !== prefix.length + ED25519_KEY_LENGTH || !bytesEqual(bytes.subarray(0, prefix.length), prefix)) {
    throw new RegistryError('bad-request', `not an Ed25519 ${kind} Multikey`);
  }
  return bytes.slice(prefix.length);
}
