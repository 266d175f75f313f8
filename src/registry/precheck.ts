// The stateless first half of issuing a CB-signed certificate: the strict parse of the request body, the certificate
// schema and the eddsa-jcs-2022 proof checked against the key the request was authenticated with. It reads no state,
// so a server may run it on another thread (src/precheck-worker.ts) while its main thread, the one that sequences,
// does the rest (Registry.issueCertificateBody): the rules that read the registry, and the append.
//
// Its answer crosses threads, so it is plain data: the certificate as its RFC 8785 canonical text (which the entry
// reuses, and JSON.parse turns back into the same value), and errors as their code and detail.
import { asJsonObject, certificateSchema, parseDocument, splitVerificationMethod } from '../core/credential.js';
import { verifyDataIntegrity } from '../core/data-integrity.js';
import { RegistryError, type RegistryErrorCode } from '../core/errors.js';
import { canonicalize, type CanonicalMemo } from '../core/jcs.js';
import { isJsonObject, parseJsonBytes } from '../core/json.js';

/** The key a request was authenticated with: its proof is checked against it when the proof names it. */
export interface PrecheckKey {
  keyId: string;
  publicKey: Uint8Array;
}

/** The outcome of the proof check against the request's key (`keyId`); `detail` says why it failed. */
export interface SignatureCheck {
  keyId: string;
  ok: boolean;
  detail: string;
}

/** What a precheck worker is sent (src/precheck-worker.ts). */
export interface PrecheckRequest {
  body: Uint8Array;
  key: PrecheckKey | null;
}

export type Precheck =
  /**
   * A valid certificate (schema-wise), as canonical text. `signature` is null when its proof names another key than
   * the request's: the registry then finds that key and checks the proof itself.
   */
  | { kind: 'certificate'; canonical: string; signature: SignatureCheck | null }
  /** JSON without a `proof` member (a draft for managed signing, or not an object): the registry's usual path. */
  | { kind: 'unsigned' }
  /** Refused before any state is read, with the error the in-thread path would have thrown. */
  | { kind: 'refused'; code: RegistryErrorCode; detail: string };

export async function precheckCertificate(body: Uint8Array, key: PrecheckKey | null): Promise<Precheck> {
  try {
    const value = parseJsonBytes(body);
    if (!isJsonObject(value) || !('proof' in value)) return { kind: 'unsigned' };
    const certificate = parseDocument(certificateSchema, value);
    const credential = asJsonObject(certificate);
    const memo: CanonicalMemo = new WeakMap();
    let signature: SignatureCheck | null = null;
    if (key !== null && splitVerificationMethod(certificate.proof.verificationMethod)?.keyId === key.keyId) {
      signature = { keyId: key.keyId, ...(await verifyDataIntegrity(credential, key.publicKey, memo)) };
    }
    return { kind: 'certificate', canonical: canonicalize(credential, memo), signature };
  } catch (error) {
    if (error instanceof RegistryError) return { kind: 'refused', code: error.code, detail: error.detail };
    throw error;
  }
}
