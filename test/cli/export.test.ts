// `certrail export` run as the real command (node bin/certrail.js, a child process) against a running registry.
// The outputs are checked with independent verifiers only: the Sigstore bundle with @sigstore/verify (offline:
// thresholds 0, trust material = the CB's public key for the bundle's hint), the VC-JWT with jose against the JWKS
// the registry publishes for the CB.
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import fc from 'fast-check';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../../src/cli/keyfile.js';
import { canonicalize } from '../../src/core/jcs.js';
import type { JsonObject } from '../../src/core/json.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { call, newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** @sigstore/verify set up for an offline, key-signed bundle: no tlog, CT log or timestamp required. */
function offlineVerifier(publicKey: Uint8Array, hint: string): Verifier {
  const root: Parameters<typeof toTrustMaterial>[0] = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
  const trust = toTrustMaterial(root, (h) => {
    if (h !== hint) throw new Error(`no trusted key for hint ${h}`);
    return { publicKey: key, validFor: () => true };
  });
  return new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
}

describe('certrail export', { timeout: 120_000 }, () => {
  const dir = tempDir();
  const keyDir = join(dir.path, 'keys');
  let server: TestServer;
  let cb: CbKey;
  let activeId: string;
  let revokedId: string;
  let credential: JsonObject;

  function certrail(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/certrail.js', ...args],
        { env: { ...process.env, CERTRAIL_URL: server.url, CERTRAIL_KEYS: keyDir, ...env }, timeout: 25_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async function issue(number: string) {
    const now = Date.now();
    const unsigned = exampleCertificate(server.config.baseUrl, 'acme-cert', number, {
      validFrom: iso(now - year),
      validUntil: iso(now + 2 * year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + 0.5 * year) } } },
    });
    const signed = await signAs(server, cb, unsigned);
    const res = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: signed });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; index: number; leafHash: string };
  }

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    // The CB key lives where `certrail keygen --issuer acme-cert` puts it, so export finds it without --key.
    const key = await createKeyFile(join(keyDir, 'acme-cert.key'), 'acme-cert.key-1');
    cb = { issuer: 'acme-cert', keyId: 'key-1', seed: key.seed, publicKey: key.publicKey, publicKeyMultibase: encodeMultikey(key.publicKey) };
    expect((await registerCb(server, 'acme-cert', [cb])).status).toBe(201);
    expect((await registerCb(server, 'other-cb', [await newCbKey('other-cb')])).status).toBe(201);

    activeId = (await issue('AI-2026-0001')).id;
    const revoked = await issue('AI-2026-0002');
    revokedId = revoked.id;
    const event = await signAs(
      server,
      cb,
      exampleStatusEvent(revokedId, 'revoked', { previous: { index: revoked.index, leafHash: revoked.leafHash }, effective: iso(Date.now()) }),
    );
    const res = await call(server, 'POST', '/api/v1/certificates/acme-cert/AI-2026-0002/events', { key: cb, body: event });
    expect(res.status, JSON.stringify(res.body)).toBe(201);

    const view = await call(server, 'GET', '/api/v1/certificates/acme-cert/AI-2026-0001');
    expect(view.status).toBe(200);
    credential = view.body.credential;
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('sigstore: a v0.3 DSSE bundle of an in-toto Statement that @sigstore/verify accepts with the CB key', async () => {
    const out = join(dir.path, 'cert.sigstore.json');
    const run = await certrail(['export', activeId, '--format', 'sigstore', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${out} (application/vnd.dev.sigstore.bundle.v0.3+json)`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as SerializedBundle;
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const hint = `${server.config.baseUrl}/issuers/acme-cert#key-1`;
    // Offline: a public-key hint, no Rekor entry, no timestamp (protobuf JSON leaves the empty lists out).
    expect(json.verificationMaterial).toMatchObject({ publicKey: { hint } });
    expect(json.verificationMaterial.tlogEntries ?? []).toEqual([]);
    expect(json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).toEqual([]);
    expect(json.dsseEnvelope?.payloadType).toBe('application/vnd.in-toto+json');
    expect(json.dsseEnvelope?.signatures).toEqual([{ keyid: hint, sig: expect.any(String) }]);

    // The statement: subjects are the certified model digests, the predicate is the logged credential.
    const payload = Buffer.from(json.dsseEnvelope!.payload, 'base64');
    const statement = JSON.parse(payload.toString('utf8'));
    expect(statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: (credential.credentialSubject as { models: Array<{ name: string; digest: string }> }).models.map((m) => ({
        name: m.name,
        digest: { sha256: m.digest.slice('sha256:'.length) },
      })),
      predicateType: 'https://certrail.dev/AISecurityCertificate/v1',
      predicate: credential,
    });
    expect(statement.subject[0].digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(payload.toString('utf8')).toBe(canonicalize(statement));

    const bundle = bundleFromJSON(json);
    const verifier = offlineVerifier(cb.publicKey, hint);
    const signer = verifier.verify(toSignedEntity(bundle));
    expect(signer.key.export({ format: 'jwk' }).x).toBe(Buffer.from(cb.publicKey).toString('base64url'));

    // Another key does not verify it.
    const other = await newCbKey('acme-cert', 'key-9');
    expect(() => offlineVerifier(other.publicKey, hint).verify(toSignedEntity(bundle))).toThrow(/signature/i);

    // Any one changed payload byte makes verification throw.
    const flipped = (index: number, mask: number) => {
      const bytes = Buffer.from(payload);
      bytes[index] = bytes[index]! ^ mask;
      return bundleFromJSON({ ...json, dsseEnvelope: { ...json.dsseEnvelope!, payload: bytes.toString('base64') } });
    };
    expect(() => verifier.verify(toSignedEntity(flipped(payload.length >> 1, 0x01)))).toThrow(/signature verification failed/);
    fc.assert(
      fc.property(fc.nat({ max: payload.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        expect(() => verifier.verify(toSignedEntity(flipped(index, mask)))).toThrow(/signature verification failed/);
      }),
      { numRuns: 200 },
    );
    // Round trip: the bundle serializes back to what the CLI wrote.
    expect(bundleToJSON(bundle)).toEqual(json);
  });

  it('vc-jwt: an application/vc+jwt that jose verifies against the CB JWKS; its payload is the credential', async () => {
    const run = await certrail(['export', 'acme-cert/AI-2026-0001', '--format', 'vc-jwt']);
    expect(run.code, run.stderr).toBe(0);
    const jwt = run.stdout.trim();
    expect(jwt.split('.')).toHaveLength(3);

    const jwksRes = await call(server, 'GET', '/api/v1/issuers/acme-cert/jwks.json');
    expect(jwksRes.status).toBe(200);
    const jwks = createLocalJWKSet(jwksRes.body);
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, { algorithms: ['EdDSA'], typ: 'vc+jwt' });
    expect(protectedHeader).toEqual({
      alg: 'EdDSA',
      typ: 'vc+jwt',
      cty: 'vc',
      kid: 'key-1',
      iss: `${server.config.baseUrl}/issuers/acme-cert`,
    });
    // VC-JOSE-COSE: the payload is the unsecured credential, i.e. the logged credential without its DI proof.
    const { proof: _proof, ...unsecured } = credential;
    expect(payload).toEqual(unsecured);
    expect(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')).toBe(canonicalize(unsecured));

    // A changed payload no longer verifies; another CB's JWKS does not verify it either.
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const tampered = Buffer.from(p, 'base64url');
    tampered[10] = tampered[10]! ^ 0x01;
    await expect(jwtVerify(`${h}.${tampered.toString('base64url')}.${s}`, jwks)).rejects.toThrow(/signature/i);
    const otherJwks = createLocalJWKSet((await call(server, 'GET', '/api/v1/issuers/other-cb/jwks.json')).body);
    expect(decodeProtectedHeader(jwt).kid).toBe('key-1');
    await expect(jwtVerify(jwt, otherJwks)).rejects.toThrow();
  });

  it('vc: the bare credential as logged (RFC 8785), no key needed', async () => {
    const out = join(dir.path, 'cert.vc.json');
    const [stdout, toFile] = await Promise.all([
      certrail(['export', activeId, '--format', 'vc'], { CERTRAIL_KEYS: join(dir.path, 'nowhere') }),
      certrail(['export', activeId, '--format', 'vc', '--out', out]),
    ]);
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(stdout.stdout).toBe(`${canonicalize(credential)}\n`);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(stdout.stdout);
    // The revoked certificate is exported too: the bare credential is what the log holds, not a new attestation.
    const revoked = await certrail(['export', revokedId, '--format', 'vc']);
    expect(revoked.code, revoked.stderr).toBe(0);
  });

  it('refuses to sign a revoked certificate, with a foreign or unregistered key, or a certificate it cannot find', async () => {
    const otherKey = join(dir.path, 'other-cb.key');
    await createKeyFile(otherKey, 'other-cb.key-1');
    const unregistered = join(dir.path, 'acme-key-9.key');
    await createKeyFile(unregistered, 'acme-cert.key-9');
    const [revoked, foreign, inactive, missing, noKey] = await Promise.all([
      certrail(['export', revokedId, '--format', 'sigstore']),
      certrail(['export', activeId, '--format', 'vc-jwt', '--key', otherKey]),
      certrail(['export', activeId, '--format', 'sigstore', '--key', unregistered]),
      certrail(['export', 'acme-cert/AI-2099-0001', '--format', 'vc']),
      certrail(['export', activeId, '--format', 'vc-jwt'], { CERTRAIL_KEYS: join(dir.path, 'nowhere') }),
    ]);
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toContain('is revoked');
    expect(revoked.stdout).toBe('');
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('holds the key "other-cb.key-1", not a key of acme-cert');
    expect(inactive.code).toBe(2);
    expect(inactive.stderr).toContain('key key-9 of acme-cert');
    expect(inactive.stderr).toContain('is not an active key');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('404 not-found');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('cannot read the CB key');
  });

  it('after a rotation, the new key exports a certificate whose proof the previous key made', async () => {
    const key2File = join(dir.path, 'acme-cert-key-2.key');
    const key2 = await createKeyFile(key2File, 'acme-cert.key-2');
    const added = await call(server, 'POST', '/api/v1/issuers/acme-cert/keys', {
      key: operatorKey(server),
      body: { keyId: 'key-2', publicKeyMultibase: encodeMultikey(key2.publicKey) },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const run = await certrail(['export', activeId, '--format', 'vc-jwt', '--key', key2File]);
    expect(run.code, run.stderr).toBe(0);
    const jwks = createLocalJWKSet((await call(server, 'GET', '/api/v1/issuers/acme-cert/jwks.json')).body);
    const { protectedHeader } = await jwtVerify(run.stdout.trim(), jwks, { typ: 'vc+jwt' });
    expect(protectedHeader.kid).toBe('key-2');
  });

  it('exits 2 on usage errors and an unreachable registry; --help exits 0', async () => {
    const [noFormat, badFormat, badId, unreachable, help, topHelp] = await Promise.all([
      certrail(['export', activeId]),
      certrail(['export', activeId, '--format', 'pdf']),
      certrail(['export', 'not a certificate', '--format', 'vc']),
      certrail(['export', activeId, '--format', 'vc'], { CERTRAIL_URL: 'http://127.0.0.1:9' }),
      certrail(['export', '--help']),
      certrail(['help']),
    ]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('--format is required');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format pdf: must be one of sigstore, vc-jwt, vc');
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('is not a certificate id');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach the registry');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--format sigstore');
    expect(topHelp.stdout).toContain('export <certificate id> --format sigstore|vc-jwt|vc');
  });
});
