// The per-entry work of the monitor that needs no state: decode the entry (canonical JCS), parse its document against
// its schema, extract the facts the stateful checks need (src/monitor/entries.ts), and verify its signature when the
// signing key is already known. It runs in worker threads (src/monitor/pool.ts) so that a catch-up uses every core;
// the stateful checks stay on the main thread, in log order.
import {
  certificateSchema,
  issuerKeyAddedSchema,
  issuerKeyRevokedSchema,
  issuerRegistrationSchema,
  parseDocument,
  splitVerificationMethod,
  statusEventSchema,
  toMillis,
} from '../core/credential.js';
import { verifyDataIntegrity } from '../core/data-integrity.js';
import { decodeEntry, type EntryKind } from '../core/entry.js';
import { RegistryError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { decodeMultikey } from '../core/multibase.js';
import { decodeEntryBundle } from '../core/tiles.js';

/** What an entry states, for the stateful checks. `method` is the signer's verification method (issuer#keyId). */
export type EntryFact =
  | { kind: 'issuer.registered'; id: string }
  | { kind: 'issuer.key.added'; issuer: string; keyId: string; publicKey: Uint8Array }
  | { kind: 'issuer.key.revoked'; issuer: string; keyId: string; compromisedAt: number | undefined }
  | { kind: 'certificate.issued'; id: string; issuer: string; method: string }
  | { kind: 'certificate.event'; certificate: string; event: string; previous: { index: number; leafHash: string }; method: string };

export interface AnalyzedEntry {
  index: number;
  /** Null when the entry is malformed (then `error` says why). */
  kind: EntryKind | null;
  loggedAt: number | null;
  fact: EntryFact | null;
  error: string | null;
  /**
   * The signature: `ok`, `bad` (with `detail`), or `unchecked` when the signing key was not known to the analysis
   * (the main thread then verifies `body` with the key from its state).
   */
  signature: 'ok' | 'bad' | 'unchecked' | 'none';
  detail: string | null;
  body: JsonObject | null;
}

/** Keys known to an analysis: `issuer#keyId` → Ed25519 public key. */
export type KeySnapshot = ReadonlyMap<string, Uint8Array>;

export interface AnalyzeRequest {
  start: number;
  /** An entry bundle (uint16-length-prefixed entries), `count` entries. */
  bundle: Uint8Array;
  count: number;
  /** Entries before `skip` in the bundle were analyzed before. */
  skip: number;
  keys: ReadonlyArray<readonly [string, Uint8Array]>;
  registryKey: Uint8Array | null;
}

function message(error: unknown): string {
  return error instanceof RegistryError ? error.detail : error instanceof Error ? error.message : String(error);
}

/** Decodes and parses one entry and names the key its signature needs (null: the registry key). */
function factOf(bytes: Uint8Array): { kind: EntryKind; loggedAt: number; body: JsonObject; fact: EntryFact; signer: string | null } {
  const entry = decodeEntry(bytes);
  const { kind, body, loggedAt } = entry;
  switch (kind) {
    case 'issuer.registered': {
      const doc = parseDocument(issuerRegistrationSchema, body);
      return { kind, loggedAt, body, fact: { kind, id: doc.id }, signer: null };
    }
    case 'issuer.key.added': {
      const doc = parseDocument(issuerKeyAddedSchema, body);
      return { kind, loggedAt, body, fact: { kind, issuer: doc.issuer, keyId: doc.keyId, publicKey: decodeMultikey(doc.publicKeyMultibase) }, signer: null };
    }
    case 'issuer.key.revoked': {
      const doc = parseDocument(issuerKeyRevokedSchema, body);
      const compromisedAt = doc.compromisedAt === undefined ? undefined : toMillis(doc.compromisedAt);
      return { kind, loggedAt, body, fact: { kind, issuer: doc.issuer, keyId: doc.keyId, compromisedAt }, signer: null };
    }
    case 'certificate.issued': {
      const doc = parseDocument(certificateSchema, body);
      const method = doc.proof.verificationMethod;
      return { kind, loggedAt, body, fact: { kind, id: doc.id, issuer: doc.issuer.id, method }, signer: method };
    }
    case 'certificate.event': {
      const doc = parseDocument(statusEventSchema, body);
      const method = doc.proof.verificationMethod;
      return {
        kind,
        loggedAt,
        body,
        fact: { kind, certificate: doc.certificate, event: doc.kind, previous: doc.previous, method },
        signer: method,
      };
    }
  }
}

/** The key a verification method names in the snapshot, or null. */
function keyFor(method: string, keys: KeySnapshot): Uint8Array | null {
  const parts = splitVerificationMethod(method);
  return parts ? keys.get(`${parts.issuerId}#${parts.keyId}`) ?? null : null;
}

/** Analyzes one entry; never throws. */
export async function analyzeEntry(index: number, bytes: Uint8Array, keys: KeySnapshot, registryKey: Uint8Array | null): Promise<AnalyzedEntry> {
  let parsed: ReturnType<typeof factOf>;
  try {
    parsed = factOf(bytes);
  } catch (error) {
    // A second, cheaper attempt for the report: which kind and time it claims, if it decodes at all.
    let kind: EntryKind | null = null;
    let loggedAt: number | null = null;
    try {
      ({ kind, loggedAt } = decodeEntry(bytes));
    } catch {
      // not even a log entry
    }
    return { index, kind, loggedAt, fact: null, error: message(error), signature: 'none', detail: null, body: null };
  }
  const { kind, loggedAt, body, fact, signer } = parsed;
  const key = signer === null ? registryKey : keyFor(signer, keys);
  if (key === null) {
    // Issuer entries when no registry key is known are left unchecked for good; others wait for the main thread.
    const signature = signer === null ? 'none' : 'unchecked';
    return { index, kind, loggedAt, fact, error: null, signature, detail: null, body: signature === 'unchecked' ? body : null };
  }
  const result = await verifyDataIntegrity(body, key);
  return { index, kind, loggedAt, fact, error: null, signature: result.ok ? 'ok' : 'bad', detail: result.ok ? null : result.detail, body: null };
}

/** Analyzes the entries of a bundle, `concurrency` signatures in flight; results in log order. */
export async function analyzeBundle(request: AnalyzeRequest, concurrency = 32): Promise<AnalyzedEntry[]> {
  const entries = decodeEntryBundle(request.bundle, request.count).slice(request.skip);
  const keys = new Map(request.keys);
  const out = new Array<AnalyzedEntry>(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await analyzeEntry(request.start + i, entries[i]!, keys, request.registryKey);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  return out;
}
