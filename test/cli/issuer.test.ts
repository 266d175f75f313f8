// `certrail issuer …` run as the real command (node bin/certrail.js, a child process) against a running registry that
// shares its keys folder, so the CLI signs its operator tokens with the registry's own keys/registry.key. The
// registry's state is then checked over HTTP.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newCbKey } from '../support/client.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('certrail issuer', { timeout: 90_000 }, () => {
  const dir = tempDir();
  let server: TestServer;

  function certrail(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/certrail.js', ...args],
        { env: { ...process.env, CERTRAIL_URL: server.url, CERTRAIL_KEYS: join(dir.path, 'keys'), ...env }, timeout: 25_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  beforeAll(async () => {
    server = await startTestServer(dir.path);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('keygen --issuer writes a CB key and prints its Multikey, which issuer add registers', async () => {
    const out = join(dir.path, 'acme-cert.key');
    const keygen = await certrail(['keygen', '--issuer', 'acme-cert', '--key-id', 'key-1', '--out', out]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const multikey = /public key \(Multikey\): (z6Mk\w+)/.exec(keygen.stdout)?.[1];
    expect(multikey).toBeDefined();

    const add = await certrail([
      'issuer', 'add', 'acme-cert',
      '--name', 'ACME Certification GmbH',
      '--accreditation-body', 'DAkkS',
      '--accreditation-number', 'D-ZM-12345-01-00',
      '--key', `key-1=${multikey}`,
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('registered acme-cert');
    expect(add.stdout).toContain(multikey);

    const profile = await call(server, 'GET', '/api/v1/issuers/acme-cert');
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ name: 'ACME Certification GmbH', managedSigning: false });
    expect(profile.body.registration.document.accreditation).toEqual({ body: 'DAkkS', number: 'D-ZM-12345-01-00' });
    expect(profile.body.keys).toEqual([expect.objectContaining({ keyId: 'key-1', publicKeyMultibase: multikey, status: 'active' })]);
  });

  it('add --managed --json registers a managed-signing CB and prints the receipts', async () => {
    const add = await certrail(['issuer', 'add', 'small-cb', '--name', 'Small CB Ltd', '--managed', '--json']);
    expect(add.code, add.stderr).toBe(0);
    const body = JSON.parse(add.stdout);
    expect(body.receipts.map((r: { kind: string }) => r.kind)).toEqual(['issuer.registered', 'issuer.key.added']);
    const profile = await call(server, 'GET', '/api/v1/issuers/small-cb');
    expect(profile.body).toMatchObject({ managedSigning: true, keys: [{ keyId: 'managed-1', status: 'active' }] });
  });

  it('list and show print the registry state, as text and as JSON', async () => {
    const [list, listJson, show, showJson] = await Promise.all([
      certrail(['issuer', 'list']),
      certrail(['issuer', 'list', '--json']),
      certrail(['issuer', 'show', 'acme-cert']),
      certrail(['issuer', 'show', 'acme-cert', '--json']),
    ]);
    for (const run of [list, listJson, show, showJson]) expect(run.code, run.stderr).toBe(0);
    expect(list.stdout).toMatch(/^acme-cert\s+own\s+.*ACME Certification GmbH$/m);
    expect(list.stdout).toMatch(/^small-cb\s+managed\s+.*Small CB Ltd$/m);
    expect(JSON.parse(listJson.stdout)).toEqual((await call(server, 'GET', '/api/v1/issuers')).body);
    expect(show.stdout).toContain('accreditation:  DAkkS D-ZM-12345-01-00');
    expect(show.stdout).toMatch(/key-1\s+active\s+z6Mk/);
    expect(JSON.parse(showJson.stdout)).toEqual((await call(server, 'GET', '/api/v1/issuers/acme-cert')).body);
  });

  it('key add and key revoke (a rotation, then a compromise) change the logged key history', async () => {
    const key2 = await newCbKey('acme-cert', 'key-2');
    const added = await certrail(['issuer', 'key', 'add', 'acme-cert', 'key-2', key2.publicKeyMultibase]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('added key key-2 to acme-cert');

    const rotated = await certrail(['issuer', 'key', 'revoke', 'acme-cert', 'key-1', '--reason', 'Scheduled rotation to key-2.']);
    expect(rotated.code, rotated.stderr).toBe(0);

    const compromisedAt = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const compromised = await certrail([
      'issuer', 'key', 'revoke', 'acme-cert', 'key-2', '--reason', 'Laptop stolen.', '--compromised-at', compromisedAt, '--json',
    ]);
    expect(compromised.code, compromised.stderr).toBe(0);
    expect(JSON.parse(compromised.stdout)).toMatchObject({ kind: 'issuer.key.revoked' });

    const profile = await call(server, 'GET', '/api/v1/issuers/acme-cert');
    const keys = Object.fromEntries(profile.body.keys.map((k: { keyId: string }) => [k.keyId, k]));
    expect(keys['key-1']).toMatchObject({ status: 'revoked', compromisedAt: null });
    expect(keys['key-2']).toMatchObject({ status: 'revoked', publicKeyMultibase: key2.publicKeyMultibase });
    expect(Date.parse(keys['key-2'].compromisedAt)).toBe(Date.parse(compromisedAt));
    const jwks = await call(server, 'GET', '/api/v1/issuers/acme-cert/jwks.json');
    expect(jwks.body.keys).toEqual([]);
  });

  it('exits 2 and prints the problem detail when the registry refuses', async () => {
    const again = await certrail(['issuer', 'add', 'acme-cert', '--name', 'ACME again', '--managed']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('409 conflict: issuer acme-cert is already registered');

    const json = await certrail(['issuer', 'key', 'revoke', 'acme-cert', 'nope', '--reason', 'x', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 404, code: 'not-found' });

    const missing = await certrail(['issuer', 'show', 'no-such-cb']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('404 not-found');
  });

  it('exits 2 on usage errors, a wrong registry key or an unreachable registry; --help exits 0', async () => {
    const [usage, noKey, wrongKey, unreachable, help, keyHelp] = await Promise.all([
      certrail(['issuer', 'add', 'x-cb']),
      certrail(['issuer', 'add', 'x-cb', '--name', 'X', '--managed'], { CERTRAIL_KEYS: join(dir.path, 'nowhere') }),
      (async () => {
        const other = tempDir();
        const otherServer = await startTestServer(other.path);
        await otherServer.close();
        const run = await certrail(['issuer', 'add', 'x-cb', '--name', 'X', '--managed'], { CERTRAIL_KEYS: join(other.path, 'keys') });
        other.remove();
        return run;
      })(),
      certrail(['issuer', 'list'], { CERTRAIL_URL: 'http://127.0.0.1:9' }),
      certrail(['issuer', 'add', '--help']),
      certrail(['issuer', 'key', 'revoke', '--help']),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--name is required');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('cannot read the registry key');
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('is not the registry key of');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach the registry');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('certrail issuer add <slug> --name N');
    expect(keyHelp.code).toBe(0);
    expect(keyHelp.stdout).toContain('--compromised-at ISO');
    expect((await call(server, 'GET', '/api/v1/issuers/x-cb')).status).toBe(404);
  });
});
