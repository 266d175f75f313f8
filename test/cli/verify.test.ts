// `certrail verify` as the real command against bundle files (offline) and a real registry (by URL and id), with
// trust policies in both formats (JSON and C2SP tlog-policy text).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../src/core/bytes.js';
import { randomBytes } from '../../src/core/crypto.js';
import { addSignatures, cosignatureSigner } from '../../src/core/note.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';
import { certrail } from './run-cli.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('certrail verify', { timeout: 60_000 }, () => {
  const dir = tempDir();
  const file = (name: string) => join(dir.path, name);
  let server: TestServer;
  let cb: CbKey;
  let bundleText: string;
  const validFrom = Date.now() - year;

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    cb = await newCbKey('acme-cert');
    expect((await registerCb(server, 'acme-cert', [cb])).status).toBe(201);
    const credential = await signAs(server, cb, exampleCertificate(server.config.baseUrl, 'acme-cert', 'V-1', {
      validFrom: iso(validFrom),
      validUntil: iso(Date.now() + year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(Date.now() + year / 2) } } },
    }));
    const issued = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: credential });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    bundleText = await (await fetch(`${server.url}/api/v1/certificates/acme-cert/V-1/bundle`)).text();
    writeFileSync(file('v1.bundle.json'), bundleText);
    writeFileSync(file('policy.json'), JSON.stringify({ log: server.config.logVerifierKey, registryKey: server.config.registryKey }));
    writeFileSync(file('policy.txt'), `# the test registry's log, no witnesses\nlog ${server.config.logVerifierKey}\nquorum none\n`);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('verifies a bundle file offline with a JSON or a tlog-policy policy (exit 0)', async () => {
    const [json, text, asJson] = await Promise.all([
      certrail(['verify', file('v1.bundle.json'), '--policy', file('policy.json')]),
      certrail(['verify', file('v1.bundle.json'), '--policy', file('policy.txt')]),
      certrail(['verify', file('v1.bundle.json'), '--policy', file('policy.json'), '--json']),
    ]);
    for (const run of [json, text, asJson]) expect(run.code, run.stderr).toBe(0);
    expect(json.stdout).toContain('✓ VALID');
    expect(json.stdout).toMatch(/status\s+active/);
    expect(json.stdout).toMatch(/surveillance\s+current \(next audit due by/);
    expect(json.stdout).toMatch(/✓ signature\s+signed by http:\/\/certrail\.test\/issuers\/acme-cert#key-1/);
    expect(json.stdout).toContain('(verified offline)');
    expect(json.stdout).toContain('registry key pinned');
    expect(json.stdout).not.toContain('TRUST ON FIRST USE');
    expect(text.stdout).toContain('✓ VALID');
    const result = JSON.parse(asJson.stdout);
    expect(result).toMatchObject({ valid: true, status: 'active', certificate: 'http://certrail.test/v/acme-cert/V-1' });
    expect(result.checks.map((c: { name: string }) => c.name)).toEqual(
      ['checkpoint', 'witnesses', 'signature', 'issuer-key', 'logged', 'events', 'status', 'validity', 'surveillance'],
    );
  });

  it('exits 1 for a tampered copy and names the failing check', async () => {
    const bundle = JSON.parse(bundleText);
    const issuance = bundle.entries.find((e: { entry: string }) => fromUtf8(fromBase64(e.entry)).includes('"certificate.issued"'));
    issuance.entry = toBase64(utf8(fromUtf8(fromBase64(issuance.entry)).replace('Basel', 'Basle')));
    writeFileSync(file('tampered.json'), JSON.stringify(bundle));
    const run = await certrail(['verify', file('tampered.json'), '--policy', file('policy.json')]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('✗ NOT VALID');
    expect(run.stdout).toMatch(/✗ signature\s+the signature of .* does not verify/);
    expect(run.stdout).toMatch(/✗ logged\s+the inclusion proof of entry \d+ does not verify/);
    expect(run.stdout).toMatch(/^failed: .*signature/m);
  });

  it('exits 2 for garbage, a missing policy or a malformed policy', async () => {
    writeFileSync(file('garbage.json'), '{"mediaType": "application/json", "oops": [1, 2,');
    writeFileSync(file('numeric-quorum.txt'), `log ${server.config.logVerifierKey}\nquorum 2\n`);
    const [garbage, noPolicy, badPolicy, unknownMember] = await Promise.all([
      certrail(['verify', file('garbage.json'), '--policy', file('policy.json')]),
      certrail(['verify', file('v1.bundle.json')]),
      certrail(['verify', file('v1.bundle.json'), '--policy', file('numeric-quorum.txt')]),
      certrail(['verify', file('v1.bundle.json'), '--policy', file('v1.bundle.json')]),
    ]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('is not a Certrail bundle');
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('needs --policy FILE');
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain('line 2: 2 is not a witness or group');
    expect(badPolicy.stderr).toContain('group w 2 W1 W2');
    expect(unknownMember.code).toBe(2);
    expect(unknownMember.stderr).toContain('mediaType: unknown member');
  });

  it('verifies by URL and by id, fetching the bundle and checking it locally', async () => {
    const url = 'http://certrail.test/v/acme-cert/V-1';
    const saved = file('saved-policy.json');
    const [tofu, pinned, byId, unknown, past] = await Promise.all([
      certrail(['verify', url, '--registry', server.url, '--save-policy', saved]),
      certrail(['verify', url, '--registry', server.url, '--policy', file('policy.json'), '--json']),
      certrail(['verify', 'acme-cert/V-1', '--policy', file('policy.txt')], { CERTRAIL_URL: server.url }),
      certrail(['verify', 'http://certrail.test/v/acme-cert/NOPE-1', '--registry', server.url]),
      certrail(['verify', url, '--registry', server.url, '--at', iso(validFrom - year)]),
    ]);
    expect(tofu.code, tofu.stderr).toBe(0);
    expect(tofu.stdout).toContain('✓ VALID');
    expect(tofu.stdout).toContain(`fetched from the registry itself, ${server.url}/.well-known/certrail`);
    expect(tofu.stdout).toContain('TRUST ON FIRST USE');
    expect(tofu.stdout).toContain('--policy FILE');
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual({ log: server.config.logVerifierKey, registryKey: server.config.registryKey });

    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({
      valid: true,
      source: { kind: 'registry', location: server.url },
      policy: { kind: 'file', trustOnFirstUse: false },
    });
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toContain('✓ VALID');

    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('✗ NOT VALID');
    expect(unknown.stdout).toContain('has no certificate NOPE-1 of acme-cert');

    expect(past.code).toBe(1);
    expect(past.stdout).toMatch(/status\s+not-yet-valid/);
    expect(past.stdout).toMatch(/✗ validity/);
  });

  it('enforces the witness quorum of a tlog-policy', async () => {
    const witness = await cosignatureSigner('witness.example/w1', randomBytes(32), () => Math.floor(Date.now() / 1000));
    const other = await cosignatureSigner('witness.example/w2', randomBytes(32), () => Math.floor(Date.now() / 1000));
    writeFileSync(file('witnessed.txt'), [
      `log ${server.config.logVerifierKey}`,
      `witness w1 ${witness.vkey}`,
      `witness w2 ${other.vkey}`,
      'group any-witness any w1 w2',
      'quorum any-witness',
      '',
    ].join('\n'));
    const cosigned = JSON.parse(bundleText);
    cosigned.checkpoint = await addSignatures(cosigned.checkpoint, [witness]);
    writeFileSync(file('cosigned.json'), JSON.stringify(cosigned));
    const [bare, signed] = await Promise.all([
      certrail(['verify', file('v1.bundle.json'), '--policy', file('witnessed.txt')]),
      certrail(['verify', file('cosigned.json'), '--policy', file('witnessed.txt')]),
    ]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/✗ witnesses\s+0 of 2 witness\(es\) cosigned; the policy needs 1/);
    expect(signed.code, signed.stdout).toBe(0);
    expect(signed.stdout).toMatch(/✓ witnesses\s+1 of 2 witness\(es\) cosigned/);
  });
});
