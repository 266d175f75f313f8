// precheckCertificate: the stateless half of issuance that a server runs on a worker thread. Its answers must be what
// the in-thread path decides (the same refusals, the same value, the same proof verdict), since the registry acts on
// them without looking again.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { signDataIntegrity, verifyDataIntegrity } from '../../src/core/data-integrity.js';
import { RegistryError } from '../../src/core/errors.js';
import { canonicalize } from '../../src/core/jcs.js';
import { parseJsonBytes, type JsonObject } from '../../src/core/json.js';
import { precheckCertificate, type PrecheckKey } from '../../src/registry/precheck.js';
import { EXAMPLE_BASE_URL, exampleCertificate } from '../support/examples.js';

const SUITE = fileURLToPath(new URL('../../../shared/vectors/json/test_parsing/', import.meta.url));
const METHOD = `${EXAMPLE_BASE_URL}/issuers/acme-cert#key-1`;

async function signedCertificate(seed: Uint8Array, verificationMethod = METHOD): Promise<JsonObject> {
  const unsigned = exampleCertificate(EXAMPLE_BASE_URL, 'acme-cert', 'AI-2026-0001');
  return signDataIntegrity(unsigned, { seed, verificationMethod, created: '2026-11-23T04:00:00Z' });
}

async function newKey(keyId = 'key-1'): Promise<PrecheckKey & { seed: Uint8Array }> {
  const seed = randomBytes(32);
  return { keyId, seed, publicKey: await ed25519PublicKey(seed) };
}

/** The body as a client sends it: members in an order of its own, with whitespace. */
function body(document: JsonObject): Uint8Array {
  const reversed = Object.fromEntries(Object.entries(document).reverse());
  return utf8(JSON.stringify(reversed, null, 2));
}

describe('precheckCertificate', () => {
  it('returns a signed certificate as its canonical text, with the proof checked against the request key', async () => {
    const key = await newKey();
    const credential = await signedCertificate(key.seed);
    const check = await precheckCertificate(body(credential), key);
    expect(check).toEqual({
      kind: 'certificate',
      canonical: canonicalize(credential),
      signature: { keyId: 'key-1', ok: true, detail: 'eddsa-jcs-2022 signature verifies' },
    });
    // The registry parses the text back: the same value the client signed, whose proof still verifies.
    const parsed = JSON.parse((check as { canonical: string }).canonical) as JsonObject;
    expect(parsed).toEqual(credential);
    expect((await verifyDataIntegrity(parsed, key.publicKey)).ok).toBe(true);
  });

  it('reports a proof that does not verify, and why', async () => {
    const key = await newKey();
    const credential = await signedCertificate(key.seed);
    const tampered = { ...credential, validUntil: '2099-01-01T00:00:00Z' };
    const check = await precheckCertificate(body(tampered), key);
    expect(check).toMatchObject({ kind: 'certificate', signature: { keyId: 'key-1', ok: false, detail: 'signature does not verify' } });
    const other = await newKey();
    expect(await precheckCertificate(body(credential), other)).toMatchObject({ signature: { ok: false } });
  });

  it('leaves a proof that names another key (or a request without a key) to the registry', async () => {
    const key = await newKey('key-2');
    const credential = await signedCertificate(key.seed, `${EXAMPLE_BASE_URL}/issuers/acme-cert#key-2`);
    const other = await newKey('key-1');
    expect(await precheckCertificate(body(credential), other)).toMatchObject({ kind: 'certificate', signature: null });
    expect(await precheckCertificate(body(credential), null)).toMatchObject({ kind: 'certificate', signature: null });
  });

  it('hands JSON without a proof (drafts, non-objects) back to the usual path', async () => {
    const draft = exampleCertificate(EXAMPLE_BASE_URL, 'acme-cert', 'AI-2026-0002');
    expect(await precheckCertificate(body(draft), null)).toEqual({ kind: 'unsigned' });
    expect(await precheckCertificate(utf8('[1,2]'), null)).toEqual({ kind: 'unsigned' });
  });

  it('refuses a certificate the schema refuses with the in-thread error', async () => {
    const key = await newKey();
    const credential = await signedCertificate(key.seed);
    const broken = { ...credential, validUntil: 'next year' };
    const check = await precheckCertificate(body(broken), key);
    expect(check).toMatchObject({ kind: 'refused', code: 'bad-request' });
    expect((check as { detail: string }).detail).toMatch(/^validUntil: /);
  });

  it('refuses every JSONTestSuite body exactly as the strict parser does', async () => {
    const files = readdirSync(SUITE).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(300);
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(`${SUITE}${file}`));
      let expected: unknown = { kind: 'unsigned' };
      try {
        parseJsonBytes(bytes);
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        expected = { kind: 'refused', code: error.code, detail: error.detail };
      }
      expect(await precheckCertificate(bytes, null), file).toEqual(expected);
    }
  });
});
