// The JSON API (/api/v1): certification bodies write with Bearer JWTs; everything else is public and read-only.
import { Hono, type Context } from 'hono';
import { BUNDLE_MEDIA_TYPE } from '../core/bundle.js';
import { CERT_NUMBER, ISSUER_SLUG, KEY_ID } from '../core/credential.js';
import { RegistryError } from '../core/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { CertificateStatus } from '../core/status.js';
import type { Registry } from '../registry/registry.js';
import { decodeCursor, MAX_BATCH, MAX_PAGE, type RegistryViews } from '../registry/views.js';
import { ed25519Jwk, OPERATOR, type Authenticator, type Principal } from './auth.js';
import { MAX_BATCH_BYTES, MAX_DOCUMENT_BYTES, readJson } from './body.js';
import { problem } from './problem.js';

const STATUSES: readonly CertificateStatus[] = ['active', 'suspended', 'revoked', 'expired', 'not-yet-valid'];
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ApiServices {
  registry: Registry;
  views: RegistryViews;
  auth: Authenticator;
  now: () => number;
}

function param(c: Context, name: string, pattern: RegExp): string {
  const value = c.req.param(name) ?? '';
  if (!pattern.test(value)) throw new RegistryError('not-found', `no ${name} ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new RegistryError('bad-request', 'Idempotency-Key must be 1 to 128 printable ASCII characters');
  }
  return key;
}

function string(body: JsonObject, name: string, required: true): string;
function string(body: JsonObject, name: string, required: false): string | undefined;
function string(body: JsonObject, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') throw new RegistryError('bad-request', `${name}: must be a string`);
  return value;
}

async function objectBody(c: Context): Promise<JsonObject> {
  const body = await readJson(c, MAX_DOCUMENT_BYTES);
  if (!isJsonObject(body)) throw new RegistryError('bad-request', '(document): must be a JSON object');
  return body;
}

export function apiRoutes(services: ApiServices): Hono {
  const { registry, views, auth, now } = services;
  const app = new Hono();

  const authenticate = (c: Context): Promise<Principal> => auth.authenticate(c.req.header('authorization'));
  const operator = async (c: Context): Promise<Principal> => {
    const principal = await authenticate(c);
    if (principal.issuer !== OPERATOR) throw new RegistryError('forbidden', 'only the registry operator may do this');
    return principal;
  };

  // --- certification bodies ----------------------------------------------------------------------------------

  app.post('/certificates', async (c) => {
    const actor = await authenticate(c);
    const key = idempotencyKey(c);
    const body = await readJson(c, MAX_DOCUMENT_BYTES);
    const receipt = await registry.issueCertificate(actor, body, key);
    c.header('Location', receipt.id);
    return c.json(receipt, 201);
  });

  app.post('/certificates/:issuer/:number/events', async (c) => {
    const actor = await authenticate(c);
    const issuer = param(c, 'issuer', ISSUER_SLUG);
    const number = param(c, 'number', CERT_NUMBER);
    const key = idempotencyKey(c);
    const body = await readJson(c, MAX_DOCUMENT_BYTES);
    return c.json(await registry.recordEvent(actor, issuer, number, body, key), 201);
  });

  // --- operator ----------------------------------------------------------------------------------------------

  app.post('/issuers', async (c) => {
    const actor = await operator(c);
    const body = await objectBody(c);
    const keys = body.keys ?? [];
    if (!Array.isArray(keys) || !keys.every(isJsonObject)) throw new RegistryError('bad-request', 'keys: must be an array of objects');
    const accreditation = body.accreditation;
    if (accreditation !== undefined && !isJsonObject(accreditation)) throw new RegistryError('bad-request', 'accreditation: must be an object');
    if (body.managedSigning !== undefined && typeof body.managedSigning !== 'boolean') {
      throw new RegistryError('bad-request', 'managedSigning: must be a boolean');
    }
    const receipts = await registry.registerIssuer(actor, {
      slug: string(body, 'slug', true),
      name: string(body, 'name', true),
      accreditation,
      managedSigning: body.managedSigning === true,
      keys: keys.map((k) => ({ keyId: string(k, 'keyId', true), publicKeyMultibase: string(k, 'publicKeyMultibase', true) })),
    });
    return c.json({ receipts }, 201);
  });

  app.post('/issuers/:issuer/keys', async (c) => {
    const actor = await operator(c);
    const issuer = param(c, 'issuer', ISSUER_SLUG);
    const body = await objectBody(c);
    const keyId = string(body, 'keyId', true);
    if (!KEY_ID.test(keyId)) throw new RegistryError('bad-request', 'keyId: must be 1 to 64 letters, digits and ._-');
    return c.json(await registry.addIssuerKey(actor, issuer, keyId, string(body, 'publicKeyMultibase', true)), 201);
  });

  app.post('/issuers/:issuer/keys/:keyId/revoke', async (c) => {
    const actor = await operator(c);
    const issuer = param(c, 'issuer', ISSUER_SLUG);
    const keyId = param(c, 'keyId', KEY_ID);
    const body = await objectBody(c);
    return c.json(
      await registry.revokeIssuerKey(actor, issuer, keyId, string(body, 'reason', true), string(body, 'compromisedAt', false)),
      201,
    );
  });

  // --- public reads ------------------------------------------------------------------------------------------

  app.get('/certificates/:issuer/:number', async (c) => {
    const issuer = param(c, 'issuer', ISSUER_SLUG);
    const number = param(c, 'number', CERT_NUMBER);
    const view = await views.certificate(issuer, number, now());
    if (!view) return problem(c, 'not-found', `certificate ${number} of ${issuer} is not found in this registry`);
    c.header('Cache-Control', 'no-cache');
    return c.json({ ...view, verifyUrl: view.id, status: view.verdict.status });
  });

  app.get('/certificates/:issuer/:number/bundle', async (c) => {
    const bundle = await views.bundle(param(c, 'issuer', ISSUER_SLUG), param(c, 'number', CERT_NUMBER));
    if (!bundle) return problem(c, 'not-found', 'this certificate is not found in this registry');
    c.header('Cache-Control', 'no-cache');
    return c.body(JSON.stringify(bundle), 200, { 'Content-Type': BUNDLE_MEDIA_TYPE });
  });

  app.get('/certificates', async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !STATUSES.includes(status as CertificateStatus)) {
      throw new RegistryError('bad-request', `status: must be one of ${STATUSES.join(', ')}`);
    }
    const limitText = c.req.query('limit') ?? '50';
    const limit = Number(limitText);
    if (!/^[1-9][0-9]{0,2}$/.test(limitText) || limit > MAX_PAGE) throw new RegistryError('bad-request', `limit: 1 to ${MAX_PAGE}`);
    const cursor = c.req.query('cursor');
    const q = c.req.query('q');
    const standard = c.req.query('standard');
    for (const [name, value] of [['q', q], ['standard', standard], ['issuer', c.req.query('issuer')]] as const) {
      if (value !== undefined && value.length > 256) throw new RegistryError('bad-request', `${name}: at most 256 characters`);
    }
    const page = await views.search(
      {
        issuer: c.req.query('issuer') || undefined,
        standard: standard || undefined,
        q: q || undefined,
        status: status as CertificateStatus | undefined,
        after: cursor ? decodeCursor(cursor) : undefined,
        limit,
      },
      now(),
    );
    return c.json(page);
  });

  app.post('/verify', async (c) => {
    const body = await readJson(c, MAX_BATCH_BYTES);
    const items: JsonValue = isJsonObject(body) ? (body.items ?? null) : body;
    if (!Array.isArray(items)) throw new RegistryError('bad-request', 'items: must be an array of certificate ids or credentials');
    if (items.length > MAX_BATCH) throw new RegistryError('payload-too-large', `items: at most ${MAX_BATCH} per request`);
    const at = now();
    const context = views.context();
    const results = [];
    for (const item of items) results.push(await views.verifyItem(item, at, context));
    return c.json({ results });
  });

  app.get('/models/:digest/certificates', async (c) => {
    const digest = c.req.param('digest');
    if (!DIGEST.test(digest)) throw new RegistryError('bad-request', 'digest: must be sha256: and 64 lowercase hex digits');
    return c.json({ digest, certificates: await views.byModel(digest, now()) });
  });

  app.get('/issuers', async (c) => c.json({ issuers: await views.issuers() }));

  app.get('/issuers/:issuer', async (c) => {
    const issuer = await views.issuer(param(c, 'issuer', ISSUER_SLUG), now());
    if (!issuer) return problem(c, 'not-found', 'no such issuer');
    return c.json(issuer);
  });

  app.get('/issuers/:issuer/jwks.json', async (c) => {
    const slug = param(c, 'issuer', ISSUER_SLUG);
    const keys = await views.activeKeys(slug, now());
    if (!keys) return problem(c, 'not-found', 'no such issuer');
    return c.json({ keys: keys.map((k) => ed25519Jwk(k.publicKey, k.keyId)) });
  });

  return app;
}
