// A certificate as a Sigstore bundle (v0.3): a DSSE envelope of an in-toto Statement v1 whose subjects are the
// certified model digests and whose predicate is the credential, signed with the certification body's own Ed25519
// key through @sigstore/sign. Offline by design: no Fulcio certificate, no Rekor entry, no timestamp authority (the
// bundle builder gets no witnesses), so the verification material is a public-key hint and nothing else. The
// Certrail log, not Rekor, is where the certificate is logged; the bundle carries the exact logged credential so a
// verifier can cross-check it against the registry.
//
// Verifying: @sigstore/verify with tlogThreshold, ctlogThreshold and timestampThreshold 0 and trust material whose
// key finder maps the hint (the key's verification method, `<issuer id>#<keyId>`) to the CB's public key.
import { createPublicKey } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signature, type Signer } from '@sigstore/sign';
import { signEd25519 } from '../core/crypto.js';
import type { Certificate } from '../core/credential.js';
import { canonicalBytes } from '../core/jcs.js';
import type { JsonObject } from '../core/json.js';

/** in-toto Statement v1 (in-toto/attestation spec/v1/statement.md). */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The DSSE payloadType of an in-toto Statement (in-toto/attestation spec/v1/envelope.md). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The predicate type of a Certrail certificate: the predicate is the signed credential, unchanged. */
export const CERTIFICATE_PREDICATE_TYPE = 'https://certrail.dev/AISecurityCertificate/v1';
/** The media type @sigstore/bundle gives a bundle without an X.509 chain (Sigstore bundle v0.3). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** What signs the bundle: the CB's Ed25519 seed and public key, and the hint verifiers look the key up by. */
export interface BundleKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** The key's verification method, `<issuer id>#<keyId>`; an unauthenticated hint, as Sigstore defines it. */
  keyHint: string;
}

/**
 * The in-toto Statement v1 of a certificate: one subject per certified model, named by the model's name, with
 * its digest (`sha256:<hex>` becomes `{ sha256: <hex> }`); the predicate is the credential as logged, proof
 * included, so the statement binds the model digests to the very document the registry logged.
 */
export function certificateStatement(credential: JsonObject, parsed: Certificate): JsonObject {
  const subject = parsed.credentialSubject.models.map((model) => ({
    name: model.name,
    digest: { sha256: model.digest.slice('sha256:'.length) },
  }));
  return { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType: CERTIFICATE_PREDICATE_TYPE, predicate: credential };
}

/** An Ed25519 public key as SubjectPublicKeyInfo PEM, the form Sigstore's key material carries. */
export function ed25519PublicKeyPem(publicKey: Uint8Array): string {
  const x = Buffer.from(publicKey).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * A @sigstore/sign Signer over a local Ed25519 key. The DSSE builder hands it the pre-authentication encoding
 * (DSSE v1 PAE); it signs those bytes with pure Ed25519 and names the key by its hint.
 */
export function ed25519Signer(key: BundleKey): Signer {
  const pem = ed25519PublicKeyPem(key.publicKey);
  return {
    async sign(data: Buffer): Promise<Signature> {
      const signature = await signEd25519(key.seed, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return { signature: Buffer.from(signature), key: { $case: 'publicKey', publicKey: pem, hint: key.keyHint } };
    },
  };
}

/**
 * The Sigstore bundle (JSON form) of a certificate. The payload is the RFC 8785 (JCS) serialization of the
 * statement, so the same credential always yields the same payload bytes.
 */
export async function sigstoreBundleOf(credential: JsonObject, parsed: Certificate, key: BundleKey): Promise<SerializedBundle> {
  const builder = new DSSEBundleBuilder({ signer: ed25519Signer(key), witnesses: [] });
  const payload = canonicalBytes(certificateStatement(credential, parsed));
  const bundle = await builder.create({ data: Buffer.from(payload), type: IN_TOTO_PAYLOAD_TYPE });
  if (bundle.mediaType !== SIGSTORE_BUNDLE_MEDIA_TYPE) {
    throw new Error(`@sigstore/sign built a ${bundle.mediaType} bundle, not ${SIGSTORE_BUNDLE_MEDIA_TYPE}`);
  }
  return bundleToJSON(bundle);
}
