// Mints the short-lived Bearer JWTs the API accepts (EdDSA, aud = registry base URL, exp ≤ 5 min, single-use jti),
// signed locally with a CB key or, for operator commands, the registry key. The key never leaves this process.
import { importJWK, SignJWT } from 'jose';
import { randomBytes } from '../core/crypto.js';
import { toHex } from '../core/bytes.js';
import { ed25519Jwk } from '../http/auth.js';

export interface TokenKey {
  /** The CB slug, or `registry` for the operator. */
  issuer: string;
  keyId: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export async function mintToken(key: TokenKey, audience: string, lifetimeSeconds = 120): Promise<string> {
  const jwk = { ...ed25519Jwk(key.publicKey, key.keyId), d: base64Url(key.seed) };
  const privateKey = await importJWK(jwk, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
    .setIssuer(key.issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .setJti(toHex(randomBytes(16)))
    .sign(privateKey);
}
