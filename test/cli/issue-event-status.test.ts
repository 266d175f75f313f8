// A certification body's round trip with the real command against a real registry: keygen, issue (signed locally),
// a repeated issue (no duplicate), events (suspend, reinstate, audit), the registry's status and a local verify.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/core/json.js';
import { call, operatorKey } from '../support/client.js';
import { exampleCertificate, mergeOverrides } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';
import { certrail } from './run-cli.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A draft as a CB writes it: no @context, type, id or issuer (certrail issue fills them in). */
function draft(number: string, overrides: JsonObject = {}): JsonObject {
  const { '@context': _c, type: _t, id: _i, issuer: _s, ...rest } = exampleCertificate('http://certrail.test', 'acme-cert', number, {
    validFrom: iso(Date.now() - year),
    validUntil: iso(Date.now() + 2 * year),
    credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(Date.now() + year / 2) } } },
  });
  return mergeOverrides(rest, overrides);
}

describe('certrail issue, event and status', { timeout: 90_000 }, () => {
  const dir = tempDir();
  const file = (name: string) => join(dir.path, name);
  const keyFile = () => file('acme-cert.key');
  let server: TestServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    env = { CERTRAIL_URL: server.url };
    const keygen = await certrail(['keygen', '--issuer', 'acme-cert', '--key-id', 'key-1', '--out', keyFile()]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const multikey = /public key \(Multikey\): (z6Mk\w+)/.exec(keygen.stdout)![1]!;
    const registered = await call(server, 'POST', '/api/v1/issuers', {
      key: operatorKey(server),
      body: { slug: 'acme-cert', name: 'ACME Certification GmbH', managedSigning: false, keys: [{ keyId: 'key-1', publicKeyMultibase: multikey }] },
    });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('issues a draft signed locally, and a repeat logs nothing twice', async () => {
    writeFileSync(file('i1.json'), JSON.stringify(draft('I-1')));
    const issued = await certrail(['issue', file('i1.json'), '--key', keyFile()], env);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout).toContain('issued certificate I-1 of acme-cert, signed with http://certrail.test/issuers/acme-cert#key-1');
    expect(issued.stdout).toMatch(/verify URL: +http:\/\/certrail\.test\/v\/acme-cert\/I-1/);
    expect(issued.stdout).toMatch(/receipt: +entry 2 proven in the checkpoint of certrail\.test\/log at size \d+, signed by the log key/);

    const view = await call(server, 'GET', '/api/v1/certificates/acme-cert/I-1');
    expect(view.body.credential.issuer).toEqual({ id: 'http://certrail.test/issuers/acme-cert', name: 'ACME Certification GmbH' });
    expect(view.body.credential.proof.verificationMethod).toBe('http://certrail.test/issuers/acme-cert#key-1');

    const again = await certrail(['issue', file('i1.json'), '--key', keyFile(), '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ outcome: 'already-logged', id: 'http://certrail.test/v/acme-cert/I-1', index: 2 });
    expect((await call(server, 'GET', '/healthz')).body.size).toBe(3);
  });

  it('refuses other content under a taken number and invalid drafts, JSON or YAML (exit 2)', async () => {
    writeFileSync(file('i1-changed.json'), JSON.stringify(draft('I-1', { credentialSubject: { certificate: { scope: 'Something else.' } } })));
    writeFileSync(file('bad.json'), JSON.stringify(draft('I-2', { credentialSubject: { models: [{ name: 'm', digest: 'md5:abc', serialization: { method: 'file', hashType: 'sha256' } }] } })));
    writeFileSync(file('i2.yaml'), 'validFrom: 2025-01-01T00:00:00Z\n');
    const [changed, bad, yaml, noKey] = await Promise.all([
      certrail(['issue', file('i1-changed.json'), '--key', keyFile()], env),
      certrail(['issue', file('bad.json'), '--key', keyFile()], env),
      certrail(['issue', file('i2.yaml'), '--key', keyFile()], env),
      certrail(['issue', file('i1.json')], env),
    ]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('certificate I-1 is already logged with other content (log entry 2)');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('credentialSubject.models[0].digest: must be sha256: and 64 lowercase hex digits');
    expect(yaml.code).toBe(2);
    // The YAML is read (dates stay strings) and then refused by the certificate schema like any incomplete draft.
    expect(yaml.stderr).toMatch(/validUntil: /);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--key FILE is required');
    expect((await call(server, 'GET', '/healthz')).body.size).toBe(3);
  });

  it('records events chained to the head, and status reports the registry verdict', async () => {
    const url = 'http://certrail.test/v/acme-cert/I-1';
    const missingReason = await certrail(['event', url, 'suspend', '--key', keyFile(), '--registry', server.url]);
    expect(missingReason.code).toBe(2);
    expect(missingReason.stderr).toContain('suspend needs --reason');

    const suspended = await certrail(['event', url, 'suspend', '--reason', 'Surveillance audit missed.', '--key', keyFile(), '--registry', server.url]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toContain(`recorded suspended for ${url}`);
    expect(suspended.stdout).toMatch(/follows: +log entry 2/);
    expect(suspended.stdout).toMatch(/status now: +suspended \(not valid\)/);

    const status = await certrail(['status', 'acme-cert/I-1'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("The registry's verdict");
    expect(status.stdout).toContain('not checked on this machine');
    expect(status.stdout).toMatch(/status\s+suspended/);
    expect(status.stdout).toContain('certrail verify');

    // Without --key: $CERTRAIL_KEYS/<issuer>.key.
    const reinstated = await certrail(['event', 'acme-cert/I-1', 'reinstate'], { ...env, CERTRAIL_KEYS: dir.path });
    expect(reinstated.code, reinstated.stderr).toBe(0);
    const audited = await certrail([
      'event', 'acme-cert/I-1', 'audit', '--outcome', 'passed', '--next-due', iso(Date.now() + year), '--auditor', 'J. Doe', '--key', keyFile(), '--json',
    ], env);
    expect(audited.code, audited.stderr).toBe(0);
    expect(JSON.parse(audited.stdout)).toMatchObject({ kind: 'certificate.event', index: 5, status: 'active', valid: true });
    const twice = await certrail(['event', 'acme-cert/I-1', 'reinstate', '--key', keyFile()], env);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/409 conflict/);

    const [statusJson, verified] = await Promise.all([
      certrail(['status', url, '--registry', server.url, '--json']),
      certrail(['verify', url, '--registry', server.url]),
    ]);
    expect(statusJson.code, statusJson.stderr).toBe(0);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ id: url, valid: true, status: 'active', surveillance: 'current' });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/✓ events\s+3 event\(s\), signed, chained and proven/);

    const view = await call(server, 'GET', '/api/v1/certificates/acme-cert/I-1');
    expect(view.body.events.map((e: { event: { kind: string } }) => e.event.kind)).toEqual(['suspended', 'reinstated', 'surveillance-audit']);
  });

  it('refuses a key of another CB and an unknown certificate', async () => {
    const other = file('other-cb.key');
    expect((await certrail(['keygen', '--issuer', 'other-cb', '--out', other])).code).toBe(0);
    const [wrongKey, unknownStatus] = await Promise.all([
      certrail(['event', 'acme-cert/I-1', 'revoke', '--reason', 'x', '--key', other], env),
      certrail(['status', 'acme-cert/NOPE'], env),
    ]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('is a key of other-cb; certificate I-1 belongs to acme-cert');
    expect(unknownStatus.code).toBe(1);
    expect(unknownStatus.stdout).toContain('does not know certificate NOPE of acme-cert');
  });
});
