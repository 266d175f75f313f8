import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { ed25519PublicKey } from '../../src/core/crypto.js';
import { RegistryError } from '../../src/core/errors.js';
import {
  decodeMultikey,
  decodeSecretMultikey,
  encodeMultikey,
  encodeSecretMultikey,
  fromBase58btc,
  fromMultibase,
  toBase58btc,
  toMultibase,
} from '../../src/core/multibase.js';

const VECTORS = new URL('../../../shared/vectors/vc-di-eddsa/', import.meta.url);
const keyPair = JSON.parse(readFileSync(new URL('keyPair.json', VECTORS), 'utf8')) as {
  publicKeyMultibase: string;
  privateKeyMultibase: string;
};

function badRequest(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RegistryError);
  expect((thrown as RegistryError).code).toBe('bad-request');
}

describe('base58btc', () => {
  it('matches the draft-msporny-base58 examples', () => {
    expect(toBase58btc(utf8('Hello World!'))).toBe('2NEpo7TZRRrLZSi2U');
    expect(toBase58btc(utf8('The quick brown fox jumps over the lazy dog.'))).toBe(
      'USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z',
    );
    expect(toBase58btc(fromHex('0000287fb4cd'))).toBe('11233QC4');
    expect(toHex(fromBase58btc('11233QC4'))).toBe('0000287fb4cd');
  });

  it('keeps leading zero bytes as leading 1s', () => {
    expect(toBase58btc(new Uint8Array(0))).toBe('');
    expect(toBase58btc(new Uint8Array(3))).toBe('111');
    expect(fromBase58btc('111')).toEqual(new Uint8Array(3));
    expect(fromBase58btc('')).toEqual(new Uint8Array(0));
  });

  it('rejects characters outside the Bitcoin alphabet', () => {
    for (const text of ['0', 'O', 'I', 'l', 'z+', ' z', 'é']) badRequest(() => fromBase58btc(text));
  });

  it('round-trips any bytes, and every accepted string is the encoding of what it decodes to', () => {
    const withZeros = fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 80 }))
      .map(([zeros, rest]) => concatBytes(new Uint8Array(zeros), rest));
    fc.assert(
      fc.property(withZeros, (bytes) => {
        expect(fromBase58btc(toBase58btc(bytes))).toEqual(bytes);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{0,60}$/), (text) => {
        expect(toBase58btc(fromBase58btc(text))).toBe(text);
      }),
    );
  });

  it('decodes the vc-di-eddsa signature vector', () => {
    const sig = readFileSync(new URL('eddsa-jcs-2022/sigBTC58JCS.txt', VECTORS), 'utf8').trim();
    const hex = readFileSync(new URL('eddsa-jcs-2022/sigHexJCS.txt', VECTORS), 'utf8').trim();
    expect(toHex(fromMultibase(sig))).toBe(hex);
    expect(toMultibase(fromHex(hex))).toBe(sig);
  });
});

describe('multibase', () => {
  it("accepts only the base58btc 'z' prefix", () => {
    expect(toMultibase(utf8('Hello World!'))).toBe('z2NEpo7TZRRrLZSi2U');
    expect(fromMultibase('z2NEpo7TZRRrLZSi2U')).toEqual(utf8('Hello World!'));
    badRequest(() => fromMultibase('2NEpo7TZRRrLZSi2U'));
    badRequest(() => fromMultibase('Z2NEpo7TZRRrLZSi2U'));
    badRequest(() => fromMultibase('f48656c6c6f'));
  });
});

describe('Multikey', () => {
  it('decodes the vc-di-eddsa key pair, and the seed yields the public key', async () => {
    const publicKey = decodeMultikey(keyPair.publicKeyMultibase);
    const seed = decodeSecretMultikey(keyPair.privateKeyMultibase);
    expect(publicKey.length).toBe(32);
    expect(seed.length).toBe(32);
    expect(await ed25519PublicKey(seed)).toEqual(publicKey);
    expect(encodeMultikey(publicKey)).toBe(keyPair.publicKeyMultibase);
    expect(encodeSecretMultikey(seed)).toBe(keyPair.privateKeyMultibase);
  });

  it('encodes every Ed25519 public key as z6Mk… and back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const text = encodeMultikey(key);
        expect(text.startsWith('z6Mk')).toBe(true);
        expect(decodeMultikey(text)).toEqual(key);
        expect(decodeSecretMultikey(encodeSecretMultikey(key))).toEqual(key);
      }),
    );
  });

  it('rejects the wrong codec, prefix, length or encoding', () => {
    const key = decodeMultikey(keyPair.publicKeyMultibase);
    badRequest(() => decodeMultikey(keyPair.privateKeyMultibase));
    badRequest(() => decodeSecretMultikey(keyPair.publicKeyMultibase));
    badRequest(() => decodeMultikey(keyPair.publicKeyMultibase.slice(1)));
    badRequest(() => decodeMultikey(`u${keyPair.publicKeyMultibase.slice(1)}`));
    badRequest(() => decodeMultikey(toMultibase(concatBytes(Uint8Array.of(0xed, 0x01), key.subarray(1)))));
    badRequest(() => decodeMultikey(toMultibase(concatBytes(Uint8Array.of(0xed, 0x01), key, Uint8Array.of(0)))));
    badRequest(() => decodeMultikey(toMultibase(concatBytes(Uint8Array.of(0xec, 0x01), key))));
    badRequest(() => decodeMultikey(toMultibase(concatBytes(Uint8Array.of(0x12, 0x00), key))));
    badRequest(() => decodeMultikey(`z${'1'.repeat(10_000)}`));
    badRequest(() => encodeMultikey(new Uint8Array(31)));
    badRequest(() => encodeSecretMultikey(new Uint8Array(64)));
  });
});
