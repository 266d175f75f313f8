// Authorization and authentication over real HTTP: a certification body acts on its own certificates only, and every
// hostile Bearer token (forged algorithm, wrong key, wrong audience, bad times, replay, revoked key, tampering) is
// refused with 401 before anything is logged. After every denial the log's tree size is unchanged. The full matrix
// (every operation of /openapi.json × actor × owner) is scripts/security/authz-matrix.ts.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { certificateIdOf } from '../../src/core/credential.js';
import { randomBytes, signEd25519 } from '../../src/core/crypto.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import type { JsonObject } from '../../src/core/json.js';
import { treeSize as treeSizeOf } from '../../scripts/security/harness.js';
import { call, newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const b64u = (value: Uint8Array | string) => Buffer.from(value).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

type Response = Awaited<ReturnType<typeof call>>;
type Claims = Record<string, unknown>;

/** A JWT built by hand from any header and payload, signed over `header.payload` by `sign`. */
async function forge(header: Claims, payload: Claims, sign: (input: Uint8Array) => Uint8Array | Promise<Uint8Array>): Promise<string> {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(await sign(new TextEncoder().encode(input)))}`;
}

const ed25519 = (seed: Uint8Array) => (input: Uint8Array) => signEd25519(seed, input);

describe('authorization and hostile tokens', () => {
  const dir = tempDir();
  let server: TestServer;
  let alpha: CbKey; // CB A, key-1
  let alpha2: CbKey; // CB A, key-2 (revoked during the tests)
  let beta: CbKey; // CB B, key-1 (same kid as A's on purpose), managed signing on
  let serial = 0;

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    alpha = await newCbKey('alpha-cert', 'key-1');
    alpha2 = await newCbKey('alpha-cert', 'key-2');
    beta = await newCbKey('beta-cert', 'key-1');
    expect((await registerCb(server, 'alpha-cert', [alpha, alpha2])).status).toBe(201);
    expect((await registerCb(server, 'beta-cert', [beta], true)).status).toBe(201);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  const base = () => server.config.baseUrl;

  /** The tree size of the served checkpoint. */
  const treeSize = () => treeSizeOf(server);

  /** A fresh, valid, signed certificate of `key`'s CB, acceptable as is with a valid token of that CB. */
  async function certificate(key: CbKey, issuer = key.issuer): Promise<JsonObject> {
    const now = Date.now();
    serial += 1;
    return signAs(
      server,
      key,
      exampleCertificate(base(), issuer, `AZ-2026-${String(serial).padStart(4, '0')}`, {
        validFrom: iso(now - year),
        validUntil: iso(now + 2 * year),
        credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + 0.5 * year) } } },
      }),
    );
  }

  function bearer(token: string) {
    return { authorization: `Bearer ${token}` };
  }

  /** Valid claims of `key`'s CB; `undefined` members are removed. */
  function claims(key: TokenKey, overrides: Claims = {}): Claims {
    const now = nowS();
    const out: Claims = { iss: key.issuer, aud: base(), iat: now, exp: now + 120, jti: b64u(randomBytes(16)), ...overrides };
    for (const [name, value] of Object.entries(out)) if (value === undefined) delete out[name];
    return out;
  }

  /** Runs a request that must be refused with `status`/`code` and must leave the log as it was. */
  async function refused(status: number, code: string, request: () => Promise<Response>): Promise<Response> {
    const before = await treeSize();
    const res = await request();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.code).toBe(code);
    expect(res.body.status).toBe(status);
    expect(await treeSize()).toBe(before);
    return res;
  }

  const issueWith = (token: string, body: JsonObject) =>
    call(server, 'POST', '/api/v1/certificates', { headers: bearer(token), body });

  /** Issues a certificate for `key`'s CB and returns its id, number and chain head. */
  async function issued(key: CbKey) {
    const credential = await certificate(key);
    const res = await call(server, 'POST', '/api/v1/certificates', { key, body: credential });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const number = (credential.credentialSubject as { certificate: { number: string } }).certificate.number;
    return { credential, number, id: credential.id as string, head: { index: res.body.index as number, leafHash: res.body.leafHash as string } };
  }

  async function event(key: CbKey, certificateId: string, kind: Parameters<typeof exampleStatusEvent>[1], head: { index: number; leafHash: string }) {
    return signAs(server, key, exampleStatusEvent(certificateId, kind, { previous: head, effective: iso(Date.now()) }));
  }

  // --- authorization between certification bodies ---------------------------------------------------------------

  it('does not let CB A issue under CB B, in any disguise (403)', async () => {
    // A's token, a credential A signed that names B as issuer, lives under B's id and claims B's key.
    const underB = await signDataIntegrity(exampleCertificate(base(), 'beta-cert', 'AZ-2026-9001'), {
      seed: alpha.seed,
      verificationMethod: `${base()}/issuers/beta-cert#key-1`,
      created: new Date().toISOString(),
    });
    await refused(403, 'forbidden', () => call(server, 'POST', '/api/v1/certificates', { key: alpha, body: underB }));
    // The same, but the proof names A's key: inconsistent with the issuer, refused as malformed.
    const mixed = await signAs(server, alpha, exampleCertificate(base(), 'beta-cert', 'AZ-2026-9002'));
    await refused(400, 'bad-request', () => call(server, 'POST', '/api/v1/certificates', { key: alpha, body: mixed }));
    // B's genuine signed credential, replayed by A.
    const genuineB = await certificate(beta);
    await refused(403, 'forbidden', () => call(server, 'POST', '/api/v1/certificates', { key: alpha, body: genuineB }));
    // A's own issuer id, but the proof claims B's key: inconsistent, refused as malformed.
    const claimsBKey = await certificate(alpha);
    const proof = { ...(claimsBKey.proof as JsonObject), verificationMethod: `${base()}/issuers/beta-cert#key-1` };
    await refused(400, 'bad-request', () => call(server, 'POST', '/api/v1/certificates', { key: alpha, body: { ...claimsBKey, proof } }));
    // A draft from A never reaches B's managed key: A has not opted in (and the draft is completed as A's anyway).
    await refused(400, 'bad-request', () =>
      call(server, 'POST', '/api/v1/certificates', { key: alpha, body: { credentialSubject: (genuineB.credentialSubject as JsonObject) } }),
    );
    // B's own valid token on a credential A signed under A: B may not issue under A either.
    const genuineA = await certificate(alpha);
    await refused(403, 'forbidden', () => call(server, 'POST', '/api/v1/certificates', { key: beta, body: genuineA }));
    // The control: the very same credentials go through with their own CB's token.
    const ok = await call(server, 'POST', '/api/v1/certificates', { key: beta, body: genuineB });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect((await call(server, 'POST', '/api/v1/certificates', { key: alpha, body: genuineA })).status).toBe(201);
  });

  it('does not let CB A suspend, revoke or otherwise change CB B’s certificate (403/404)', async () => {
    const b = await issued(beta);
    const path = `/api/v1/certificates/beta-cert/${b.number}/events`;
    for (const kind of ['suspended', 'revoked', 'scope-changed', 'recertified'] as const) {
      // Signed by A …
      const byA = await event(alpha, b.id, kind, b.head);
      await refused(403, 'forbidden', () => call(server, 'POST', path, { key: alpha, body: byA }));
      // … or genuinely signed by B and replayed with A's token.
      const byB = await event(beta, b.id, kind, b.head);
      await refused(403, 'forbidden', () => call(server, 'POST', path, { key: alpha, body: byB }));
    }
    // A draft (B has managed signing; A must not get B's managed key to sign for it).
    await refused(403, 'forbidden', () => call(server, 'POST', path, { key: alpha, body: { kind: 'revoked', effective: iso(Date.now()), reason: 'x' } }));
    // A certificate of B that does not exist, and one of an issuer that does not exist.
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/certificates/beta-cert/NOPE-1/events', { key: alpha, body: { kind: 'revoked', reason: 'x' } }),
    );
    const unknown = await call(server, 'POST', '/api/v1/certificates/no-such-cb/NOPE-1/events', { key: alpha, body: { kind: 'revoked', reason: 'x' } });
    expect([403, 404]).toContain(unknown.status);
    // B's own valid token acting on A's certificate: authenticated, but forbidden.
    const a = await issued(alpha);
    const suspendA = await event(alpha, a.id, 'suspended', a.head);
    await refused(403, 'forbidden', () => call(server, 'POST', `/api/v1/certificates/alpha-cert/${a.number}/events`, { key: beta, body: suspendA }));

    // B's certificate is untouched: active, no events; A's likewise.
    const view = await call(server, 'GET', `/api/v1/certificates/beta-cert/${b.number}`);
    expect(view.status).toBe(200);
    expect(view.body.status).toBe('active');
    expect(view.body.events).toEqual([]);
    expect((await call(server, 'GET', `/api/v1/certificates/alpha-cert/${a.number}`)).body.events).toEqual([]);
    // The control: B suspends its own certificate with the event A replayed.
    const own = await call(server, 'POST', path, { key: beta, body: await event(beta, b.id, 'suspended', b.head) });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
  });

  it('keeps each CB’s idempotency records and managed key private', async () => {
    // B issues with an Idempotency-Key; A reusing the key neither gets B's receipt nor learns the key is taken.
    const genuineB = await certificate(beta);
    const first = await call(server, 'POST', '/api/v1/certificates', { key: beta, body: genuineB, headers: { 'idempotency-key': 'shared-key-1' } });
    expect(first.status).toBe(201);
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/certificates', { key: alpha, body: genuineB, headers: { 'idempotency-key': 'shared-key-1' } }),
    );
    const mine = await certificate(alpha);
    const second = await call(server, 'POST', '/api/v1/certificates', { key: alpha, body: mine, headers: { 'idempotency-key': 'shared-key-1' } });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.id).toBe(mine.id);
    expect(second.body.index).not.toBe(first.body.index);
    // Nothing public carries key material beyond public keys.
    for (const path of ['/api/v1/issuers/beta-cert', '/api/v1/issuers/beta-cert/jwks.json', '/issuers/beta-cert/did.json', '/api/v1/issuers']) {
      const res = await call(server, 'GET', path);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toMatch(/"(?:d|seed|privateKey\w*|secretKey\w*)"/i);
    }
  });

  it('refuses operator endpoints to CB tokens (403)', async () => {
    const newKey = await newCbKey('beta-cert', 'key-9');
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/issuers', { key: alpha, body: { slug: 'gamma-cert', name: 'Gamma', keys: [{ keyId: 'key-1', publicKeyMultibase: newKey.publicKeyMultibase }] } }),
    );
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/issuers/beta-cert/keys', { key: alpha, body: { keyId: 'key-9', publicKeyMultibase: newKey.publicKeyMultibase } }),
    );
    // Not even on its own issuer: adding or revoking keys is the operator's act.
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/issuers/alpha-cert/keys', { key: alpha, body: { keyId: 'key-9', publicKeyMultibase: newKey.publicKeyMultibase } }),
    );
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/issuers/beta-cert/keys/key-1/revoke', { key: alpha, body: { reason: 'hostile' } }),
    );
    await refused(403, 'forbidden', () =>
      call(server, 'POST', '/api/v1/issuers/beta-cert/keys/key-1/revoke', { key: beta, body: { reason: 'self' } }),
    );
    // The key of B is still there and usable.
    const b = await call(server, 'GET', '/api/v1/issuers/beta-cert');
    expect(b.body.keys.find((k: { keyId: string }) => k.keyId === 'key-1').status).toBe('active');
  });

  it('refuses operator tokens forged with a CB key or another registry’s key (401)', async () => {
    const body = { slug: 'gamma-cert', name: 'Gamma', managedSigning: true };
    const op = (token: string) => call(server, 'POST', '/api/v1/issuers', { headers: bearer(token), body });
    const header = { alg: 'EdDSA', typ: 'JWT' };
    const operatorClaims = () => claims(operatorKey(server));
    await refused(401, 'unauthorized', async () => op(await forge({ ...header, kid: 'registry' }, operatorClaims(), ed25519(alpha.seed))));
    await refused(401, 'unauthorized', async () => op(await forge({ ...header, kid: 'key-1' }, operatorClaims(), ed25519(alpha.seed))));
    await refused(401, 'unauthorized', async () => op(await forge({ ...header, kid: 'registry' }, operatorClaims(), ed25519(randomBytes(32)))));
    // A CB token naming the operator's key id but its own issuer: a valid signature is no key to the operator API.
    await refused(401, 'unauthorized', async () => op(await forge({ ...header, kid: 'registry' }, claims(alpha), ed25519(alpha.seed))));
    // The control: the real operator token works with the same body.
    const ok = await call(server, 'POST', '/api/v1/issuers', { key: operatorKey(server), body });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  // --- hostile tokens ----------------------------------------------------------------------------------------------

  it('refuses every hostile token with 401 and logs nothing', async () => {
    const header = { alg: 'EdDSA', kid: alpha.keyId, typ: 'JWT' };
    const signA = ed25519(alpha.seed);
    const now = nowS();
    const cases: Array<[string, () => Promise<string>]> = [
      ['alg none, no signature', async () => `${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(claims(alpha)))}.`],
      ['alg none with a kid and a signature', () => forge({ ...header, alg: 'none' }, claims(alpha), signA)],
      ['alg None', () => forge({ ...header, alg: 'None' }, claims(alpha), signA)],
      ['HS256 keyed with the raw public key', () => forge({ ...header, alg: 'HS256' }, claims(alpha), (i) => createHmac('sha256', alpha.publicKey).update(i).digest())],
      ['HS256 keyed with the Multikey', () => forge({ ...header, alg: 'HS256' }, claims(alpha), (i) => createHmac('sha256', alpha.publicKeyMultibase).update(i).digest())],
      ['HS256 keyed with the JWK x', () => forge({ ...header, alg: 'HS256' }, claims(alpha), (i) => createHmac('sha256', b64u(alpha.publicKey)).update(i).digest())],
      ['Ed25519 alg name', () => forge({ ...header, alg: 'Ed25519' }, claims(alpha), signA)],
      ['ES256 header on an EdDSA signature', () => forge({ ...header, alg: 'ES256' }, claims(alpha), signA)],
      ['embedded attacker jwk', async () => {
        const attacker = await newCbKey('alpha-cert', 'key-1');
        const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(attacker.publicKey) };
        return forge({ ...header, jwk }, claims(alpha), ed25519(attacker.seed));
      }],
      ['unknown critical header', () => forge({ ...header, crit: ['exp2'], exp2: 1 }, claims(alpha), signA)],
      ['expired', () => forge(header, claims(alpha, { iat: now - 600, exp: now - 300 }), signA)],
      ['expired a second ago', () => forge(header, claims(alpha, { iat: now - 60, exp: now - 1 }), signA)],
      ['not yet valid (nbf)', () => forge(header, claims(alpha, { nbf: now + 60, exp: now + 120 }), signA)],
      ['issued in the future (iat)', () => forge(header, claims(alpha, { iat: now + 60, exp: now + 120 }), signA)],
      ['missing exp', () => forge(header, claims(alpha, { exp: undefined }), signA)],
      ['exp as a string', () => forge(header, claims(alpha, { exp: String(now + 120) }), signA)],
      ['exp more than 5 minutes ahead', () => forge(header, claims(alpha, { exp: now + 301 + 5 }), signA)],
      ['exp a year ahead', () => forge(header, claims(alpha, { exp: now + 365 * 86400 }), signA)],
      ['missing jti', () => forge(header, claims(alpha, { jti: undefined }), signA)],
      ['empty jti', () => forge(header, claims(alpha, { jti: '' }), signA)],
      ['numeric jti', () => forge(header, claims(alpha, { jti: Date.now() }), signA)],
      ['object jti', () => forge(header, claims(alpha, { jti: { a: 1 } }), signA)],
      ['jti of 129 characters', () => forge(header, claims(alpha, { jti: 'j'.repeat(129) }), signA)],
      ['missing iss', () => forge(header, claims(alpha, { iss: undefined }), signA)],
      ['numeric iss', () => forge(header, claims(alpha, { iss: 7 }), signA)],
      ['wrong aud (another registry)', () => forge(header, claims(alpha, { aud: 'https://other-registry.example' }), signA)],
      ['aud with a trailing slash', () => forge(header, claims(alpha, { aud: `${base()}/` }), signA)],
      ['aud of the API path', () => forge(header, claims(alpha, { aud: `${base()}/api/v1` }), signA)],
      ['missing aud', () => forge(header, claims(alpha, { aud: undefined }), signA)],
      ['mintToken for another registry', () => mintToken(alpha, 'https://certrail.example.org')],
      ['unknown kid', () => forge({ ...header, kid: 'key-7' }, claims(alpha), signA)],
      ['missing kid', () => forge({ alg: 'EdDSA', typ: 'JWT' }, claims(alpha), signA)],
      ['numeric kid', () => forge({ ...header, kid: 1 }, claims(alpha), signA)],
      ['kid of another CB', () => forge({ ...header, kid: 'key-1' }, claims(beta, { iss: 'alpha-cert' }), ed25519(beta.seed))],
      ['signed by B, iss A (same kid)', () => forge(header, claims(alpha), ed25519(beta.seed))],
      ['signed by B, iss A, via mintToken', () => mintToken({ ...beta, issuer: 'alpha-cert' }, base())],
      ['iss of an unregistered CB', () => mintToken({ ...alpha, issuer: 'ghost-cert' }, base())],
      ['signature of another token', async () => {
        const [h, p] = (await forge(header, claims(alpha), signA)).split('.');
        const other = (await forge(header, claims(alpha), signA)).split('.')[2];
        return `${h}.${p}.${other}`;
      }],
      ['truncated signature', async () => (await forge(header, claims(alpha), signA)).slice(0, -4)],
      ['garbage signature', async () => `${(await forge(header, claims(alpha), signA)).split('.').slice(0, 2).join('.')}.${b64u(randomBytes(64))}`],
      ['payload not an object', () => forge(header, [] as unknown as Claims, signA)],
    ];
    for (const [name, make] of cases) {
      const token = await make();
      const body = await certificate(alpha);
      const res = await refused(401, 'unauthorized', () => issueWith(token, body)).catch((error: unknown) => {
        throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      });
      expect(JSON.stringify(res.body), name).not.toMatch(/SQLITE|SELECT|node_modules|\n\s+at /);
    }

    // Tampering with a valid token: the payload (iss, exp, jti) or the header; and header forms of the credentials.
    const tamper = async (change: (parts: string[]) => string[]) => {
      const parts = (await mintToken(alpha, base())).split('.');
      return change(parts).join('.');
    };
    const payloadOf = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Claims;
    const tampered: Array<[string, () => Promise<string>]> = [
      ['payload exp extended', () => tamper(([h, p, s]) => [h!, b64u(JSON.stringify({ ...payloadOf(p!), exp: nowS() + 240 })), s!])],
      ['payload jti changed', () => tamper(([h, p, s]) => [h!, b64u(JSON.stringify({ ...payloadOf(p!), jti: 'fresh' })), s!])],
      ['payload iss changed to B', async () => {
        const [h, p, s] = (await mintToken(beta, base())).split('.');
        return [h!, b64u(JSON.stringify({ ...payloadOf(p!), iss: 'alpha-cert' })), s!].join('.');
      }],
      ['header re-encoded', () => tamper(([h, p, s]) => [b64u(JSON.stringify({ ...payloadOf(h!), typ: 'at+jwt' })), p!, s!])],
      ['payload with padding', () => tamper(([h, p, s]) => [h!, `${p!}=`, s!])],
      ['four parts', () => tamper((parts) => [...parts, parts[2]!])],
    ];
    for (const [name, make] of tampered) {
      const token = await make();
      const body = await certificate(alpha);
      await refused(401, 'unauthorized', () => issueWith(token, body)).catch((error: unknown) => {
        throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }

    // Not Bearer at all.
    const body = await certificate(alpha);
    const token = await mintToken(alpha, base());
    for (const authorization of [undefined, '', 'Bearer', 'Bearer ', `Basic ${b64u('alpha-cert:key-1')}`, `Bearer  ${token}`, `Bearer ${token} x`, `Token ${token}`]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      await refused(401, 'unauthorized', () => call(server, 'POST', '/api/v1/certificates', { headers, body }));
      await refused(401, 'unauthorized', () => call(server, 'POST', '/api/v1/issuers', { headers, body: {} }));
    }

    // The control: the same kind of request with a genuine token is accepted (so the refusals above were the token's).
    const ok = await issueWith(await forge(header, claims(alpha), signA), body);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('accepts a jti once: a replay after success, after a refusal and in parallel is 401', async () => {
    const header = { alg: 'EdDSA', kid: alpha.keyId, typ: 'JWT' };
    // Replay after a successful write.
    const token = await mintToken(alpha, base());
    expect((await issueWith(token, await certificate(alpha))).status).toBe(201);
    const again = await certificate(alpha);
    await refused(401, 'unauthorized', () => issueWith(token, again));
    // The same jti in a new token (new exp) is still a replay.
    const jti = b64u(randomBytes(12));
    expect((await issueWith(await forge(header, claims(alpha, { jti }), ed25519(alpha.seed)), await certificate(alpha))).status).toBe(201);
    await refused(401, 'unauthorized', async () => issueWith(await forge(header, claims(alpha, { jti, exp: nowS() + 200 }), ed25519(alpha.seed)), again));
    // … also under another key of the same CB.
    await refused(401, 'unauthorized', async () =>
      issueWith(await forge({ ...header, kid: alpha2.keyId }, claims(alpha, { jti }), ed25519(alpha2.seed)), again),
    );
    // Replay after the first use was refused for another reason (bad body): the jti is burnt anyway.
    const burnt = await mintToken(alpha, base());
    const bad = await call(server, 'POST', '/api/v1/certificates', { headers: bearer(burnt), body: { nonsense: true } });
    expect(bad.status).toBe(400);
    await refused(401, 'unauthorized', () => issueWith(burnt, again));
    // Replay in parallel: exactly one use wins, and exactly one entry is logged.
    const before = await treeSize();
    const racing = await mintToken(alpha, base());
    const bodies = await Promise.all(Array.from({ length: 8 }, () => certificate(alpha)));
    const results = await Promise.all(bodies.map((b) => issueWith(racing, b)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(7);
    expect(await treeSize()).toBe(before + 1);
    // The same jti string is independent between CBs (it is scoped by iss).
    const shared = b64u(randomBytes(12));
    expect((await issueWith(await forge(header, claims(alpha, { jti: shared }), ed25519(alpha.seed)), await certificate(alpha))).status).toBe(201);
    expect((await issueWith(await forge(header, claims(beta, { jti: shared }), ed25519(beta.seed)), await certificate(beta))).status).toBe(201);
  });

  it('refuses tokens signed by a revoked key (401) while the CB’s other key still works', async () => {
    // key-2 works before its revocation.
    expect((await call(server, 'POST', '/api/v1/certificates', { key: alpha2, body: await certificate(alpha) })).status).toBe(201);
    const revoked = await call(server, 'POST', '/api/v1/issuers/alpha-cert/keys/key-2/revoke', { key: operatorKey(server), body: { reason: 'rotated' } });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(201);
    // A token minted before the revocation, and one minted after.
    const early = await mintToken(alpha2, base());
    const late = await mintToken(alpha2, base());
    await refused(401, 'unauthorized', async () => issueWith(early, await certificate(alpha)));
    await refused(401, 'unauthorized', async () => issueWith(late, await certificate(alpha)));
    // And on the events endpoint of A's own certificate.
    const a = await issued(alpha);
    const suspend = await event(alpha, a.id, 'suspended', a.head);
    await refused(401, 'unauthorized', async () =>
      call(server, 'POST', `/api/v1/certificates/alpha-cert/${a.number}/events`, { headers: bearer(await mintToken(alpha2, base())), body: suspend }),
    );
    // A key revoked with a compromise time in the past.
    const key3 = await newCbKey('alpha-cert', 'key-3');
    expect((await call(server, 'POST', '/api/v1/issuers/alpha-cert/keys', { key: operatorKey(server), body: { keyId: 'key-3', publicKeyMultibase: key3.publicKeyMultibase } })).status).toBe(201);
    expect((await call(server, 'POST', '/api/v1/certificates', { key: key3, body: await certificate(alpha) })).status).toBe(201);
    const compromised = await call(server, 'POST', '/api/v1/issuers/alpha-cert/keys/key-3/revoke', {
      key: operatorKey(server),
      body: { reason: 'key compromise', compromisedAt: iso(Date.now() - 3600_000) },
    });
    expect(compromised.status, JSON.stringify(compromised.body)).toBe(201);
    await refused(401, 'unauthorized', async () => issueWith(await mintToken(key3, base()), await certificate(alpha)));
    // key-1 is unaffected.
    const ok = await call(server, 'POST', `/api/v1/certificates/alpha-cert/${a.number}/events`, { key: alpha, body: suspend });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('remembers used jtis across a restart', async () => {
    const token = await mintToken(alpha, base());
    expect((await issueWith(token, await certificate(alpha))).status).toBe(201);
    await server.close();
    server = await startTestServer(dir.path);
    await refused(401, 'unauthorized', async () => issueWith(token, await certificate(alpha)));
    expect((await call(server, 'POST', '/api/v1/certificates', { key: alpha, body: await certificate(alpha) })).status).toBe(201);
  });

  it('names every certificate it issued under the acting CB only', async () => {
    const page = await call(server, 'GET', '/api/v1/certificates?issuer=beta-cert&limit=100');
    expect(page.status).toBe(200);
    for (const item of page.body.items as Array<{ id: string; issuer: string }>) {
      expect(item.issuer).toBe('beta-cert');
      expect(item.id).toBe(certificateIdOf(base(), 'beta-cert', item.id.split('/').at(-1)!));
    }
  });
});
