// Offline bundles (DESIGN §Formats, Offline bundle) and their verification, the SDK's `verifyBundle`. A bundle holds
// a certificate's issuance, its status events and its issuer's registration and key entries, each as the exact
// logged bytes with a C2SP tlog-proof against one checkpoint. Given only a trust policy (the log's verifier key,
// optionally the registry key and witnesses with a quorum) it yields the same verdict as the API, with no network.
//
// Pure: no node: imports, so it runs in Node, browsers and Workers.
import { fromBase64, toHex } from './bytes.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  certificateSchema,
  issuerKeyAddedSchema,
  issuerKeyRevokedSchema,
  issuerRegistrationSchema,
  parseDocument,
  splitVerificationMethod,
  statusEventSchema,
  toMillis,
  type Certificate,
  type StatusEvent,
} from './credential.js';
import { verifyDataIntegrity } from './data-integrity.js';
import { decodeEntry, type LogEntry } from './entry.js';
import { RegistryError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { keyValidityError, type KeyRecord } from './keys.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { decodeMultikey } from './multibase.js';
import { openNote, parseNote, parseVerifierKey, SIG_TYPE_COSIGNATURE_V1, type NoteVerifier } from './note.js';
import { certificateFacts, certificateState, statusInputOf, type StatusEvent as StatusInput } from './status.js';
import { parseTlogProof } from './tlog-proof.js';
import { check, stateChecks, verdictOf, type Check, type Verdict } from './verdict.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.certrail.bundle+json';
/** A bundle names at most this many entries (a certificate's events plus its issuer's key history). */
export const MAX_BUNDLE_ENTRIES = 10_000;

export interface BundleEntry {
  index: number;
  /** The entry's exact bytes, standard base64. */
  entry: string;
  /** C2SP tlog-proof of the entry against the bundle's checkpoint. */
  tlogProof: string;
}

export interface Bundle {
  mediaType: typeof BUNDLE_MEDIA_TYPE;
  /** The certificate id (verify URL) the bundle is about. */
  certificate: string;
  /** The signed checkpoint, with any witness cosignatures. */
  checkpoint: string;
  /** Entries in log order: the issuer's registration and key entries, the issuance and every status event. */
  entries: BundleEntry[];
}

/**
 * What the verifier trusts, modelled on C2SP tlog-policy: the log's verifier key, the registry key that signs issuer
 * entries (Multikey; when absent, issuer entries are trusted as logged), and witnesses with how many must cosign.
 */
export interface TrustPolicy {
  log: string;
  registryKey?: string | undefined;
  witnesses?: readonly string[] | undefined;
  quorum?: number | undefined;
}

export interface BundleVerdict extends Verdict {
  certificate: string | null;
  checkpoint: { origin: string; size: number } | null;
}

interface Logged {
  index: number;
  bytes: Uint8Array;
  leafHash: Uint8Array;
  entry: LogEntry;
  /** Whether the entry's tlog-proof verified against the bundle's checkpoint. */
  included: boolean;
}

function fail(checks: Check[], certificate: string | null, checkpoint: Checkpoint | null): BundleVerdict {
  return {
    ...verdictOf(checks, null),
    certificate,
    checkpoint: checkpoint ? { origin: checkpoint.origin, size: checkpoint.size } : null,
  };
}

/** Reads a bundle from parsed JSON, refusing anything that is not one (RegistryError 'bad-request'). */
export function parseBundle(value: JsonValue): Bundle {
  if (!isJsonObject(value) || value.mediaType !== BUNDLE_MEDIA_TYPE) {
    throw new RegistryError('bad-request', `not a ${BUNDLE_MEDIA_TYPE} document`);
  }
  const { certificate, checkpoint, entries } = value;
  if (typeof certificate !== 'string' || typeof checkpoint !== 'string' || !Array.isArray(entries)) {
    throw new RegistryError('bad-request', 'bundle needs certificate, checkpoint and entries');
  }
  if (entries.length > MAX_BUNDLE_ENTRIES) throw new RegistryError('bad-request', `bundle has more than ${MAX_BUNDLE_ENTRIES} entries`);
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    certificate,
    checkpoint,
    entries: entries.map((e) => {
      if (!isJsonObject(e) || typeof e.index !== 'number' || !Number.isSafeInteger(e.index) || e.index < 0
        || typeof e.entry !== 'string' || typeof e.tlogProof !== 'string') {
        throw new RegistryError('bad-request', 'bundle entries need index, entry and tlogProof');
      }
      return { index: e.index, entry: e.entry, tlogProof: e.tlogProof };
    }),
  };
}

/**
 * Verification results that do not depend on the certificate, memoized across bundles: a batch of bundles usually
 * shares one checkpoint and its issuers' registry-signed key entries. Keys are the exact inputs (the note text, or the
 * entry's leaf hash, which is SHA-256 of its bytes, and the trusted key), so a hit is the same verification; the maps
 * are bounded.
 */
const MEMO_SIZE = 1024;
const checkpointMemo = new Map<string, Promise<{ checks: Check[]; checkpoint: Checkpoint | null }>>();
const registrySignedMemo = new Map<string, Promise<boolean>>();

/**
 * Entries decoded and checked for inclusion, memoized the same way: bundles of one issuer's certificates all carry its
 * registration and key entries, with the same proofs against the same checkpoint. Keyed by the entry, its proof and
 * the checkpoint note; the decoded entries are shared between verdicts (nothing here modifies a Logged or its entry).
 * Fewer of them: an entry costs kilobytes.
 */
const ENTRY_MEMO_SIZE = 256;
const entryMemo = new Map<string, Logged>();

/**
 * `compute()`'s value for `key`, computed once while the memo holds it. A throw is not remembered; a rejected promise
 * is (the promise is the value).
 */
function memoized<T>(memo: Map<string, T>, size: number, key: string, compute: () => T): T {
  let value = memo.get(key);
  if (value === undefined) {
    value = compute();
    if (memo.size >= size) memo.clear();
    memo.set(key, value);
  }
  return value;
}

/** Decodes an entry and checks its tlog-proof against the checkpoint; throws on a malformed entry or proof. */
function provenEntry(e: BundleEntry, checkpointNote: string, checkpointText: string, cp: Checkpoint): Logged {
  // Proofs and notes hold newlines: the lengths keep the parts apart, so that no two inputs share a key.
  const key = `${e.index} ${e.entry.length} ${e.tlogProof.length} ${e.entry}${e.tlogProof}${checkpointNote}`;
  return memoized(entryMemo, ENTRY_MEMO_SIZE, key, () => {
    const bytes = fromBase64(e.entry);
    const hash = leafHash(bytes);
    const proof = parseTlogProof(e.tlogProof);
    // Each proof usually carries the bundle's checkpoint itself; otherwise its signed text must be the same tree.
    const sameTree = proof.index === e.index && (proof.checkpoint === checkpointNote || parseNote(proof.checkpoint).text === checkpointText);
    const included = sameTree && verifyInclusion(hash, e.index, cp.size, proof.proof, cp.root);
    return { index: e.index, bytes, leafHash: hash, entry: decodeEntry(bytes), included };
  });
}

/** Opens the checkpoint with the log key and counts witness cosignatures against the policy's quorum. */
function checkCheckpoint(note: string, policy: TrustPolicy): Promise<{ checks: Check[]; checkpoint: Checkpoint | null }> {
  const key = JSON.stringify([note, policy.log, policy.witnesses ?? [], policy.quorum ?? 0]);
  return memoized(checkpointMemo, MEMO_SIZE, key, () => openCheckpoint(note, policy));
}

async function openCheckpoint(note: string, policy: TrustPolicy): Promise<{ checks: Check[]; checkpoint: Checkpoint | null }> {
  let log: NoteVerifier;
  let witnesses: NoteVerifier[];
  try {
    log = parseVerifierKey(policy.log);
    witnesses = (policy.witnesses ?? []).map(parseVerifierKey);
  } catch (error) {
    return { checks: [check('signature', false, `the trust policy is malformed: ${message(error)}`)], checkpoint: null };
  }
  const quorum = policy.quorum ?? 0;
  let verifiedNames: string[];
  let text: string;
  try {
    // Only the log key must verify here; witness signatures are counted below (an unknown or failing witness
    // signature must not make the log's own signature unusable).
    const opened = await openNote(note, [log]);
    text = opened.text;
    verifiedNames = [];
    const lines = parseNote(note).signatures;
    for (const witness of witnesses) {
      const line = lines.find((s) => s.name === witness.name && toHex(s.keyId) === toHex(witness.keyId));
      if (!line) continue;
      try {
        const cosigned = await openNote(`${text}\n${line.line}\n`, [witness]);
        if (cosigned.verified.length > 0) verifiedNames.push(witness.name);
      } catch {
        // a failing cosignature counts as absent
      }
    }
  } catch (error) {
    return { checks: [check('checkpoint', false, `the checkpoint is not signed by the log key: ${message(error)}`)], checkpoint: null };
  }
  const checkpoint = parseCheckpoint(text);
  const checks: Check[] = [
    check('checkpoint', true, `checkpoint of ${checkpoint.origin} at size ${checkpoint.size}, signed by the log key`),
    check(
      'witnesses',
      verifiedNames.length >= quorum,
      `${verifiedNames.length} of ${witnesses.length} witness(es) cosigned${quorum > 0 ? `; the policy needs ${quorum}` : ''}`,
    ),
  ];
  if (witnesses.some((w) => w.type !== SIG_TYPE_COSIGNATURE_V1)) {
    checks.push(check('witnesses', false, 'witness keys must be cosignature/v1 keys'));
  }
  return { checks, checkpoint };
}

function message(error: unknown): string {
  return error instanceof RegistryError ? error.detail : error instanceof Error ? error.message : String(error);
}

/**
 * Verifies a bundle offline. `now` (ms) is the time at which status is judged; events logged after it are ignored.
 * Never throws on a malformed or tampered bundle: every failure is a failed, named check.
 */
export async function verifyBundle(bundle: Bundle, policy: TrustPolicy, options: { now: number }): Promise<BundleVerdict> {
  const opened = await checkCheckpoint(bundle.checkpoint, policy);
  const cp = opened.checkpoint;
  if (!cp) return fail(opened.checks, bundle.certificate, null);
  const checks = [...opened.checks];

  // Every entry: its bytes, leaf hash and inclusion in the checkpoint's tree.
  const checkpointText = parseNote(bundle.checkpoint).text;
  const logged: Logged[] = [];
  for (const e of bundle.entries) {
    try {
      logged.push(provenEntry(e, bundle.checkpoint, checkpointText, cp));
    } catch (error) {
      checks.push(check('logged', false, `entry ${e.index} is malformed: ${message(error)}`));
      return fail(checks, bundle.certificate, cp);
    }
  }
  logged.sort((a, b) => a.index - b.index);

  // The certificate and its issuer's key history.
  const issuedEntries = logged.filter((l) => l.entry.kind === 'certificate.issued' && l.entry.body.id === bundle.certificate);
  if (issuedEntries.length !== 1) {
    checks.push(check('logged', false, `the bundle holds ${issuedEntries.length} issuance(s) of ${bundle.certificate}`));
    return fail(checks, bundle.certificate, cp);
  }
  const issued = issuedEntries[0]!;
  let credential: Certificate;
  try {
    credential = parseDocument(certificateSchema, issued.entry.body);
  } catch (error) {
    checks.push(check('signature', false, `the certificate is malformed: ${message(error)}`));
    return fail(checks, bundle.certificate, cp);
  }
  const keys = await issuerKeys(logged, credential.issuer.id, policy, checks);

  const signer = await checkProof(issued.entry.body, credential.proof.verificationMethod, credential.issuer.id, keys);
  checks.push(check('signature', signer.ok, signer.detail));
  const keyError = signer.key ? keyValidityError(signer.key, issued.entry.loggedAt) : 'the signing key is not in the bundle';
  checks.push(check('issuer-key', keyError === null, keyError ?? `key ${signer.key?.keyId} was valid when the certificate was logged`));
  checks.push(
    check(
      'logged',
      issued.included,
      issued.included
        ? `logged at index ${issued.index} at ${new Date(issued.entry.loggedAt).toISOString()}, proven in the checkpoint of size ${cp.size}`
        : `the inclusion proof of entry ${issued.index} does not verify`,
    ),
  );

  // The event chain: each event names the previous entry of this certificate; each is signed and proven.
  const problems: string[] = [];
  const inputs: StatusInput[] = [];
  let previous = { index: issued.index, leafHash: toHex(issued.leafHash) };
  const events = logged.filter((l) => l.entry.kind === 'certificate.event' && l.entry.body.certificate === bundle.certificate);
  for (const l of events) {
    let event: StatusEvent;
    try {
      event = parseDocument(statusEventSchema, l.entry.body);
    } catch (error) {
      problems.push(`event ${l.index} is malformed: ${message(error)}`);
      continue;
    }
    if (!l.included) problems.push(`the inclusion proof of event ${l.index} does not verify`);
    if (event.previous.index !== previous.index || event.previous.leafHash !== previous.leafHash) {
      problems.push(`event ${l.index} does not follow entry ${previous.index}: the chain is broken`);
    }
    const signed = await checkProof(l.entry.body, event.proof.verificationMethod, credential.issuer.id, keys);
    const eventKeyError = signed.key ? keyValidityError(signed.key, l.entry.loggedAt) : signed.detail;
    if (!signed.ok) problems.push(`event ${l.index}: ${signed.detail}`);
    else if (eventKeyError) problems.push(`event ${l.index}: ${eventKeyError}`);
    inputs.push(statusInputOf(event, l.entry.loggedAt));
    previous = { index: l.index, leafHash: toHex(l.leafHash) };
  }
  checks.push(check('events', problems.length === 0, problems.length === 0 ? `${events.length} event(s), signed, chained and proven` : problems.join('; ')));

  const state = certificateState(certificateFacts(credential), inputs, options.now);
  checks.push(...stateChecks(state));
  return { ...verdictOf(checks, state), certificate: bundle.certificate, checkpoint: { origin: cp.origin, size: cp.size } };
}

/**
 * The issuer's keys as the bundle's issuer entries log them. Each entry must be proven in the checkpoint and, when
 * the policy names the registry key, signed by it; entries failing either are ignored (and reported).
 */
async function issuerKeys(logged: readonly Logged[], issuerId: string, policy: TrustPolicy, checks: Check[]): Promise<Map<string, KeyRecord>> {
  const registryKey = policy.registryKey ? decodeMultikey(policy.registryKey) : null;
  const keys = new Map<string, KeyRecord>();
  const problems: string[] = [];
  for (const l of logged) {
    const { kind, body, loggedAt } = l.entry;
    if (!kind.startsWith('issuer.') || body.issuer !== issuerId && body.id !== issuerId) continue;
    if (!l.included) {
      problems.push(`issuer entry ${l.index} is not proven in the checkpoint`);
      continue;
    }
    const signedByRegistry = registryKey
      ? memoized(registrySignedMemo, MEMO_SIZE, `${policy.registryKey} ${toHex(l.leafHash)}`, async () => (await verifyDataIntegrity(body, registryKey)).ok)
      : Promise.resolve(true);
    if (!(await signedByRegistry)) {
      problems.push(`issuer entry ${l.index} is not signed by the registry key`);
      continue;
    }
    try {
      if (kind === 'issuer.registered') {
        parseDocument(issuerRegistrationSchema, body);
      } else if (kind === 'issuer.key.added') {
        const added = parseDocument(issuerKeyAddedSchema, body);
        keys.set(added.keyId, { keyId: added.keyId, publicKey: decodeMultikey(added.publicKeyMultibase), addedAt: loggedAt });
      } else if (kind === 'issuer.key.revoked') {
        const revoked = parseDocument(issuerKeyRevokedSchema, body);
        const key = keys.get(revoked.keyId);
        if (key) {
          key.revokedAt = loggedAt;
          if (revoked.compromisedAt !== undefined) key.compromisedAt = toMillis(revoked.compromisedAt);
        }
      }
    } catch (error) {
      problems.push(`issuer entry ${l.index} is malformed: ${message(error)}`);
    }
  }
  if (problems.length > 0) checks.push(check('issuer-key', false, problems.join('; ')));
  return keys;
}

async function checkProof(
  document: JsonObject,
  verificationMethod: string,
  issuerId: string,
  keys: ReadonlyMap<string, KeyRecord>,
): Promise<{ ok: boolean; detail: string; key: KeyRecord | null }> {
  const method = splitVerificationMethod(verificationMethod);
  const key = method && method.issuerId === issuerId ? keys.get(method.keyId) ?? null : null;
  if (!key) return { ok: false, detail: `${verificationMethod} is not a logged key of the issuer`, key: null };
  const result = await verifyDataIntegrity(document, key.publicKey);
  return { ok: result.ok, detail: result.ok ? `signed by ${verificationMethod}` : `the signature of ${verificationMethod} does not verify`, key };
}
