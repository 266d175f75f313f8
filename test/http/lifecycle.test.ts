// End to end over real HTTP on loopback: a CB is registered, issues a certificate it signed itself, suspends it,
// records a passed surveillance audit, reinstates and finally revokes it. After each step the verdict is what
// ISO/IEC 17021-1 practice expects, and the step's inclusion proof verifies against the served checkpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, fromHex } from '../../src/core/bytes.js';
import { parseCheckpoint } from '../../src/core/checkpoint.js';
import { openNote, parseVerifierKey } from '../../src/core/note.js';
import { parseTlogProof } from '../../src/core/tlog-proof.js';
import { verifyInclusion } from '../../src/core/merkle.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('certificate lifecycle over HTTP', () => {
  const dir = tempDir();
  let server: TestServer;
  let cb: CbKey;
  beforeAll(async () => {
    server = await startTestServer(dir.path);
    cb = await newCbKey('acme-cert');
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  /** Checks a receipt's tlog-proof against the checkpoint it carries and the checkpoint against the log key. */
  async function expectProvenReceipt(receipt: { tlogProof: string; leafHash: string; index: number }) {
    const proof = parseTlogProof(receipt.tlogProof);
    expect(proof.index).toBe(receipt.index);
    const opened = await openNote(proof.checkpoint, [parseVerifierKey(server.config.logVerifierKey)]);
    const checkpoint = parseCheckpoint(opened.text);
    expect(verifyInclusion(fromHex(receipt.leafHash), proof.index, checkpoint.size, proof.proof, checkpoint.root)).toBe(true);
    // The served checkpoint is consistent with the receipt's (same tree, possibly grown).
    const served = parseCheckpoint((await openNote(await (await fetch(`${server.url}/log/checkpoint`)).text(), [parseVerifierKey(server.config.logVerifierKey)])).text);
    if (served.size > checkpoint.size) {
      const res = await call(server, 'GET', `/log/proof/consistency?from=${checkpoint.size}&to=${served.size}`);
      expect(res.status).toBe(200);
      const { verifyConsistency } = await import('../../src/core/merkle.js');
      expect(verifyConsistency(checkpoint.size, served.size, checkpoint.root, served.root, res.body.proof.map(fromBase64))).toBe(true);
    }
  }

  async function verdict(number: string) {
    const res = await call(server, 'GET', `/v/acme-cert/${number}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    return res.body;
  }

  it('walks issue → suspend → audit → reinstate → revoke with the expected verdicts', async () => {
    const registered = await registerCb(server, 'acme-cert', [cb]);
    expect(registered.status).toBe(201);
    for (const r of registered.body.receipts) await expectProvenReceipt(r);

    const now = Date.now();
    const unsigned = exampleCertificate(server.config.baseUrl, 'acme-cert', 'AI-2026-0001', {
      validFrom: iso(now - year),
      validUntil: iso(now + 2 * year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + 0.5 * year) } } },
    });
    const credential = await signAs(server, cb, unsigned);
    const issued = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: credential });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body.verifyUrl).toBe(`${server.config.baseUrl}/v/acme-cert/AI-2026-0001`);
    await expectProvenReceipt(issued.body);
    let v = await verdict('AI-2026-0001');
    expect(v).toMatchObject({ valid: true, status: 'active', surveillance: 'current' });
    expect(v.checks.map((c: { name: string }) => c.name)).toEqual(['signature', 'issuer-key', 'logged', 'events', 'status', 'validity', 'surveillance']);

    let head = { index: issued.body.index, leafHash: issued.body.leafHash };
    const event = async (kind: Parameters<typeof exampleStatusEvent>[1], overrides = {}) => {
      const signed = await signAs(server, cb, exampleStatusEvent(credential.id as string, kind, { previous: head, effective: iso(Date.now()), ...overrides }));
      const res = await call(server, 'POST', '/api/v1/certificates/acme-cert/AI-2026-0001/events', { key: cb, body: signed });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      await expectProvenReceipt(res.body);
      head = { index: res.body.index, leafHash: res.body.leafHash };
    };

    await event('suspended');
    v = await verdict('AI-2026-0001');
    expect(v).toMatchObject({ valid: false, status: 'suspended' });

    await event('surveillance-audit', { audit: { outcome: 'passed', date: iso(Date.now() - 1000), nextDueBy: iso(Date.now() + year) } });
    v = await verdict('AI-2026-0001');
    expect(v).toMatchObject({ valid: false, status: 'suspended', surveillance: 'current' });

    await event('reinstated');
    v = await verdict('AI-2026-0001');
    expect(v).toMatchObject({ valid: true, status: 'active', surveillance: 'current' });

    await event('revoked');
    v = await verdict('AI-2026-0001');
    expect(v).toMatchObject({ valid: false, status: 'revoked' });

    // Nothing may follow a revocation, and reinstatement only ends a suspension.
    const after = await signAs(server, cb, exampleStatusEvent(credential.id as string, 'reinstated', { previous: head, effective: iso(Date.now()) }));
    const refused = await call(server, 'POST', '/api/v1/certificates/acme-cert/AI-2026-0001/events', { key: cb, body: after });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');

    const full = await call(server, 'GET', '/api/v1/certificates/acme-cert/AI-2026-0001');
    expect(full.body.events.map((e: { event: { kind: string } }) => e.event.kind)).toEqual(['suspended', 'surveillance-audit', 'reinstated', 'revoked']);
    expect(full.body.credential).toEqual(credential);
  });
});
