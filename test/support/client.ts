// Test support: a certification body and the operator talking to a real registry over HTTP, signing locally.
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import type { JsonObject } from '../../src/core/json.js';
import type { TestServer } from './registry.js';

/** What these helpers need of a registry: an in-process test server or a registry process (scripts/security). */
export type Endpoint = Pick<TestServer, 'url'> & { config: Pick<TestServer['config'], 'baseUrl'>; registryKey: { seed: Uint8Array; publicKey: Uint8Array } };

export interface CbKey extends TokenKey {
  publicKeyMultibase: string;
}

export async function newCbKey(issuer: string, keyId = 'key-1'): Promise<CbKey> {
  const seed = randomBytes(32);
  const publicKey = await ed25519PublicKey(seed);
  return { issuer, keyId, seed, publicKey, publicKeyMultibase: encodeMultikey(publicKey) };
}

export function operatorKey(server: Endpoint): TokenKey {
  return { issuer: 'registry', keyId: 'registry', seed: server.registryKey.seed, publicKey: server.registryKey.publicKey };
}

export async function call(
  server: Endpoint,
  method: string,
  path: string,
  options: { key?: TokenKey; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${await mintToken(options.key, server.config.baseUrl)}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Registers a CB with the given keys (and managed signing if asked) through the operator API. */
export async function registerCb(server: Endpoint, slug: string, keys: CbKey[], managedSigning = false) {
  return call(server, 'POST', '/api/v1/issuers', {
    key: operatorKey(server),
    body: {
      slug,
      name: `${slug} Certification GmbH`,
      accreditation: { body: 'DAkkS', number: `D-ZE-${slug}` },
      managedSigning,
      keys: keys.map((k) => ({ keyId: k.keyId, publicKeyMultibase: k.publicKeyMultibase })),
    },
  });
}

/** Signs a document with a CB key as `<issuer id>#<keyId>`. */
export async function signAs(server: Endpoint, key: CbKey, document: JsonObject): Promise<JsonObject> {
  return signDataIntegrity(document, {
    seed: key.seed,
    verificationMethod: `${server.config.baseUrl}/issuers/${key.issuer}#${key.keyId}`,
    created: new Date().toISOString(),
  });
}
