// Bearer JWT authentication of certification bodies and the operator (DESIGN §Interfaces). Checks, in order:
// `alg` is EdDSA (nothing else is even tried), `kid` names a registered, unrevoked key of the `iss` issuer, the
// signature verifies, `aud` is the registry's base URL, `exp` is present and at most 5 minutes ahead, `nbf`/`iat`
// are not in the future, and `jti` was never used before (single use, remembered until the token expires).
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey as JoseKey } from 'jose';
import { RegistryError } from '../core/errors.js';
import { keyInvalidFrom, type KeyRecord } from '../core/keys.js';
import { keyRecord, type RegistryStore } from '../store/registry-store.js';

/** The issuer name of operator tokens, signed by the registry key; no certification body may take this slug. */
export const OPERATOR = 'registry';
export const MAX_TOKEN_LIFETIME_S = 300;

/** `key` is the CB key the token was verified with (absent for the operator), handed on so it is read only once. */
export type Principal = { issuer: string; keyId: string; jti: string; expiresAt: number; key?: KeyRecord };

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function ed25519Jwk(publicKey: Uint8Array, kid: string) {
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey), kid, alg: 'EdDSA', use: 'sig' } as const;
}

function deny(detail: string): RegistryError {
  return new RegistryError('unauthorized', detail);
}

export interface AuthOptions {
  /** The registry's base URL: the only accepted `aud`. */
  audience: string;
  store: RegistryStore;
  registryPublicKey: Uint8Array;
  now?: () => number;
}

export class Authenticator {
  private readonly used = new Map<string, number>();
  /** When `used` may next be swept for expired ids (see prune). */
  private nextPrune = 0;
  private readonly keys = new Map<string, Promise<JoseKey | Uint8Array>>();
  private readonly now: () => number;

  constructor(private readonly options: AuthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the unexpired used token ids from the database (after a restart). */
  async loadUsedTokens(): Promise<void> {
    for (const t of await this.options.store.unexpiredTokens(this.now())) this.used.set(t.jti, t.expiresAt);
  }

  /** Verifies an `Authorization` header value and consumes the token's jti. Throws 401 problems. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (!match) throw deny('missing or malformed Bearer token');
    const token = match[1]!;
    // The unverified header and iss only select the key; the signature then covers them.
    let kid: string;
    let iss: unknown;
    try {
      const protectedHeader = decodeProtectedHeader(token);
      if (protectedHeader.alg !== 'EdDSA') throw deny('token alg must be EdDSA');
      if (typeof protectedHeader.kid !== 'string') throw deny('token has no kid');
      kid = protectedHeader.kid;
      iss = decodeJwt(token).iss;
    } catch (error) {
      throw error instanceof RegistryError ? error : deny('malformed token');
    }
    const now = this.now();
    const { record, key } = await this.key(iss, kid, now);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        audience: this.options.audience,
        requiredClaims: ['iss', 'exp', 'jti'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw error instanceof RegistryError ? error : deny(`token rejected: ${error instanceof Error ? error.message : 'invalid'}`);
    }
    const exp = payload.exp!;
    if (exp * 1000 > now + MAX_TOKEN_LIFETIME_S * 1000) throw deny(`token exp is more than ${MAX_TOKEN_LIFETIME_S} s ahead`);
    // jose checks that a present iat is a number, but not that it is in the past (nbf it does check).
    if (payload.iat !== undefined && payload.iat > Math.floor(now / 1000)) throw deny('token iat is in the future');
    // jose checks jti's presence only: a number or an object would stringify into a shared replay key.
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 128) {
      throw deny('token jti must be a string of 1 to 128 characters');
    }
    const jti = `${payload.iss} ${payload.jti}`;
    this.prune(now);
    if (this.used.has(jti)) throw deny('token jti was already used');
    this.used.set(jti, exp * 1000);
    return { issuer: payload.iss!, keyId: kid, jti, expiresAt: exp * 1000, ...(record ? { key: record } : {}) };
  }

  /**
   * Forgets expired ids once the map is large, at most once a second: a sweep walks every id, so sweeping on each
   * request would cost O(ids) per request while thousands of unexpired tokens are held. An expired id kept up to a
   * second longer changes nothing (its token is refused as expired before the replay check).
   */
  private prune(now: number): void {
    if (this.used.size < 10_000 || now < this.nextPrune) return;
    this.nextPrune = now + 1000;
    for (const [jti, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(jti);
  }

  /** The verification key for (iss, kid): the registry key for operator tokens, else the issuer's registered key. */
  private async key(iss: unknown, kid: string, now: number): Promise<{ record: KeyRecord | null; key: JoseKey | Uint8Array }> {
    if (typeof iss !== 'string') throw deny('token has no iss');
    if (iss === OPERATOR) {
      if (kid !== OPERATOR) throw deny('unknown operator key');
      return { record: null, key: await this.imported(`${OPERATOR}#${OPERATOR}`, this.options.registryPublicKey, kid) };
    }
    const row = await this.options.store.key(iss, kid);
    if (!row) throw deny(`unknown key ${kid} for issuer ${iss}`);
    const record = keyRecord(row);
    if (now >= keyInvalidFrom(record)) throw deny(`key ${kid} of ${iss} is revoked`);
    return { record, key: await this.imported(`${iss}#${kid}`, record.publicKey, kid) };
  }

  private imported(cacheKey: string, publicKey: Uint8Array, kid: string): Promise<JoseKey | Uint8Array> {
    let key = this.keys.get(cacheKey);
    if (!key) {
      key = importJWK(ed25519Jwk(publicKey, kid), 'EdDSA');
      if (this.keys.size > 1024) this.keys.clear();
      this.keys.set(cacheKey, key);
    }
    return key;
  }
}
