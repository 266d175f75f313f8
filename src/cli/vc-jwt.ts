// A certificate secured with JOSE, W3C VC-JOSE-COSE §3.1.1 (media type `application/vc+jwt`): a JWS in compact
// serialization whose payload is the unsecured credential.
//
// Decisions, per the spec:
// - The payload is the credential without its Data Integrity `proof`. "The unsecured verifiable credential is the
//   unencoded JWS payload": the JWS is an enveloping proof, a securing mechanism of its own, and VC 2.0 verifiers
//   return only the secured data, without securing-mechanism members. The embedded proof stays in the logged
//   credential (`certrail export --format vc`); the JWT carries the same claims under a second signature.
// - No JWT claims are added (`iat`, `exp`, `iss`, `vc` …): `vc` MUST NOT be present, `iat`/`exp` would describe the
//   signature rather than the certificate (validFrom/validUntil do that), and without them the payload is exactly
//   the credential. The payload bytes are its RFC 8785 (JCS) serialization.
// - Header: `alg` EdDSA (Ed25519), `typ` `vc+jwt`, `cty` `vc` (the SHOULDs of §3.1.1), `kid` the key id as the CB's
//   JWKS names it, and `iss` the issuer id. Key discovery (§4.1): with `iss` present the verifier takes the JWK set
//   of that issuer (GET /api/v1/issuers/{slug}/jwks.json) and `kid` picks the key in it. (Without `iss`, the spec
//   would require `kid` to be an absolute URL of a JsonWebKey verification method in a controller document; the
//   issuer's did.json lists Multikey methods, so the JWKS route is the one that fits.) `iss` in the protected
//   header is a replicated claim (RFC 7519 §5.3) and equals `issuer.id`, as §4.1.2 requires.
import { CompactSign, importJWK } from 'jose';
import type { Certificate } from '../core/credential.js';
import { canonicalBytes } from '../core/jcs.js';
import type { JsonObject } from '../core/json.js';
import { ed25519Jwk } from '../http/auth.js';

export const VC_JWT_MEDIA_TYPE = 'application/vc+jwt';
export const VC_JWT_TYP = 'vc+jwt';
export const VC_JWT_CTY = 'vc';

export interface JwtKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** The key id within the issuer's JWKS (`kid`), e.g. `key-1`. */
  keyId: string;
}

/** The credential without its embedded `proof`: what VC-JOSE-COSE secures. */
export function unsecuredCredential(credential: JsonObject): JsonObject {
  const { proof: _proof, ...unsecured } = credential;
  return unsecured;
}

/** The `application/vc+jwt` of a certificate, signed with the CB key. */
export async function vcJwtOf(credential: JsonObject, parsed: Certificate, key: JwtKey): Promise<string> {
  const jwk = { ...ed25519Jwk(key.publicKey, key.keyId), d: Buffer.from(key.seed).toString('base64url') };
  const privateKey = await importJWK(jwk, 'EdDSA');
  return new CompactSign(canonicalBytes(unsecuredCredential(credential)))
    .setProtectedHeader({ alg: 'EdDSA', typ: VC_JWT_TYP, cty: VC_JWT_CTY, kid: key.keyId, iss: parsed.issuer.id })
    .sign(privateKey);
}
