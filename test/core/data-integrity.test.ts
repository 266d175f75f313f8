import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../../src/core/bytes.js';
import { ed25519PublicKey, sha256, verifyEd25519 } from '../../src/core/crypto.js';
import { dataIntegrityHash, signDataIntegrity, verifyDataIntegrity } from '../../src/core/data-integrity.js';
import { RegistryError } from '../../src/core/errors.js';
import { canonicalBytes, canonicalize } from '../../src/core/jcs.js';
import { isJsonObject, parseJsonStrict, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { decodeMultikey, decodeSecretMultikey, fromMultibase, toMultibase } from '../../src/core/multibase.js';

const VECTORS = new URL('../../../shared/vectors/vc-di-eddsa/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, VECTORS), 'utf8');
const json = (name: string) => parseJsonStrict(text(name)) as JsonObject;
const line = (name: string) => text(`eddsa-jcs-2022/${name}`).trim();

const keyPair = json('keyPair.json') as { publicKeyMultibase: string; privateKeyMultibase: string };
const publicKey = decodeMultikey(keyPair.publicKeyMultibase);
const seed = decodeSecretMultikey(keyPair.privateKeyMultibase);
const signed = json('eddsa-jcs-2022/signedJCS.json');
const proofConfig = json('eddsa-jcs-2022/proofConfigJCS.json');
const { proof: signedProof, ...unsecured } = signed;
const vectorProof = signedProof as JsonObject;

describe('eddsa-jcs-2022 test vectors (w3c/vc-di-eddsa TestVectors)', () => {
  it('reproduces the canonical document and proof configuration', () => {
    expect(canonicalize(unsecured)).toBe(line('canonDocJCS.txt'));
    expect(canonicalize(proofConfig)).toBe(line('proofCanonJCS.txt'));
    // The proof configuration is the proof without its value, carrying the document's @context (§3.3.1 step 2).
    const { proofValue: _, ...proofOptions } = vectorProof;
    expect(canonicalize(proofOptions)).toBe(line('proofCanonJCS.txt'));
  });

  it('reproduces each hash and the combined hash', () => {
    expect(toHex(sha256(canonicalBytes(unsecured)))).toBe(line('docHashJCS.txt'));
    expect(toHex(sha256(canonicalBytes(proofConfig)))).toBe(line('proofHashJCS.txt'));
    const hash = dataIntegrityHash(unsecured, proofConfig);
    expect(toHex(hash)).toBe(line('combinedHashJCS.txt'));
    expect(toHex(hash)).toBe(line('proofHashJCS.txt') + line('docHashJCS.txt'));
  });

  it('reproduces the signature, proofValue and the signed document', async () => {
    const secured = await signDataIntegrity(unsecured, {
      seed,
      verificationMethod: vectorProof.verificationMethod as string,
      created: vectorProof.created as string,
    });
    const proof = secured.proof as JsonObject;
    expect(proof.proofValue).toBe(line('sigBTC58JCS.txt'));
    expect(toHex(fromMultibase(proof.proofValue as string))).toBe(line('sigHexJCS.txt'));
    // Same members in the same order as the published document.
    expect(JSON.stringify(secured)).toBe(JSON.stringify(signed));
    const signature = fromMultibase(line('sigBTC58JCS.txt'));
    expect(await verifyEd25519(publicKey, dataIntegrityHash(unsecured, proofConfig), signature)).toBe(true);
  });

  it('verifies the signed vector', async () => {
    expect(await verifyDataIntegrity(signed, publicKey)).toEqual({
      ok: true,
      detail: 'eddsa-jcs-2022 signature verifies',
    });
  });

  it('fails for any changed character of any string in the signed document', async () => {
    const paths = stringPaths(signed);
    expect(paths.length).toBeGreaterThan(15);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.nat(),
        fc.integer({ min: 1, max: 0xffff }),
        async (path, position, delta) => {
          const mutated = structuredClone(signed);
          const original = get(mutated, path) as string;
          const i = position % Math.max(original.length, 1);
          // Replace one UTF-16 unit by another ASCII or BMP non-surrogate character, or append one if empty.
          let unit = ((original.charCodeAt(i) || 0) + delta) % 0xd800;
          if (unit === original.charCodeAt(i)) unit = (unit + 1) % 0xd800;
          set(mutated, path, original.slice(0, i) + String.fromCharCode(unit) + original.slice(i + 1));
          const result = await verifyDataIntegrity(mutated, publicKey);
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails with a wrong key', async () => {
    const otherKey = await ed25519PublicKey(new Uint8Array(32).fill(7));
    expect(await verifyDataIntegrity(signed, otherKey)).toEqual({ ok: false, detail: 'signature does not verify' });
    const flipped = publicKey.slice();
    flipped[0]! ^= 1;
    expect((await verifyDataIntegrity(signed, flipped)).ok).toBe(false);
    expect((await verifyDataIntegrity(signed, publicKey.subarray(1))).ok).toBe(false);
  });
});

describe('signDataIntegrity and verifyDataIntegrity', () => {
  const options = { seed, verificationMethod: 'https://certrail.example/issuers/acme#key-1' };

  it('round-trips any JSON document', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (members) => {
        const { proof: _, ...document } = members as JsonObject;
        const secured = await signDataIntegrity(document, options);
        expect(await verifyDataIntegrity(secured, publicKey)).toMatchObject({ ok: true });
        // JCS makes the proof independent of how the document is serialized in transit.
        const reparsed = JSON.parse(JSON.stringify(secured)) as JsonObject;
        expect((await verifyDataIntegrity(reparsed, publicKey)).ok).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('signs without @context or created, with assertionMethod by default', async () => {
    const secured = await signDataIntegrity({ id: 'urn:x', n: 1 }, options);
    expect(Object.keys(secured.proof as JsonObject)).toEqual([
      'type',
      'cryptosuite',
      'verificationMethod',
      'proofPurpose',
      'proofValue',
    ]);
    expect((secured.proof as JsonObject).proofPurpose).toBe('assertionMethod');
    expect((await verifyDataIntegrity(secured, publicKey)).ok).toBe(true);
  });

  it('refuses to sign a document that has a proof, or a malformed created', async () => {
    await expect(signDataIntegrity(signed, options)).rejects.toThrow(RegistryError);
    await expect(signDataIntegrity(unsecured, { ...options, created: '2023-02-24 23:36:38' })).rejects.toThrow(
      /dateTimeStamp/,
    );
    await expect(signDataIntegrity(unsecured, { ...options, created: '2023-02-24T23:36:38' })).rejects.toThrow(
      RegistryError,
    );
  });

  it('accepts a document whose @context extends the signed one (§3.3.2 step 4), and nothing else', async () => {
    const extended = structuredClone(signed);
    (extended['@context'] as JsonValue[]).push('https://example.org/extra/v1');
    expect((await verifyDataIntegrity(extended, publicKey)).ok).toBe(true);

    const reordered = structuredClone(signed);
    (reordered['@context'] as JsonValue[]).reverse();
    expect(await verifyDataIntegrity(reordered, publicKey)).toEqual({
      ok: false,
      detail: "document @context does not start with the proof's @context",
    });
    const { '@context': _, ...noContext } = signed;
    expect((await verifyDataIntegrity(noContext, publicKey)).ok).toBe(false);
  });

  it('rejects malformed proofs with a reason', async () => {
    const withProof = (change: (proof: JsonObject) => void): JsonObject => {
      const copy = structuredClone(signed);
      change(copy.proof as JsonObject);
      return copy;
    };
    const cases: Array<[JsonObject, RegExp]> = [
      [unsecured, /no single proof/],
      [{ ...unsecured, proof: [vectorProof] }, /no single proof/],
      [withProof((p) => (p.type = 'Ed25519Signature2020')), /type/],
      [withProof((p) => (p.cryptosuite = 'eddsa-rdfc-2022')), /cryptosuite/],
      [withProof((p) => delete p.verificationMethod), /verificationMethod/],
      [withProof((p) => (p.proofPurpose = 1)), /proofPurpose/],
      [withProof((p) => delete p.proofValue), /proofValue/],
      [withProof((p) => (p.proofValue = (p.proofValue as string).slice(1))), /proofValue/],
      [withProof((p) => (p.proofValue = `z${'2'.repeat(200)}`)), /proofValue/],
      [withProof((p) => (p.proofValue = 'z0OIl')), /base58btc/],
      [withProof((p) => (p.proofValue = toMultibase(new Uint8Array(63)))), /64 bytes/],
      [withProof((p) => (p.created = 'yesterday')), /dateTimeStamp/],
      [withProof((p) => (p.created = 5)), /dateTimeStamp/],
      [withProof((p) => (p.nonce = 'added after signing')), /does not verify/],
      [{ ...signed, note: '\ud800' }, /lone surrogate/],
    ];
    for (const [document, detail] of cases) {
      const result = await verifyDataIntegrity(document, publicKey);
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(detail);
    }
  });

  it('hashes proof configuration first, then the document', () => {
    const document = { a: 1 };
    const config = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022' };
    expect(dataIntegrityHash(document, config)).toEqual(
      concatBytes(
        sha256(utf8('{"cryptosuite":"eddsa-jcs-2022","type":"DataIntegrityProof"}')),
        sha256(utf8('{"a":1}')),
      ),
    );
    expect(() => dataIntegrityHash(document, { ...config, cryptosuite: 'ecdsa-jcs-2019' })).toThrow(RegistryError);
  });
});

type Path = Array<string | number>;

/** Paths of every string value in a JSON tree. */
function stringPaths(value: JsonValue, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, [...path, i]));
  if (isJsonObject(value)) return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  return [];
}

function get(root: JsonValue, path: Path): JsonValue {
  return path.reduce<JsonValue>((node, key) => (node as Record<string | number, JsonValue>)[key]!, root);
}

function set(root: JsonValue, path: Path, value: JsonValue): void {
  const parent = get(root, path.slice(0, -1)) as Record<string | number, JsonValue>;
  parent[path[path.length - 1]!] = value;
}
