// A certification body at work on the command line (issue, event, import): its key file, the registry's view of the
// CB, signing documents locally and submitting them with fresh single-use JWTs, and checking every receipt.
//
// Trust: the CB's seed never leaves this process; the registry only ever sees signed documents and tokens. A receipt
// is not taken on the registry's word: the entry is rebuilt from the exact document we signed, and its inclusion is
// checked against a checkpoint signed by the log key the registry announces, so "logged" means these bytes are in the
// log's tree (and a lying log is caught by witnesses and monitors, not by this check).
import { readFileSync } from 'node:fs';
import { bytesEqual, fromHex, toHex } from '../core/bytes.js';
import { parseCheckpoint } from '../core/checkpoint.js';
import { ISSUER_SLUG, KEY_ID, verificationMethodOf } from '../core/credential.js';
import { sha256 } from '../core/crypto.js';
import { signDataIntegrity } from '../core/data-integrity.js';
import { encodeEntry, type EntryKind } from '../core/entry.js';
import { canonicalBytes } from '../core/jcs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import { leafHash, verifyInclusion } from '../core/merkle.js';
import type { Receipt } from '../registry/receipts.js';
import { encodeMultikey } from '../core/multibase.js';
import { openNote, parseSignerKey, parseVerifierKey } from '../core/note.js';
import { parseTlogProof } from '../core/tlog-proof.js';
import { readKeyFile } from './keyfile.js';
import { ProblemError, problemCode, RegistryClient, UnreachableError, type WellKnown } from './registry-client.js';
import { mintToken } from './token.js';

export interface CbKey {
  /** The CB's slug, from the key name `<slug>.<keyId>`. */
  issuer: string;
  keyId: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** What a write answers (DESIGN §Interfaces): the registry's own receipt type. */
export type { Receipt };

export interface CbSession {
  client: RegistryClient;
  key: CbKey;
  wellKnown: WellKnown;
  /** `<base>/issuers/<slug>` */
  issuerId: string;
  /** The registered name of the CB, which completeDraft puts on every certificate. */
  issuerName: string;
  /** `<issuer id>#<key id>` */
  verificationMethod: string;
}

/**
 * Reads a CB key file written by `certrail keygen --issuer SLUG --key-id ID`: a C2SP signer key named
 * `<slug>.<keyId>`, readable by its owner only (checked by readKeyFile).
 */
export async function readCbKeyFile(path: string): Promise<CbKey> {
  let name: string;
  try {
    name = (await parseSignerKey(readFileSync(path, 'utf8').trim())).name;
  } catch (error) {
    throw new Error(`cannot read the key ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const dot = name.indexOf('.');
  const issuer = name.slice(0, dot);
  const keyId = name.slice(dot + 1);
  if (dot <= 0 || !ISSUER_SLUG.test(issuer) || !KEY_ID.test(keyId)) {
    throw new Error(`${path} holds the key "${name}", not a certification body's key <slug>.<key-id> (certrail keygen --issuer)`);
  }
  const key = await readKeyFile(path, name);
  return { issuer, keyId, seed: key.seed, publicKey: key.publicKey };
}

/**
 * Opens a session: the registry's base URL (the JWT audience and the base of every id) and the CB's registration.
 * Refuses early, with a clear message, when the key is not a registered, unrevoked key of the CB.
 */
export async function openCbSession(client: RegistryClient, key: CbKey): Promise<CbSession> {
  const wellKnown = await client.wellKnown();
  let profile: JsonObject;
  try {
    profile = await client.getObject(`/api/v1/issuers/${key.issuer}`);
  } catch (error) {
    if (problemCode(error) === 'not-found') throw new Error(`${key.issuer} is not a registered certification body at ${client.url}`);
    throw error;
  }
  const keys = Array.isArray(profile.keys) ? profile.keys.filter(isJsonObject) : [];
  const registered = keys.find((k) => k.keyId === key.keyId);
  const multikey = encodeMultikey(key.publicKey);
  if (!registered) throw new Error(`key ${key.keyId} is not registered for ${key.issuer} (certrail issuer key add ${key.issuer} ${key.keyId} ${multikey})`);
  if (registered.publicKeyMultibase !== multikey) {
    throw new Error(`the registered key ${key.keyId} of ${key.issuer} is ${String(registered.publicKeyMultibase)}, not this file's ${multikey}`);
  }
  if (registered.status !== 'active') throw new Error(`key ${key.keyId} of ${key.issuer} is ${String(registered.status)}; sign with an active key`);
  if (typeof profile.name !== 'string' || typeof profile.id !== 'string') throw new Error(`${client.url} answered a malformed issuer profile`);
  return {
    client,
    key,
    wellKnown,
    issuerId: profile.id,
    issuerName: profile.name,
    verificationMethod: verificationMethodOf(profile.id, key.keyId),
  };
}

/** Signs a document with the CB key (eddsa-jcs-2022, proof `created` = now). */
export function signAsCb(session: CbSession, document: JsonObject): Promise<JsonObject> {
  return signDataIntegrity(document, {
    seed: session.key.seed,
    verificationMethod: session.verificationMethod,
    created: new Date().toISOString(),
  });
}

/** SHA-256 of the JCS bytes of a document without its proof: what stays the same when a document is signed again. */
export function contentHash(document: JsonObject): string {
  const { proof: _proof, ...content } = document;
  return toHex(sha256(canonicalBytes(content)));
}

/** Whether two documents say the same thing, whatever their proofs (JCS equality without `proof`). */
export function sameContent(a: JsonObject, b: JsonObject): boolean {
  return contentHash(a) === contentHash(b);
}

/**
 * The Idempotency-Key of an issuance: the certificate number and the hash of the unsigned content, so a retry of
 * the same request returns the original receipt and the same number with other content is refused (409).
 * At most 64 + 5 + 32 printable ASCII characters (numbers are URL-unreserved characters).
 */
export function issuanceIdempotencyKey(unsigned: JsonObject, number: string): string {
  return `cert-${number}-${contentHash(unsigned).slice(0, 32)}`;
}

const RETRIES = 4;
const RATE_RETRIES = 20;
const MAX_RATE_WAIT_S = 30;

/**
 * POSTs a signed document with a fresh token per attempt. Retries the identical bytes under the same
 * Idempotency-Key when the registry is unreachable or answers 500/503, so a write whose answer was lost is
 * answered with its original receipt and never logged twice; and after a 429 (the CB's write rate limit), waits
 * what its Retry-After asks (at most MAX_RATE_WAIT_S) and tries again, up to RATE_RETRIES times.
 */
export async function submitSigned(session: CbSession, path: string, body: JsonObject, idempotencyKey: string): Promise<Receipt> {
  for (let failures = 0, rateWaits = 0; ;) {
    try {
      const token = await mintToken({ ...session.key }, session.wellKnown.baseUrl);
      return receiptOf(await session.client.request('POST', path, { body, token, idempotencyKey }));
    } catch (error) {
      if (error instanceof ProblemError && error.status === 429 && rateWaits++ < RATE_RETRIES) {
        await sleep(Math.min(Math.max(error.retryAfter ?? 1, 1), MAX_RATE_WAIT_S) * 1000);
        continue;
      }
      const retryable = error instanceof UnreachableError
        || (error instanceof ProblemError && (error.status === 503 || error.status === 500));
      if (!retryable || ++failures >= RETRIES) throw error;
      await sleep(250 * 2 ** (failures - 1));
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function receiptOf(value: JsonValue): Receipt {
  if (isJsonObject(value)) {
    const { id, kind, index, loggedAt, leafHash: hash, tlogProof, checkpoint } = value;
    if (typeof id === 'string' && typeof kind === 'string' && typeof index === 'number' && typeof loggedAt === 'number'
      && typeof hash === 'string' && typeof tlogProof === 'string' && typeof checkpoint === 'string') {
      return { id, kind, index, loggedAt, leafHash: hash, tlogProof, checkpoint };
    }
  }
  throw new Error('the registry answered a malformed receipt');
}

/**
 * Checks that the receipt proves our exact document logged as `kind`: the entry rebuilt from the signed body and
 * the receipt's loggedAt has the receipt's leaf hash, and the tlog-proof includes it in a checkpoint signed by the
 * log key. Returns a one-line description; throws when any part fails.
 */
export async function checkReceipt(session: CbSession, receipt: Receipt, kind: EntryKind, signed: JsonObject): Promise<string> {
  const leaf = leafHash(encodeEntry(kind, receipt.loggedAt, signed));
  if (receipt.kind !== kind || !bytesEqual(leaf, fromHex(receipt.leafHash))) {
    throw new Error(`the registry's receipt for entry ${receipt.index} is not for the document this command signed`);
  }
  const proof = parseTlogProof(receipt.tlogProof);
  let text: string;
  try {
    text = (await openNote(proof.checkpoint, [parseVerifierKey(session.wellKnown.logVerifierKey)])).text;
  } catch {
    throw new Error(`the receipt's checkpoint is not signed by the log key ${session.wellKnown.logVerifierKey}`);
  }
  const checkpoint = parseCheckpoint(text);
  if (proof.index !== receipt.index || !verifyInclusion(leaf, proof.index, checkpoint.size, proof.proof, checkpoint.root)) {
    throw new Error(`the receipt's inclusion proof for entry ${receipt.index} does not verify`);
  }
  return `entry ${receipt.index} proven in the checkpoint of ${checkpoint.origin} at size ${checkpoint.size}, signed by the log key`;
}
