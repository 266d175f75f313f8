// `certrail import` as the real command against a real registry: a CSV with a bad row, fixed and resumed; a JSONL
// import killed midway and resumed; a rerun with a lost state file. The log must hold every certificate exactly once.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../../src/cli/keyfile.js';
import type { JsonObject } from '../../src/core/json.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { call, operatorKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';
import { certrail, startCertrail } from './run-cli.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

const HEADER = 'number,organization,organization_ids,system,system_version,model_name,model_digest,model_method,scope,standards,valid_from,valid_until,surveillance_first_due,accreditation_body,accreditation_number';

function csvRow(n: number, digest = DIGEST): string {
  return [
    `C-${n}`,
    `"Example Robotics ${n}, AG"`,
    'LEI:5299000J2N45DDNE4Y28',
    'Vision Inspector',
    '2.3.1',
    'detector;classifier',
    `${digest};sha256:${'cd'.repeat(32)}`,
    'file;files',
    '"Design and operation of the ""Inspector"" system,\nBasel site."',
    'ISO/IEC 42001:2023;ISO/IEC 27001:2022',
    '2025-01-15',
    '2028-01-14',
    '2026-01-15',
    'DAkkS',
    'D-ZM-12345-01-00',
  ].join(',');
}

function jsonlDraft(number: string): JsonObject {
  const { '@context': _c, type: _t, id: _i, issuer: _s, ...rest } = exampleCertificate('http://certrail.test', 'acme-cert', number, {
    validFrom: iso(Date.now() - year),
    validUntil: iso(Date.now() + 2 * year),
    credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(Date.now() + year / 2) } } },
  });
  return rest;
}

/** A registry in `dir` with the CB acme-cert registered (client-signed), its key file at dir/acme-cert.key. */
async function startRegistryWithCb(dir: string, overrides: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  const server = await startTestServer(dir, overrides);
  const key = await createKeyFile(join(dir, 'acme-cert.key'), 'acme-cert.key-1');
  const registered = await call(server, 'POST', '/api/v1/issuers', {
    key: operatorKey(server),
    body: { slug: 'acme-cert', name: 'ACME Certification GmbH', managedSigning: false, keys: [{ keyId: 'key-1', publicKeyMultibase: encodeMultikey(key.publicKey) }] },
  });
  expect(registered.status).toBe(201);
  return server;
}

describe('certrail import', { timeout: 90_000 }, () => {
  const dir = tempDir();
  const file = (name: string) => join(dir.path, name);
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const logSize = async () => (await call(server, 'GET', '/healthz')).body.size as number;

  beforeAll(async () => {
    server = await startRegistryWithCb(dir.path);
    env = { CERTRAIL_URL: server.url };
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('imports a CSV, reports a bad row, and after the fix resumes without duplicates', async () => {
    const rows = [1, 2, 3, 4, 5].map((n) => csvRow(n, n === 3 ? 'sha256:not-hex' : DIGEST));
    writeFileSync(file('certs.csv'), `${HEADER}\r\n${rows.join('\r\n')}\r\n`);
    const first = await certrail(['import', file('certs.csv'), '--key', file('acme-cert.key'), '--batch', '2'], env);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/issued: +4/);
    expect(first.stdout).toMatch(/failed: +1/);
    // Each row spans two lines (the scope holds a line break), so C-3 starts on line 6.
    expect(first.stdout).toContain('line 6 (C-3): credentialSubject.models[0].digest: must be sha256: and 64 lowercase hex digits');
    expect(await logSize()).toBe(2 + 4);

    const view = await call(server, 'GET', '/api/v1/certificates/acme-cert/C-2');
    expect(view.body.credential.credentialSubject).toMatchObject({
      organization: { name: 'Example Robotics 2, AG', identifiers: [{ scheme: 'LEI', value: '5299000J2N45DDNE4Y28' }] },
      models: [
        { name: 'detector', digest: DIGEST, serialization: { method: 'file', hashType: 'sha256' } },
        { name: 'classifier', serialization: { method: 'files', hashType: 'sha256' } },
      ],
      certificate: {
        scope: 'Design and operation of the "Inspector" system,\nBasel site.',
        standards: [{ id: 'ISO/IEC 42001:2023' }, { id: 'ISO/IEC 27001:2022' }],
        surveillance: { intervalMonths: 12, firstDueBy: '2026-01-15T00:00:00Z' },
        accreditation: { body: 'DAkkS', number: 'D-ZM-12345-01-00' },
      },
    });
    expect(view.body.credential.validUntil).toBe('2028-01-14T23:59:59Z');

    writeFileSync(file('certs.csv'), `${HEADER}\n${[1, 2, 3, 4, 5].map((n) => csvRow(n)).join('\n')}\n`);
    const resumed = await certrail(['import', file('certs.csv'), '--key', file('acme-cert.key'), '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ total: 5, issued: 1, skipped: { state: 4, alreadyLogged: 0 }, failed: [] });

    // The state file lost: the registry's refusals (409) of identical certificates count as done.
    const lost = await certrail(['import', file('certs.csv'), '--key', file('acme-cert.key'), '--state', file('fresh.state'), '--json'], env);
    expect(lost.code, lost.stderr).toBe(0);
    expect(JSON.parse(lost.stdout)).toMatchObject({ issued: 0, skipped: { state: 0, alreadyLogged: 5 }, failed: [] });
    expect(await logSize()).toBe(2 + 5);

    const search = await call(server, 'GET', '/api/v1/certificates?issuer=acme-cert&limit=100');
    const numbers = search.body.items.map((c: { number: string }) => c.number).sort();
    expect(numbers).toEqual(['C-1', 'C-2', 'C-3', 'C-4', 'C-5']);
  });

  it('resumes a JSONL import killed midway without logging anything twice', async () => {
    const total = 300;
    const lines = Array.from({ length: total }, (_, i) => JSON.stringify(jsonlDraft(`J-${String(i).padStart(4, '0')}`)));
    writeFileSync(file('certs.jsonl'), `${lines.join('\n')}\n`);
    const state = file('certs.jsonl.certrail-state');
    const before = await logSize();

    const child = startCertrail(['import', file('certs.jsonl'), '--key', file('acme-cert.key'), '--batch', '1'], env);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let doneBeforeKill = 0;
    for (let waited = 0; waited < 30_000; waited += 10) {
      try {
        doneBeforeKill = readFileSync(state, 'utf8').split('\n').length - 2; // minus the header and the trailing ''
      } catch {
        // not created yet
      }
      if (doneBeforeKill >= 20) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(doneBeforeKill).toBeGreaterThanOrEqual(20);
    const loggedAtKill = (await logSize()) - before;
    expect(loggedAtKill).toBeLessThan(total); // it was interrupted

    const resumed = await certrail(['import', file('certs.jsonl'), '--key', file('acme-cert.key'), '--batch', '50', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.failed).toEqual([]);
    expect(summary.skipped.state).toBeGreaterThanOrEqual(doneBeforeKill);
    expect(summary.issued + summary.skipped.state + summary.skipped.alreadyLogged).toBe(total);
    expect(summary.issued).toBeLessThanOrEqual(total - doneBeforeKill);
    expect((await logSize()) - before).toBe(total);
  });

  it('refuses an unknown CSV column before sending anything (exit 2)', async () => {
    writeFileSync(file('typo.csv'), `${HEADER},standard\n${csvRow(9)},x\n`);
    const run = await certrail(['import', file('typo.csv'), '--key', file('acme-cert.key')], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown column "standard"');
  });
});

describe('certrail import under the per-CB write rate limit', { timeout: 90_000 }, () => {
  const dir = tempDir();
  let server: TestServer;

  beforeAll(async () => {
    // 3 writes a second, bursts of 2: a batch of 8 is answered 429 (Retry-After) for most of its rows at first.
    server = await startRegistryWithCb(dir.path, { rateLimit: { perSecond: 3, burst: 2 } });
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('waits out each 429 as its Retry-After asks and issues every row', async () => {
    const csv = join(dir.path, 'limited.csv');
    writeFileSync(csv, `${HEADER}\n${[1, 2, 3, 4, 5, 6, 7, 8].map((n) => csvRow(100 + n)).join('\n')}\n`);
    const before = (await call(server, 'GET', '/healthz')).body.size as number;
    const run = await certrail(['import', csv, '--key', join(dir.path, 'acme-cert.key'), '--batch', '8'], { CERTRAIL_URL: server.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/issued: +8/);
    expect((await call(server, 'GET', '/healthz')).body.size).toBe(before + 8);
  });
});
