// Test support: a monitor's replay of the whole log. Reads every entry (from the log store or over the C2SP
// tlog-tiles entry endpoints), decodes it, groups certificate entries by certificate in log order, walks each
// certificate's hash chain (every event names the previous entry of its certificate: index and leaf hash) and
// computes status with the one pure function, certificateState, from the replayed entries alone. It deliberately
// does not use the registry's index tables or its own history code (Registry's certificate history, statusInputOf).
import { fromHex, toHex } from '../../src/core/bytes.js';
import { parseCheckpoint } from '../../src/core/checkpoint.js';
import { decodeEntry, type EntryKind } from '../../src/core/entry.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { leafHash } from '../../src/core/merkle.js';
import { openNote, parseVerifierKey } from '../../src/core/note.js';
import {
  certificateState,
  type CertificateState,
  type EventKind,
  type StatusCertificate,
  type StatusEvent,
} from '../../src/core/status.js';
import { decodeEntryBundle, entriesPath, TILE_WIDTH } from '../../src/core/tiles.js';

export interface ReplayedEntry {
  index: number;
  leafHash: string;
  loggedAt: number;
  kind: EntryKind;
  body: JsonObject;
}

export interface ReplayedCertificate {
  id: string;
  issued: ReplayedEntry;
  /** The certificate.event entries naming this certificate, in log order. */
  events: ReplayedEntry[];
  /** Broken links of the certificate's hash chain (empty when every event follows the previous entry). */
  chainErrors: string[];
}

export interface Replay {
  entries: ReplayedEntry[];
  certificates: Map<string, ReplayedCertificate>;
  /** Problems that are not about one chain: events of unknown certificates, duplicate issuances. */
  errors: string[];
}

function member(object: JsonObject, path: string): JsonValue | undefined {
  let value: JsonValue | undefined = object;
  for (const key of path.split('.')) value = isJsonObject(value) ? value[key] : undefined;
  return value;
}

function stringAt(object: JsonObject, path: string): string {
  const value = member(object, path);
  if (typeof value !== 'string') throw new Error(`replay: ${path} is not a string`);
  return value;
}

function optionalString(object: JsonObject, path: string): string | undefined {
  const value = member(object, path);
  return typeof value === 'string' ? value : undefined;
}

/** Decodes every entry and groups the certificate entries by certificate id, checking each chain. */
export function replayLog(entries: readonly Uint8Array[]): Replay {
  const decoded: ReplayedEntry[] = entries.map((bytes, index) => {
    const entry = decodeEntry(bytes);
    return { index, leafHash: toHex(leafHash(bytes)), loggedAt: entry.loggedAt, kind: entry.kind, body: entry.body };
  });
  const certificates = new Map<string, ReplayedCertificate>();
  const errors: string[] = [];
  for (const entry of decoded) {
    if (entry.kind === 'certificate.issued') {
      const id = stringAt(entry.body, 'id');
      if (certificates.has(id)) errors.push(`entry ${entry.index}: ${id} issued twice`);
      else certificates.set(id, { id, issued: entry, events: [], chainErrors: [] });
    } else if (entry.kind === 'certificate.event') {
      const id = stringAt(entry.body, 'certificate');
      const certificate = certificates.get(id);
      if (!certificate) {
        errors.push(`entry ${entry.index}: event of ${id}, which was not issued before it`);
        continue;
      }
      const prior = certificate.events.at(-1) ?? certificate.issued;
      const previous = member(entry.body, 'previous');
      const index = isJsonObject(previous) ? previous.index : undefined;
      const hash = isJsonObject(previous) ? previous.leafHash : undefined;
      if (index !== prior.index || hash !== prior.leafHash) {
        certificate.chainErrors.push(
          `entry ${entry.index} names previous ${JSON.stringify(previous)}, but ${id}'s prior entry is ${prior.index} ${prior.leafHash}`,
        );
      }
      certificate.events.push(entry);
    }
  }
  return { entries: decoded, certificates, errors };
}

/** The status-relevant facts of a replayed issuance, read from the logged credential. */
export function replayedFacts(certificate: ReplayedCertificate): StatusCertificate {
  const body = certificate.issued.body;
  const intervalMonths = member(body, 'credentialSubject.certificate.surveillance.intervalMonths');
  return {
    validFrom: stringAt(body, 'validFrom'),
    validUntil: stringAt(body, 'validUntil'),
    scope: stringAt(body, 'credentialSubject.certificate.scope'),
    surveillance: {
      intervalMonths: typeof intervalMonths === 'number' ? intervalMonths : 0,
      firstDueBy: stringAt(body, 'credentialSubject.certificate.surveillance.firstDueBy'),
    },
  };
}

/** A replayed event as the input of certificateState (its force counts from the entry's loggedAt). */
export function replayedEvent(entry: ReplayedEntry): StatusEvent {
  const body = entry.body;
  const kind = stringAt(body, 'kind') as EventKind;
  const outcome = optionalString(body, 'audit.outcome');
  return {
    kind,
    loggedAt: entry.loggedAt,
    effective: stringAt(body, 'effective'),
    reason: optionalString(body, 'reason'),
    audit:
      kind === 'surveillance-audit'
        ? { outcome: outcome as 'passed' | 'passed-with-findings' | 'failed', nextDueBy: stringAt(body, 'audit.nextDueBy') }
        : undefined,
    validUntil: kind === 'recertified' ? stringAt(body, 'validUntil') : undefined,
    scope: kind === 'scope-changed' ? stringAt(body, 'scope') : undefined,
  };
}

/** Status at `now` from the replayed entries alone. */
export function replayedState(certificate: ReplayedCertificate, now: number): CertificateState {
  return certificateState(replayedFacts(certificate), certificate.events.map(replayedEvent), now);
}

/**
 * Reads the whole log over HTTP as a tlog client does: the signed checkpoint (verified with the log's verifier key),
 * then every entry bundle up to its size.
 */
export async function fetchLogEntries(
  url: string,
  logVerifierKey: string,
): Promise<{ size: number; root: Uint8Array; entries: Uint8Array[] }> {
  const note = await (await fetch(`${url}/log/checkpoint`)).text();
  const checkpoint = parseCheckpoint((await openNote(note, [parseVerifierKey(logVerifierKey)])).text);
  const entries: Uint8Array[] = [];
  for (let start = 0; start < checkpoint.size; start += TILE_WIDTH) {
    const width = Math.min(TILE_WIDTH, checkpoint.size - start);
    const res = await fetch(`${url}/log/${entriesPath(start / TILE_WIDTH, width)}`);
    if (res.status !== 200) throw new Error(`entry bundle ${start / TILE_WIDTH}.p/${width}: HTTP ${res.status}`);
    entries.push(...decodeEntryBundle(new Uint8Array(await res.arrayBuffer()), width));
  }
  return { size: checkpoint.size, root: checkpoint.root, entries };
}

/** The leaf hashes of `entries`, as bytes (for recomputing a root). */
export function leafHashesOf(replay: Replay): Uint8Array[] {
  return replay.entries.map((e) => fromHex(e.leafHash));
}
