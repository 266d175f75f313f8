// Log entries (leaves): JCS bytes of { v: 1, kind, loggedAt, body } (DESIGN §Formats, Log entry). `loggedAt` is the
// log's sequencing time in milliseconds, the only time by which validity is judged; `body` is the signed document.
import { canonicalBytes, type CanonicalMemo } from './jcs.js';
import { isJsonObject, parseJsonBytes, type JsonObject } from './json.js';
import { RegistryError } from './errors.js';
import { bytesEqual } from './bytes.js';

export const ENTRY_KINDS = [
  'issuer.registered',
  'issuer.key.added',
  'issuer.key.revoked',
  'certificate.issued',
  'certificate.event',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** C2SP tlog-tiles entry bundles carry uint16 lengths, so no entry may exceed 65,535 bytes. */
export const MAX_ENTRY_BYTES = 65_535;

export interface LogEntry {
  v: 1;
  kind: EntryKind;
  loggedAt: number;
  body: JsonObject;
}

/** `memo`: the canonical texts of parts of `body` the caller already canonicalized (its signature check). */
export function encodeEntry(kind: EntryKind, loggedAt: number, body: JsonObject, memo?: CanonicalMemo): Uint8Array {
  if (!Number.isSafeInteger(loggedAt) || loggedAt < 0) throw new RegistryError('bad-request', 'loggedAt must be a non-negative integer');
  const bytes = canonicalBytes({ v: 1, kind, loggedAt, body }, memo);
  if (bytes.length > MAX_ENTRY_BYTES) {
    throw new RegistryError('entry-too-large', `the log entry would be ${bytes.length} bytes; at most ${MAX_ENTRY_BYTES}`);
  }
  return bytes;
}

/** Parses an entry, requiring it to be exactly the JCS form of itself (so one entry has one byte string). */
export function decodeEntry(bytes: Uint8Array): LogEntry {
  const value = parseJsonBytes(bytes);
  if (!isJsonObject(value)) throw new RegistryError('bad-request', 'log entry is not a JSON object');
  const { v, kind, loggedAt, body } = value;
  if (v !== 1) throw new RegistryError('bad-request', 'unsupported log entry version');
  if (typeof kind !== 'string' || !(ENTRY_KINDS as readonly string[]).includes(kind)) {
    throw new RegistryError('bad-request', 'unknown log entry kind');
  }
  if (typeof loggedAt !== 'number' || !Number.isSafeInteger(loggedAt) || loggedAt < 0) {
    throw new RegistryError('bad-request', 'log entry loggedAt is not a timestamp');
  }
  if (!isJsonObject(body) || Object.keys(value).length !== 4) throw new RegistryError('bad-request', 'malformed log entry');
  if (!bytesEqual(canonicalBytes(value), bytes)) throw new RegistryError('bad-request', 'log entry is not canonical JCS');
  return { v: 1, kind: kind as EntryKind, loggedAt, body };
}
