// The monitor's checks of every log entry, replayed in log order (DESIGN §Trust model): entries are well-formed JCS,
// sequencing times never go backwards, issuer entries are signed by the registry key, certificates and status events
// by a logged key of their issuer that was valid at the entry's loggedAt (as the log knew the key then: a later
// revocation naming an earlier compromise is not misbehaviour of the log, but the certificates and events it
// invalidates, those logged under the key at or after the compromise time, are reported as `key-compromised` when the
// revocation is read), and each certificate's events form an unbroken hash chain (each names the previous entry of its
// certificate).
//
// Decoding, schema checks and signatures are done per entry without state (src/monitor/analyze.ts, in worker threads);
// this pass applies the analyzed facts in log order inside the caller's transaction, updating the mirrored state, and
// returns as jobs the signatures the analysis could not check (their key was logged after the analysis started).
import { verifyDataIntegrity } from '../core/data-integrity.js';
import { decodeEntry } from '../core/entry.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import { keyValidityError } from '../core/keys.js';
import { splitVerificationMethod } from '../core/credential.js';
import type { AnalyzedEntry } from './analyze.js';
import type { MirrorCounts, MonitorStore, StoredKey } from './store.js';

export type EntryAnomalyKind =
  | 'malformed-entry'
  | 'time-backwards'
  | 'bad-signature'
  | 'key-invalid'
  | 'key-compromised'
  | 'unknown-key'
  | 'unknown-issuer'
  | 'unknown-certificate'
  | 'duplicate'
  | 'broken-chain';

export interface EntryAnomaly {
  kind: EntryAnomalyKind;
  index: number;
  detail: string;
}

export interface SignatureJob {
  index: number;
  body: JsonObject;
  publicKey: Uint8Array;
  /** Who should have signed, for the report. */
  signer: string;
}

export class EntryChecker {
  /** Every logged issuer key by `issuer#keyId` (there are few): the analysis gets a snapshot of them. */
  private readonly keys = new Map<string, StoredKey>();

  constructor(
    private readonly store: MonitorStore,
    readonly counts: MirrorCounts,
    /** loggedAt of the last entry checked so far (0 for an empty log). */
    public lastLoggedAt: number,
  ) {
    for (const key of store.allKeys()) this.keys.set(`${key.issuer}#${key.keyId}`, key);
  }

  /** The public keys known so far, for an analysis request. */
  keySnapshot(): Array<[string, Uint8Array]> {
    return [...this.keys].map(([ref, key]) => [ref, key.publicKey]);
  }

  /**
   * Applies analyzed entries, in log order, to the mirrored state (keys, certificate chain heads, counts) through the
   * store; returns the anomalies found and the signatures still to verify.
   */
  apply(analyzed: readonly AnalyzedEntry[], leafHashes: readonly string[]): { anomalies: EntryAnomaly[]; jobs: SignatureJob[] } {
    const anomalies: EntryAnomaly[] = [];
    const jobs: SignatureJob[] = [];
    analyzed.forEach((a, i) => {
      const index = a.index;
      this.counts.entries++;
      if (a.loggedAt !== null) {
        if (a.loggedAt < this.lastLoggedAt) {
          anomalies.push({
            kind: 'time-backwards',
            index,
            detail: `entry ${index} was logged at ${new Date(a.loggedAt).toISOString()}, before the entry ahead of it (${new Date(this.lastLoggedAt).toISOString()})`,
          });
        }
        this.lastLoggedAt = Math.max(this.lastLoggedAt, a.loggedAt);
      }
      if (a.fact === null) {
        const what = a.kind === null ? 'is not a Certrail log entry' : `(${a.kind}) is malformed`;
        anomalies.push({ kind: 'malformed-entry', index, detail: `entry ${index} ${what}: ${a.error ?? 'unreadable'}` });
        return;
      }
      if (a.signature === 'bad') {
        anomalies.push({ kind: 'bad-signature', index, detail: `entry ${index} (${a.kind}): the signature does not verify (${a.detail ?? 'invalid'})` });
      }
      this.applyFact(a, leafHashes[i]!, anomalies, jobs, () => analyzed.slice(0, i));
    });
    return { anomalies, jobs };
  }

  private putKey(key: StoredKey): void {
    this.keys.set(`${key.issuer}#${key.keyId}`, key);
    this.store.putKey(key);
  }

  /** `earlier`: the entries of this batch before `a` (not in the store yet). */
  private applyFact(a: AnalyzedEntry, hash: string, anomalies: EntryAnomaly[], jobs: SignatureJob[], earlier: () => readonly AnalyzedEntry[]): void {
    const { index } = a;
    const fact = a.fact!;
    const loggedAt = a.loggedAt!;
    switch (fact.kind) {
      case 'issuer.registered': {
        this.counts.issuers++;
        if (this.store.issuerIndex(fact.id) !== null) {
          anomalies.push({ kind: 'duplicate', index, detail: `entry ${index} registers ${fact.id} again` });
        } else {
          this.store.addIssuer(fact.id, index);
        }
        return;
      }
      case 'issuer.key.added': {
        this.counts.keysAdded++;
        if (this.store.issuerIndex(fact.issuer) === null) {
          anomalies.push({ kind: 'unknown-issuer', index, detail: `entry ${index} adds a key to ${fact.issuer}, which is not registered before it` });
        }
        if (this.keys.has(`${fact.issuer}#${fact.keyId}`)) {
          anomalies.push({ kind: 'duplicate', index, detail: `entry ${index} adds key ${fact.keyId} of ${fact.issuer} again` });
        } else {
          this.putKey({ issuer: fact.issuer, keyId: fact.keyId, publicKey: fact.publicKey, addedAt: loggedAt, revokedAt: undefined, compromisedAt: undefined });
        }
        return;
      }
      case 'issuer.key.revoked': {
        this.counts.keysRevoked++;
        const key = this.keys.get(`${fact.issuer}#${fact.keyId}`);
        if (!key) {
          anomalies.push({ kind: 'unknown-key', index, detail: `entry ${index} revokes key ${fact.keyId} of ${fact.issuer}, which was never added` });
        } else if (key.revokedAt !== undefined) {
          anomalies.push({ kind: 'duplicate', index, detail: `entry ${index} revokes key ${fact.keyId} of ${fact.issuer} again` });
        } else {
          this.putKey({ ...key, revokedAt: loggedAt, compromisedAt: fact.compromisedAt });
          if (fact.compromisedAt !== undefined && fact.compromisedAt < loggedAt) {
            const since = new Date(fact.compromisedAt).toISOString();
            for (const hit of this.signedSince(fact.issuer, fact.keyId, fact.compromisedAt, index, earlier())) {
              anomalies.push({
                kind: 'key-compromised',
                index: hit.index,
                detail: `${hit.what} (entry ${hit.index}) was logged under key ${fact.keyId} of ${fact.issuer} after its compromise at ${since}, as the revocation in entry ${index} states`,
              });
            }
          }
        }
        return;
      }
      case 'certificate.issued': {
        this.counts.certificates++;
        if (this.store.issuerIndex(fact.issuer) === null) {
          anomalies.push({ kind: 'unknown-issuer', index, detail: `certificate ${fact.id} (entry ${index}) names ${fact.issuer}, which is not registered` });
        }
        this.signedByIssuer(a, fact.method, fact.issuer, loggedAt, `certificate ${fact.id}`, anomalies, jobs);
        if (this.store.certificate(fact.id)) {
          anomalies.push({ kind: 'duplicate', index, detail: `entry ${index} issues ${fact.id} again` });
          return;
        }
        this.store.putCertificate({ id: fact.id, issuer: fact.issuer, issuedIndex: index, headIndex: index, headLeafHash: hash, events: 0 });
        return;
      }
      case 'certificate.event': {
        this.counts.events++;
        const certificate = this.store.certificate(fact.certificate);
        if (!certificate) {
          anomalies.push({
            kind: 'unknown-certificate',
            index,
            detail: `event ${index} (${fact.event}) is about ${fact.certificate}, which was not issued before it`,
          });
          return;
        }
        if (fact.previous.index !== certificate.headIndex || fact.previous.leafHash !== certificate.headLeafHash) {
          anomalies.push({
            kind: 'broken-chain',
            index,
            detail: `event ${index} (${fact.event}) of ${fact.certificate} names previous entry ${fact.previous.index}, but its certificate's last entry is ${certificate.headIndex}`,
          });
        }
        this.signedByIssuer(a, fact.method, certificate.issuer, loggedAt, `event ${index} of ${fact.certificate}`, anomalies, jobs);
        this.store.putCertificate({ ...certificate, headIndex: index, headLeafHash: hash, events: certificate.events + 1 });
        return;
      }
    }
  }

  /**
   * The certificates and events signed by `issuer#keyId` and logged at or after `from`, before entry `before`: the
   * batch's own earlier entries, then the stored ones, newest first, until loggedAt falls below `from` (sequencing
   * times never go backwards; where they do, that is reported as time-backwards).
   */
  private signedSince(issuer: string, keyId: string, from: number, before: number, earlier: readonly AnalyzedEntry[]): Array<{ index: number; what: string }> {
    const found: Array<{ index: number; what: string }> = [];
    const signedByKey = (method: unknown) => {
      const parts = typeof method === 'string' ? splitVerificationMethod(method) : null;
      return parts !== null && parts.issuerId === issuer && parts.keyId === keyId;
    };
    for (let k = earlier.length - 1; k >= 0; k--) {
      const { fact, loggedAt, index } = earlier[k]!;
      if (loggedAt !== null && loggedAt < from) return found;
      if (fact?.kind === 'certificate.issued' && signedByKey(fact.method)) found.push({ index, what: `certificate ${fact.id}` });
      if (fact?.kind === 'certificate.event' && signedByKey(fact.method)) found.push({ index, what: `event ${index} (${fact.event}) of ${fact.certificate}` });
    }
    for (let end = earlier[0]?.index ?? before; end > 0; end -= 256) {
      const start = Math.max(0, end - 256);
      const page = this.store.entries(start, end);
      for (let k = page.length - 1; k >= 0; k--) {
        let entry;
        try {
          entry = decodeEntry(page[k]!);
        } catch {
          continue; // reported as malformed when it was mirrored
        }
        if (entry.loggedAt < from) return found;
        const proof = entry.body.proof;
        if (!isJsonObject(proof) || !signedByKey(proof.verificationMethod)) continue;
        const what = entry.kind === 'certificate.issued' ? `certificate ${String(entry.body.id)}` : `event ${start + k} of ${String(entry.body.certificate)}`;
        found.push({ index: start + k, what });
      }
    }
    return found;
  }

  /** The signer must be a logged key of `issuer`, valid at loggedAt as the log knew it then; its signature verifies. */
  private signedByIssuer(a: AnalyzedEntry, verificationMethod: string, issuer: string, loggedAt: number, what: string, anomalies: EntryAnomaly[], jobs: SignatureJob[]): void {
    const { index } = a;
    const method = splitVerificationMethod(verificationMethod);
    if (!method || method.issuerId !== issuer) {
      anomalies.push({ kind: 'bad-signature', index, detail: `${what} is signed by ${verificationMethod}, not by a key of ${issuer}` });
      return;
    }
    const key = this.keys.get(`${issuer}#${method.keyId}`);
    if (!key) {
      anomalies.push({ kind: 'unknown-key', index, detail: `${what} is signed by ${verificationMethod}, a key not logged before it` });
      return;
    }
    const invalid = keyValidityError(key, loggedAt);
    if (invalid) anomalies.push({ kind: 'key-invalid', index, detail: `${what} (entry ${index}): ${invalid}` });
    if (a.signature === 'unchecked' && a.body) jobs.push({ index, body: a.body, publicKey: key.publicKey, signer: verificationMethod });
  }
}

/** Verifies every job's Data Integrity proof, `concurrency` at a time; the failures as anomalies, by index. */
export async function verifySignatures(jobs: readonly SignatureJob[], concurrency = 64): Promise<EntryAnomaly[]> {
  const anomalies: EntryAnomaly[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const result = await verifyDataIntegrity(job.body, job.publicKey);
      if (!result.ok) {
        anomalies.push({ kind: 'bad-signature', index: job.index, detail: `entry ${job.index}: the signature of ${job.signer} does not verify (${result.detail})` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return anomalies.sort((a, b) => a.index - b.index);
}
