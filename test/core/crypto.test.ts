import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import {
  ed25519PublicKey,
  ed25519PublicKeySync,
  randomBytes,
  sha256,
  signEd25519,
  useEd25519Verify,
  useSha256,
  verifyEd25519,
  verifyEd25519Noble,
} from '../../src/core/crypto.js';
import { sha256Js } from '../../src/core/sha256.js';
import { verifyEd25519Native, verifyEd25519OnThreadPool } from '../../src/native-crypto.js';

interface WycheproofTest {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface WycheproofFile {
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofTest[] }[];
}

// Read in place (vitest runs from the project root).
const wycheproof = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/ed25519/wycheproof_ed25519_test.json', import.meta.url), 'utf8'),
) as WycheproofFile;
const vectors = wycheproof.testGroups.flatMap((g) => g.tests.map((t) => ({ pk: g.publicKey.pk, ...t })));

/**
 * "acceptable" would mean a signature that RFC 8032 allows but that a strict verifier may refuse; we
 * verify strictly, so such a vector would be expected to be rejected. This file has none (88 valid,
 * 63 invalid), which the first test pins down so that a new vector file forces a decision.
 */
const expected = (t: WycheproofTest): boolean => t.result === 'valid';

describe('Ed25519 against Wycheproof', () => {
  it('reads every vector, valid or invalid only', () => {
    expect(vectors.length).toBe(wycheproof.numberOfTests);
    expect(vectors.filter((t) => t.result === 'acceptable')).toEqual([]);
  });

  it.each(vectors)('verifyEd25519 tc $tcId $comment', async (t) => {
    expect(await verifyEd25519(fromHex(t.pk), fromHex(t.msg), fromHex(t.sig))).toBe(expected(t));
  });

  it.each(vectors)('verifyEd25519Noble tc $tcId $comment', async (t) => {
    expect(await verifyEd25519Noble(fromHex(t.pk), fromHex(t.msg), fromHex(t.sig))).toBe(expected(t));
  });

  // Node's crypto.verify plugged in through useEd25519Verify, behind the same strict pre-checks: synchronous, and on
  // libuv's thread pool (the server's choice).
  describe.each([
    ['synchronous', verifyEd25519Native],
    ['on the thread pool', verifyEd25519OnThreadPool],
  ] as const)('with the Node hook (src/native-crypto.ts), %s', (_, hook) => {
    const calls = { count: 0 };
    beforeAll(() => {
      useEd25519Verify((pk, msg, sig) => {
        calls.count++;
        return hook(pk, msg, sig);
      });
    });
    afterAll(() => useEd25519Verify(null));

    it.each(vectors)('verifyEd25519 tc $tcId $comment', async (t) => {
      expect(await verifyEd25519(fromHex(t.pk), fromHex(t.msg), fromHex(t.sig))).toBe(expected(t));
    });

    it('took every vector that passed the pre-checks, so the hook itself was judged', () => {
      expect(calls.count).toBeGreaterThan(vectors.filter(expected).length);
    });
  });

  it("noble's default ZIP-215 rules accept tc 151 (x = 0 with the sign bit set), hence zip215: false", async () => {
    const t = vectors.find((v) => v.tcId === 151);
    expect(t?.result).toBe('invalid');
    if (!t) return;
    expect(await ed.verifyAsync(fromHex(t.sig), fromHex(t.msg), fromHex(t.pk))).toBe(true);
    expect(await ed.verifyAsync(fromHex(t.sig), fromHex(t.msg), fromHex(t.pk), { zip215: false })).toBe(false);
  });
});

// RFC 8032 §7.1, tests 1-3.
const rfc8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519 sign and derive', () => {
  it.each(rfc8032)('RFC 8032 vector pk $pk', async (v) => {
    const seed = fromHex(v.seed);
    expect(toHex(await ed25519PublicKey(seed))).toBe(v.pk);
    expect(toHex(ed25519PublicKeySync(seed))).toBe(v.pk);
    expect(toHex(await signEd25519(seed, fromHex(v.msg)))).toBe(v.sig);
    expect(await verifyEd25519(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(true);
    expect(await verifyEd25519Noble(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(true);
  });

  it('rejects seeds that are not 32 bytes', async () => {
    await expect(ed25519PublicKey(new Uint8Array(31))).rejects.toThrow();
    await expect(signEd25519(new Uint8Array(33), new Uint8Array())).rejects.toThrow();
  });

  it('round trip agrees with noble, and any bit flip fails on both paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        async (seed, msg, flip) => {
          const pk = await ed25519PublicKey(seed);
          const sig = await signEd25519(seed, msg);
          expect(toHex(sig)).toBe(toHex(ed.sign(msg, seed)));
          expect(await verifyEd25519(pk, msg, sig)).toBe(true);
          expect(await verifyEd25519Noble(pk, msg, sig)).toBe(true);
          const bad = sig.slice();
          const bit = flip % (bad.length * 8);
          bad[bit >> 3]! ^= 1 << (bit & 7);
          expect(await verifyEd25519(pk, msg, bad)).toBe(false);
          expect(await verifyEd25519Noble(pk, msg, bad)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never throws on malformed input', async () => {
    const v = rfc8032[0]!;
    const pk = fromHex(v.pk);
    const sig = fromHex(v.sig);
    for (const verify of [verifyEd25519, verifyEd25519Noble]) {
      expect(await verify(pk.subarray(1), new Uint8Array(), sig)).toBe(false);
      expect(await verify(pk, new Uint8Array(), sig.subarray(1))).toBe(false);
      expect(await verify(new Uint8Array(32).fill(0xff), new Uint8Array(), sig)).toBe(false);
      expect(await verify(new Uint8Array(0), new Uint8Array(), new Uint8Array(0))).toBe(false);
    }
  });

  it('keeps verifying correctly past the key cache bound', async () => {
    const msg = utf8('cache');
    const keys = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const seed = sha256(utf8(`seed ${i}`));
        return { pk: await ed25519PublicKey(seed), sig: await signEd25519(seed, msg) };
      }),
    );
    for (const { pk, sig } of [...keys, ...keys.slice(0, 5)]) expect(await verifyEd25519(pk, msg, sig)).toBe(true);
    expect(await verifyEd25519(keys[0]!.pk, msg, keys[1]!.sig)).toBe(false);
  });
});

describe('randomBytes', () => {
  it('returns the requested length, including beyond the 65,536-byte getRandomValues limit', () => {
    expect(randomBytes(0).length).toBe(0);
    expect(randomBytes(32).length).toBe(32);
    const big = randomBytes(70_000);
    expect(big.length).toBe(70_000);
    expect(big.subarray(65_536).some((b) => b !== 0)).toBe(true);
    expect(toHex(randomBytes(32))).not.toBe(toHex(randomBytes(32)));
  });
});

describe('fallback without WebCrypto Ed25519', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('signs, derives and verifies with @noble/ed25519', async () => {
    const real = globalThis.crypto;
    const refuse = () => Promise.reject(new Error('Ed25519 not supported'));
    // Such a runtime (an older browser) still has WebCrypto's SHA-512, which noble's verification uses.
    const subtle = { importKey: vi.fn(refuse), sign: refuse, verify: refuse, exportKey: refuse, digest: real.subtle.digest.bind(real.subtle) };
    vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real), subtle });
    vi.resetModules();
    const fresh = await import('../../src/core/crypto.js');
    for (const v of rfc8032) {
      const seed = fromHex(v.seed);
      expect(toHex(await fresh.ed25519PublicKey(seed))).toBe(v.pk);
      expect(toHex(await fresh.signEd25519(seed, fromHex(v.msg)))).toBe(v.sig);
      expect(await fresh.verifyEd25519(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(true);
    }
    const t = vectors.find((x) => x.tcId === 151)!;
    expect(await fresh.verifyEd25519(fromHex(t.pk), fromHex(t.msg), fromHex(t.sig))).toBe(false);
    // Detected once: only the probe reached importKey.
    expect(subtle.importKey.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('without crypto.subtle at all (a page outside a secure context) signs with noble and verifies nothing', async () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real) });
    vi.resetModules();
    const fresh = await import('../../src/core/crypto.js');
    const v = rfc8032[1]!;
    expect(toHex(await fresh.signEd25519(fromHex(v.seed), fromHex(v.msg)))).toBe(v.sig);
    expect(await fresh.verifyEd25519(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(false);
  });
});

describe('SHA-256', () => {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
  const vectors: Array<[string, Uint8Array, string]> = [
    ['empty', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['"abc"', utf8('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'two blocks',
      utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    ['one million "a"', new Uint8Array(1_000_000).fill(0x61), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ];

  it.each(vectors)('the plain-JS SHA-256 gives the FIPS 180-4 digest of %s', (_name, data, digest) => {
    expect(toHex(sha256Js(data))).toBe(digest);
  });

  it("equals Node's native SHA-256 at every padding boundary and on random inputs", () => {
    const native = (data: Uint8Array) => hash('sha256', data, 'buffer');
    for (let length = 0; length <= 300; length++) {
      const data = new Uint8Array(length).map((_, i) => (i * 31 + length) & 255);
      expect(toHex(sha256Js(data)), `length ${length}`).toBe(toHex(native(data)));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => toHex(sha256Js(data)) === toHex(native(data))),
      { numRuns: 300 },
    );
  });

  it('useSha256 swaps the implementation the core hashes with, and back', () => {
    const native = (data: Uint8Array) => hash('sha256', data, 'buffer');
    const calls: number[] = [];
    useSha256((data) => {
      calls.push(data.length);
      return native(data);
    });
    try {
      expect(toHex(sha256(utf8('abc')))).toBe(vectors[1]![2]);
      expect(calls).toEqual([3]);
    } finally {
      useSha256(sha256Js);
    }
    expect(toHex(sha256(utf8('abc')))).toBe(vectors[1]![2]);
    expect(calls).toEqual([3]);
  });
});
