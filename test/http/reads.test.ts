// The public read API and idempotent writes over real HTTP: search with cursors, model-digest lookup, batch
// verification (ids, logged credentials, altered and foreign credentials), issuer profiles, did:web and JWKS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { mintToken } from '../../src/cli/token.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('read API', () => {
  const dir = tempDir();
  let server: TestServer;
  let acme: CbKey;
  let other: CbKey;
  const credentials: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    acme = await newCbKey('acme-cert');
    other = await newCbKey('other-cert');
    expect((await registerCb(server, 'acme-cert', [acme])).status).toBe(201);
    expect((await registerCb(server, 'other-cert', [other])).status).toBe(201);
    const now = Date.now();
    for (let i = 0; i < 7; i++) {
      const unsigned = exampleCertificate(server.config.baseUrl, 'acme-cert', `AI-${i}`, {
        validFrom: iso(now - year),
        validUntil: iso(now + year),
        credentialSubject: {
          organization: { name: i % 2 === 0 ? 'Even Robotics AG' : 'Odd Vision SA' },
          models: [{ name: 'model', digest: digest(i % 3), serialization: { method: 'file', hashType: 'sha256' } }],
          certificate: {
            standards: [{ id: i < 4 ? 'ISO/IEC 42001:2023' : 'NIST AI RMF 1.0' }],
            surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) },
          },
        },
      });
      const credential = await signAs(server, acme, unsigned);
      credentials.push(credential);
      expect((await call(server, 'POST', '/api/v1/certificates', { key: acme, body: credential })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('searches with filters and walks every page with the cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/certificates?issuer=acme-cert&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call(server, 'GET', query);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { number: string }) => i.number));
      cursor = page.body.next;
    } while (cursor);
    expect(seen).toEqual(['AI-0', 'AI-1', 'AI-2', 'AI-3', 'AI-4', 'AI-5', 'AI-6']);
    const byStandard = await call(server, 'GET', `/api/v1/certificates?standard=${encodeURIComponent('NIST AI RMF 1.0')}`);
    expect(byStandard.body.items.map((i: { number: string }) => i.number)).toEqual(['AI-4', 'AI-5', 'AI-6']);
    const byText = await call(server, 'GET', '/api/v1/certificates?q=odd%20vision');
    expect(byText.body.items.map((i: { number: string }) => i.number)).toEqual(['AI-1', 'AI-3', 'AI-5']);
    const wildcard = await call(server, 'GET', '/api/v1/certificates?q=%25');
    expect(wildcard.body.items).toEqual([]);
    expect((await call(server, 'GET', '/api/v1/certificates?status=revoked')).body.items).toEqual([]);
    expect((await call(server, 'GET', '/api/v1/certificates?status=active')).body.items).toHaveLength(7);
    for (const bad of ['status=gone', 'limit=0', 'limit=101', 'cursor=%%%', 'cursor=abc']) {
      const res = await call(server, 'GET', `/api/v1/certificates?${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it('finds the certificates that cover a model digest', async () => {
    const res = await call(server, 'GET', `/api/v1/models/${digest(1)}/certificates`);
    expect(res.status).toBe(200);
    expect(res.body.certificates.map((c: { number: string }) => c.number)).toEqual(['AI-1', 'AI-4']);
    expect(res.body.certificates[0]).toMatchObject({ status: 'active', valid: true });
    expect((await call(server, 'GET', `/api/v1/models/${digest(99)}/certificates`)).body.certificates).toEqual([]);
    expect((await call(server, 'GET', '/api/v1/models/sha256:XYZ/certificates')).status).toBe(400);
  });

  it('verifies a batch of ids and credentials, logged or not', async () => {
    const altered = structuredClone(credentials[2]!) as { credentialSubject: { certificate: { scope: string } } };
    altered.credentialSubject.certificate.scope = 'Everything, everywhere.';
    const foreignKey = await newCbKey('acme-cert', 'key-1');
    const forged = await signAs(server, foreignKey, exampleCertificate(server.config.baseUrl, 'acme-cert', 'NOT-LOGGED'));
    const items = [credentials[0]!.id, `${server.config.baseUrl}/v/acme-cert/NOPE`, credentials[1], altered, forged, 'nonsense', 42];
    const res = await call(server, 'POST', '/api/v1/verify', { body: { items } });
    expect(res.status).toBe(200);
    const verdicts = res.body.results.map((r: { verdict: { valid: boolean } }) => r.verdict.valid);
    expect(verdicts).toEqual([true, false, true, false, false, false, false]);
    const check = (i: number, name: string) => res.body.results[i].verdict.checks.find((c: { name: string }) => c.name === name);
    expect(check(1, 'logged').ok).toBe(false);
    expect(check(3, 'signature').ok).toBe(false);
    expect(check(3, 'logged').detail).toMatch(/differs/);
    expect(check(4, 'signature').ok).toBe(false);
    expect(check(4, 'logged').detail).toMatch(/not logged/);
  });

  it('publishes issuers, their did:web documents and JWKS', async () => {
    const list = await call(server, 'GET', '/api/v1/issuers');
    expect(list.body.issuers.map((i: { slug: string }) => i.slug)).toEqual(['acme-cert', 'other-cert']);
    const profile = await call(server, 'GET', '/api/v1/issuers/acme-cert');
    expect(profile.body).toMatchObject({ slug: 'acme-cert', managedSigning: false });
    expect(profile.body.registration.document.proof.verificationMethod).toBe(`${server.config.baseUrl}/.well-known/certrail#registry`);
    expect(profile.body.keys).toEqual([expect.objectContaining({ keyId: 'key-1', publicKeyMultibase: acme.publicKeyMultibase, status: 'active' })]);
    const did = await call(server, 'GET', '/issuers/acme-cert/did.json');
    expect(did.body.id).toBe('did:web:certrail.test:issuers:acme-cert');
    expect(did.body.verificationMethod[0]).toMatchObject({ type: 'Multikey', publicKeyMultibase: acme.publicKeyMultibase });
    // A token signed by the CB verifies against the published JWKS.
    const jwks = await call(server, 'GET', '/api/v1/issuers/acme-cert/jwks.json');
    const token = await mintToken(acme, server.config.baseUrl);
    await expect(jwtVerify(token, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] })).resolves.toBeTruthy();
    expect((await call(server, 'GET', '/api/v1/issuers/nobody')).status).toBe(404);
    expect((await call(server, 'GET', '/issuers/nobody/did.json')).status).toBe(404);
  });

  it('returns the original receipt for a retried Idempotency-Key and refuses its reuse with another body', async () => {
    const now = Date.now();
    const credential = await signAs(server, other, exampleCertificate(server.config.baseUrl, 'other-cert', 'IDEM-1', {
      validFrom: iso(now - year),
      validUntil: iso(now + year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
    }));
    const headers = { 'idempotency-key': 'issue-IDEM-1' };
    const first = await call(server, 'POST', '/api/v1/certificates', { key: other, body: credential, headers });
    expect(first.status).toBe(201);
    const size = (await (await fetch(`${server.url}/log/checkpoint`)).text()).split('\n')[1];
    const retried = await call(server, 'POST', '/api/v1/certificates', { key: other, body: credential, headers });
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual(first.body);
    expect((await (await fetch(`${server.url}/log/checkpoint`)).text()).split('\n')[1]).toBe(size);
    const another = await signAs(server, other, exampleCertificate(server.config.baseUrl, 'other-cert', 'IDEM-2'));
    const reused = await call(server, 'POST', '/api/v1/certificates', { key: other, body: another, headers });
    expect(reused.status).toBe(409);
    // Without the key, a second issuance of the same number is a conflict, not a duplicate.
    expect((await call(server, 'POST', '/api/v1/certificates', { key: other, body: credential })).status).toBe(409);
  });

  it('refuses drafts from a CB that has not opted into managed signing', async () => {
    const draft = exampleCertificate(server.config.baseUrl, 'acme-cert', 'DRAFT-1');
    const res = await call(server, 'POST', '/api/v1/certificates', { key: acme, body: draft });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/managed signing/);
  });
});
