// Offline bundles: fetched from a real registry over HTTP, verified with the SDK's verifyBundle and nothing else,
// and each tampering caught by the check it names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8, fromUtf8 } from '../../src/core/bytes.js';
import { BUNDLE_MEDIA_TYPE, parseBundle, verifyBundle, type Bundle, type TrustPolicy } from '../../src/core/bundle.js';
import { randomBytes } from '../../src/core/crypto.js';
import { addSignatures, cosignatureSigner, formatSignerKey, parseNote, parseSignerKey, signNote } from '../../src/core/note.js';
import { parseJsonStrict } from '../../src/core/json.js';
import { call, newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('offline bundles', () => {
  const dir = tempDir();
  let server: TestServer;
  let cb: CbKey;
  let policy: TrustPolicy;

  async function issueWithEvents(number: string, kinds: Array<Parameters<typeof exampleStatusEvent>[1]>, key = cb) {
    const now = Date.now();
    const credential = await signAs(server, key, exampleCertificate(server.config.baseUrl, 'acme-cert', number, {
      validFrom: iso(now - year),
      validUntil: iso(now + year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
    }));
    const issued = await call(server, 'POST', '/api/v1/certificates', { key, body: credential });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    let head = { index: issued.body.index, leafHash: issued.body.leafHash };
    for (const kind of kinds) {
      const audit = kind === 'surveillance-audit' ? { audit: { outcome: 'passed', nextDueBy: iso(Date.now() + year) } } : {};
      const event = await signAs(server, key, exampleStatusEvent(credential.id as string, kind, { previous: head, effective: iso(Date.now()), ...audit }));
      const res = await call(server, 'POST', `/api/v1/certificates/acme-cert/${number}/events`, { key, body: event });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      head = { index: res.body.index, leafHash: res.body.leafHash };
    }
  }

  async function fetchBundle(number: string): Promise<Bundle> {
    const res = await fetch(`${server.url}/api/v1/certificates/acme-cert/${number}/bundle`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(BUNDLE_MEDIA_TYPE);
    return parseBundle(parseJsonStrict(await res.text()));
  }

  const failing = (verdict: { checks: Array<{ name: string; ok: boolean }> }) => verdict.checks.filter((c) => !c.ok).map((c) => c.name);

  /** Rewrites the bytes of the bundle entry at position `i` (its proof is left as it was). */
  function editEntry(bundle: Bundle, i: number, edit: (text: string) => string): Bundle {
    const copy = structuredClone(bundle);
    copy.entries[i]!.entry = toBase64(utf8(edit(fromUtf8(fromBase64(copy.entries[i]!.entry)))));
    return copy;
  }

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    cb = await newCbKey('acme-cert');
    expect((await registerCb(server, 'acme-cert', [cb])).status).toBe(201);
    policy = { log: server.config.logVerifierKey, registryKey: server.config.registryKey };
    await issueWithEvents('B-1', ['suspended', 'reinstated', 'surveillance-audit']);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('verifies offline with only the trust policy', async () => {
    const bundle = await fetchBundle('B-1');
    expect(bundle.entries.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(failing(verdict)).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, status: 'active', surveillance: 'current' });
    // The same verdict as the API gives.
    const api = await call(server, 'GET', '/v/acme-cert/B-1', { headers: { accept: 'application/json' } });
    expect(verdict.status).toBe(api.body.status);
    // Judged in the past, before the suspension was logged, the same bundle says active with fewer events in force.
    const past = await verifyBundle(bundle, policy, { now: Date.now() - 5 * year });
    expect(past.status).toBe('not-yet-valid');
  });

  it('catches a changed credential byte', async () => {
    const bundle = editEntry(await fetchBundle('B-1'), 2, (t) => t.replace('Basel', 'Basle'));
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(verdict.valid).toBe(false);
    expect(failing(verdict)).toEqual(expect.arrayContaining(['signature', 'logged']));
  });

  it('catches a changed event', async () => {
    const bundle = editEntry(await fetchBundle('B-1'), 3, (t) => t.replace('Surveillance audit not performed', 'Surveillance audit not done'));
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(failing(verdict)).toEqual(['events']);
  });

  it('catches a dropped event by the broken chain', async () => {
    const bundle = await fetchBundle('B-1');
    bundle.entries.splice(4, 1); // the reinstatement
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(failing(verdict)).toContain('events');
    expect(verdict.checks.find((c) => c.name === 'events')!.detail).toMatch(/chain is broken/);
  });

  it('catches a proof for another index', async () => {
    const bundle = await fetchBundle('B-1');
    bundle.entries[2]!.tlogProof = bundle.entries[3]!.tlogProof;
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(failing(verdict)).toEqual(['logged']);
  });

  it('verifies an issuer entry again when its proof differs: entries are memoized by their exact inputs only', async () => {
    const bundle = await fetchBundle('B-1');
    const now = Date.now();
    const first = await verifyBundle(bundle, policy, { now });
    expect(first.valid).toBe(true);
    expect(await verifyBundle(structuredClone(bundle), policy, { now })).toEqual(first);
    // The key entry, seen valid above, now comes with the registration entry's proof: it is not proven any more.
    const swapped = structuredClone(bundle);
    swapped.entries[1]!.tlogProof = bundle.entries[0]!.tlogProof;
    const verdict = await verifyBundle(swapped, policy, { now });
    expect(verdict.valid).toBe(false);
    expect(failing(verdict)).toEqual(expect.arrayContaining(['issuer-key']));
    expect(verdict.checks.find((c) => c.name === 'issuer-key')!.detail).toMatch(/issuer entry 1 is not proven/);
  });

  it('catches a checkpoint signed by another key', async () => {
    const bundle = await fetchBundle('B-1');
    const origin = parseNote(bundle.checkpoint).text.split('\n')[0]!;
    const impostor = await parseSignerKey(formatSignerKey(origin, randomBytes(32)));
    bundle.checkpoint = await signNote(parseNote(bundle.checkpoint).text, [impostor]);
    const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
    expect(verdict.valid).toBe(false);
    expect(failing(verdict)).toEqual(['checkpoint']);
  });

  it('enforces the witness quorum of the policy', async () => {
    const bundle = await fetchBundle('B-1');
    const witnesses = await Promise.all(['w1.example', 'w2.example'].map((name) => cosignatureSigner(name, randomBytes(32), () => Math.floor(Date.now() / 1000))));
    const strict = { ...policy, witnesses: witnesses.map((w) => w.vkey), quorum: 2 };
    expect(failing(await verifyBundle(bundle, strict, { now: Date.now() }))).toEqual(['witnesses']);
    const oneCosigned = { ...bundle, checkpoint: await addSignatures(bundle.checkpoint, [witnesses[0]!]) };
    expect(failing(await verifyBundle(oneCosigned, strict, { now: Date.now() }))).toEqual(['witnesses']);
    const bothCosigned = { ...bundle, checkpoint: await addSignatures(bundle.checkpoint, witnesses) };
    expect(failing(await verifyBundle(bothCosigned, strict, { now: Date.now() }))).toEqual([]);
  });

  it('refuses a key used after its logged compromise time, and keeps what came before', async () => {
    const compromised = await newCbKey('acme-cert', 'key-2');
    const added = await call(server, 'POST', '/api/v1/issuers/acme-cert/keys', {
      key: operatorKey(server),
      body: { keyId: 'key-2', publicKeyMultibase: compromised.publicKeyMultibase },
    });
    expect(added.status).toBe(201);
    await issueWithEvents('B-BEFORE', [], compromised);
    // RFC 3339 times here have whole seconds: take the next full second, and log B-AFTER once it has passed.
    const compromiseMs = Math.ceil((Date.now() + 1) / 1000) * 1000;
    const compromiseTime = iso(compromiseMs);
    await new Promise((r) => setTimeout(r, compromiseMs - Date.now() + 20));
    await issueWithEvents('B-AFTER', [], compromised);
    const revoked = await call(server, 'POST', '/api/v1/issuers/acme-cert/keys/key-2/revoke', {
      key: operatorKey(server),
      body: { reason: 'key material leaked', compromisedAt: compromiseTime },
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(201);
    const before = await verifyBundle(await fetchBundle('B-BEFORE'), policy, { now: Date.now() });
    expect(failing(before)).toEqual([]);
    const after = await verifyBundle(await fetchBundle('B-AFTER'), policy, { now: Date.now() });
    expect(failing(after)).toEqual(['issuer-key']);
    expect(after.checks.find((c) => c.name === 'issuer-key')!.detail).toMatch(/compromised/);
    // The API agrees.
    const api = await call(server, 'GET', '/v/acme-cert/B-AFTER', { headers: { accept: 'application/json' } });
    expect(api.body.valid).toBe(false);
  });
});
