// W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa §3.3): JCS (RFC 8785),
// SHA-256 and pure Ed25519 (RFC 8032). Section numbers below are those of vc-di-eddsa unless said otherwise.
//
// Trust: a proof binds the document to the key that the caller passes in; which key belongs to
// `verificationMethod`, and whether `proofPurpose` is the expected one, is for the caller to decide.
import { concatBytes } from './bytes.js';
import { sha256, signEd25519, verifyEd25519 } from './crypto.js';
import { RegistryError } from './errors.js';
import { canonicalBytes, canonicalize, type CanonicalMemo } from './jcs.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { fromMultibase, toMultibase } from './multibase.js';

export interface DataIntegrityProof {
  type: 'DataIntegrityProof';
  cryptosuite: 'eddsa-jcs-2022';
  created?: string;
  verificationMethod: string;
  proofPurpose: string;
  proofValue: string;
  [k: string]: JsonValue | undefined;
}

export interface DataIntegritySignOptions {
  /** The signer's 32-byte Ed25519 seed. */
  seed: Uint8Array;
  verificationMethod: string;
  /** XML Schema dateTimeStamp; omitted from the proof when not given (core does not read the clock). */
  created?: string;
  /** Default `assertionMethod`, the purpose of a credential's proof. */
  proofPurpose?: string;
}

const PROOF_TYPE = 'DataIntegrityProof';
const CRYPTOSUITE = 'eddsa-jcs-2022';
const SIGNATURE_LENGTH = 64;
/** 'z' + base58btc of 64 bytes is at most 89 characters; longer values are refused before decoding. */
const MAX_PROOF_VALUE_LENGTH = 89;
/** XML Schema 1.1 dateTimeStamp (a dateTime with a time zone), the form of `created` (Data Integrity §2.1). */
const DATE_TIME_STAMP = new RegExp(
  '^-?\\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])' + // date
    'T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d+)?' + // time
    '(Z|[+-](0\\d|1[0-3]):[0-5]\\d|[+-]14:00)$', // time zone, required
);

/**
 * §3.3.1 Create Proof, then Data Integrity §4.2 Add Proof: returns a copy of `document` with a `proof` member.
 * The proof carries the document's `@context` (step 2), as the spec's test vector does.
 */
export async function signDataIntegrity(
  document: JsonObject,
  options: DataIntegritySignOptions,
): Promise<JsonObject> {
  if (Object.hasOwn(document, 'proof')) {
    throw new RegistryError('bad-request', 'document already has a proof');
  }
  const proof: JsonObject = { type: PROOF_TYPE, cryptosuite: CRYPTOSUITE };
  if (options.created !== undefined) proof.created = options.created;
  proof.verificationMethod = options.verificationMethod;
  proof.proofPurpose = options.proofPurpose ?? 'assertionMethod';
  const context = document['@context'];
  if (context !== undefined) proof['@context'] = context;

  const signature = await signEd25519(options.seed, dataIntegrityHash(document, proof));
  return { ...document, proof: { ...proof, proofValue: toMultibase(signature) } };
}

/**
 * The bytes an eddsa-jcs-2022 proof signs: §3.3.3 Transformation, §3.3.5 Proof Configuration and §3.3.4 Hashing,
 * SHA-256(JCS(proofConfig)) || SHA-256(JCS(unsecuredDocument)). Throws RegistryError('bad-request') when the
 * proof configuration is not an eddsa-jcs-2022 DataIntegrityProof or has a malformed `created`.
 */
export function dataIntegrityHash(unsecuredDocument: JsonObject, proofConfig: JsonObject, memo?: CanonicalMemo): Uint8Array {
  if (proofConfig.type !== PROOF_TYPE || proofConfig.cryptosuite !== CRYPTOSUITE) {
    throw new RegistryError('bad-request', `proof is not a ${PROOF_TYPE} with cryptosuite ${CRYPTOSUITE}`);
  }
  const created = proofConfig.created;
  if (created !== undefined && (typeof created !== 'string' || !DATE_TIME_STAMP.test(created))) {
    throw new RegistryError('bad-request', 'proof created is not an XML Schema dateTimeStamp');
  }
  return concatBytes(sha256(canonicalBytes(proofConfig, memo)), sha256(canonicalBytes(unsecuredDocument, memo)));
}

/**
 * §3.3.2 Verify Proof against `publicKey` (32 bytes). Never throws for malformed documents: every failure is
 * `ok: false` with the reason.
 *
 * Per §3.3.2 step 4, when the proof has an `@context`, the document's `@context` need only start with it, and the
 * signature covers the proof's `@context`: trailing contexts added after signing are not signed.
 */
export async function verifyDataIntegrity(
  securedDocument: JsonObject,
  publicKey: Uint8Array,
  /** Keeps the canonical texts of the document's members for a caller that canonicalizes the document again. */
  memo?: CanonicalMemo,
): Promise<{ ok: boolean; detail: string }> {
  const { proof, ...unsecuredDocument } = securedDocument;
  if (!isJsonObject(proof)) return fail('document has no single proof object');
  const { proofValue, ...proofOptions } = proof;
  if (proofOptions.type !== PROOF_TYPE) return fail(`proof type is not ${PROOF_TYPE}`);
  if (proofOptions.cryptosuite !== CRYPTOSUITE) return fail(`proof cryptosuite is not ${CRYPTOSUITE}`);
  // Data Integrity §2.1: both are required.
  if (typeof proofOptions.verificationMethod !== 'string') return fail('proof has no verificationMethod');
  if (typeof proofOptions.proofPurpose !== 'string') return fail('proof has no proofPurpose');

  // Step 3 and §3.3.7: proofValue is 'z' + base58btc of the 64-byte signature.
  if (typeof proofValue !== 'string' || !proofValue.startsWith('z') || proofValue.length > MAX_PROOF_VALUE_LENGTH) {
    return fail('proofValue is not a base58btc multibase signature');
  }
  let signature: Uint8Array;
  try {
    signature = fromMultibase(proofValue);
  } catch {
    return fail('proofValue is not valid base58btc');
  }
  if (signature.length !== SIGNATURE_LENGTH) return fail(`proofValue does not hold ${SIGNATURE_LENGTH} bytes`);

  let hash: Uint8Array;
  try {
    // Step 4: the proof's @context must open the document's, and replaces it for hashing.
    const proofContext = proofOptions['@context'];
    if (proofContext !== undefined) {
      if (!startsWith(securedDocument['@context'], proofContext)) {
        return fail("document @context does not start with the proof's @context");
      }
      unsecuredDocument['@context'] = proofContext;
    }
    hash = dataIntegrityHash(unsecuredDocument, proofOptions, memo);
  } catch (error) {
    if (error instanceof RegistryError) return fail(error.detail);
    throw error;
  }
  if (!(await verifyEd25519(publicKey, hash, signature))) return fail('signature does not verify');
  return { ok: true, detail: `${CRYPTOSUITE} signature verifies` };
}

function fail(detail: string): { ok: false; detail: string } {
  return { ok: false, detail };
}

/** Whether the `@context` values of `prefix` open `context`, in order (a single value counts as a list of one). */
function startsWith(context: JsonValue | undefined, prefix: JsonValue): boolean {
  if (context === undefined) return false;
  const values = Array.isArray(context) ? context : [context];
  const prefixValues = Array.isArray(prefix) ? prefix : [prefix];
  return (
    prefixValues.length <= values.length &&
    prefixValues.every((value, i) => canonicalize(value) === canonicalize(values[i]!))
  );
}
