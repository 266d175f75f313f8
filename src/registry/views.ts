// The registry's read side: certificates with their events, status and verdict; batch verification; lookups by
// model digest; search; issuer profiles, DID documents and JWKS. Signed documents are always served from the
// logged entry bytes, never rebuilt from index rows.
import { bytesEqual, toBase64, toHex } from '../core/bytes.js';
import { BUNDLE_MEDIA_TYPE, type Bundle } from '../core/bundle.js';
import { formatTlogProof } from '../core/tlog-proof.js';
import {
  certificateIdOf,
  certificateSchema,
  issuerIdOf,
  parseCertificateId,
  parseDocument,
  splitVerificationMethod,
  statusEventSchema,
  type Certificate,
} from '../core/credential.js';
import { verifyDataIntegrity } from '../core/data-integrity.js';
import { decodeEntry } from '../core/entry.js';
import { RegistryError } from '../core/errors.js';
import { canonicalBytes } from '../core/jcs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import { keyInvalidFrom, keyValidityError, type KeyRecord } from '../core/keys.js';
import { leafHash } from '../core/merkle.js';
import { encodeMultikey } from '../core/multibase.js';
import {
  certificateFacts,
  certificateState,
  statusInputOf,
  type CertificateState,
  type StatusCertificate,
  type StatusEvent,
} from '../core/status.js';
import { check, stateChecks, verdictOf, type Check, type Verdict } from '../core/verdict.js';
import type { LogReader } from '../log/reader.js';
import { keyRecord, type CertificateRow, type CertificateSearch, type Lifecycle, type RegistryStore } from '../store/registry-store.js';

export interface LoggedEntryView {
  index: number;
  loggedAt: number;
  leafHash: string;
}

export interface CertificateView {
  id: string;
  issuer: string;
  number: string;
  issued: LoggedEntryView;
  credential: JsonObject;
  events: Array<LoggedEntryView & { event: JsonObject }>;
  state: CertificateState;
  verdict: Verdict;
}

export interface CertificateSummary {
  id: string;
  issuer: string;
  number: string;
  organization: string;
  system: string;
  status: Verdict['status'];
  surveillance: Verdict['surveillance'];
  valid: boolean;
}

/** Batch verification handles at most this many items per request. */
export const MAX_BATCH = 1000;
/** Search and model lookups return at most this many certificates per page. */
export const MAX_PAGE = 100;

const SIGNATURE_CACHE_SIZE = 100_000;
/** Bounded so the memo stays small (a history holds the parsed credential and events, tens of KB in V8). */
const HISTORY_CACHE_SIZE = 1_000;

type CertificateHistory = Omit<CertificateView, 'state' | 'verdict'> & {
  version: string;
  facts: StatusCertificate;
  inputs: StatusEvent[];
  checks: Check[];
};

export class RegistryViews {
  /** Time-independent parts of certificate views (see view()). */
  private readonly histories = new Map<string, CertificateHistory>();
  /** Verified (entry index, key id) pairs: an entry's bytes and a key's public bytes never change. */
  private readonly verified = new Map<string, boolean>();

  constructor(
    private readonly baseUrl: string,
    private readonly store: RegistryStore,
    private readonly log: LogReader,
  ) {}

  async certificate(issuer: string, number: string, now: number): Promise<CertificateView | null> {
    const row = await this.store.certificate(issuer, number);
    return row ? this.view(row, now) : null;
  }

  /**
   * A certificate's view at `now`. Everything but its status depends only on logged entries and the issuer's key
   * history, so that part is memoized per certificate, keyed by the head of its event chain and its issuer's key
   * revocations; only status and the time-dependent checks are computed per request.
   */
  private async view(row: CertificateRow, now: number): Promise<CertificateView> {
    const keyRows = await this.store.keysOf(row.issuer);
    const version = `${row.lastIndex} ${keyRows.map((k) => `${k.keyId}:${k.revokedIndex ?? ''}`).join(',')}`;
    const cacheKey = `${row.issuer}/${row.number}`;
    let history = this.histories.get(cacheKey);
    if (!history || history.version !== version) {
      history = { version, ...(await this.history(row, keyRows)) };
      if (history.checks.every((c) => c.ok)) {
        if (this.histories.size >= HISTORY_CACHE_SIZE) this.histories.clear();
        this.histories.set(cacheKey, history);
      }
    }
    const state = certificateState(history.facts, history.inputs, now);
    const { facts: _facts, inputs: _inputs, checks, version: _version, ...view } = history;
    return { ...view, state, verdict: verdictOf([...checks, ...stateChecks(state)], state) };
  }

  /** The time-independent part of a view: the logged documents and the signature, key, log and chain checks. */
  private async history(row: CertificateRow, keyRows: Awaited<ReturnType<RegistryStore['keysOf']>>) {
    const eventIndices = await this.store.eventIndices(row.issuer, row.number);
    const entries = await this.store.entriesAt([row.issuedIndex, ...eventIndices]);
    const keys = new Map(keyRows.map((k) => [k.keyId, keyRecord(k)]));
    const issuedBytes = entries.get(row.issuedIndex);
    if (!issuedBytes) throw new RegistryError('log-integrity', `entry ${row.issuedIndex} is missing`);
    const issuedEntry = decodeEntry(issuedBytes);
    const credential = parseDocument(certificateSchema, issuedEntry.body);
    const issued = { index: row.issuedIndex, loggedAt: issuedEntry.loggedAt, leafHash: leafHash(issuedBytes) };

    const checks: Check[] = [];
    const signer = await this.checkSigned(row.issuedIndex, issuedEntry.body, credential.proof.verificationMethod, keys);
    checks.push(check('signature', signer.ok, signer.detail));
    const keyError = signer.key ? keyValidityError(signer.key, issued.loggedAt) : 'no registered key';
    checks.push(check('issuer-key', keyError === null, keyError ?? `key ${signer.key?.keyId} was valid when the certificate was logged`));
    const logged = await this.log.hasLeaf(issued.index, issued.leafHash);
    checks.push(check('logged', logged, logged ? `logged at index ${issued.index}` : `entry ${issued.index} is not in the served tree`));

    const events: CertificateView['events'] = [];
    const inputs = [];
    const problems: string[] = [];
    let previous = { index: issued.index, leafHash: toHex(issued.leafHash) };
    for (const index of eventIndices) {
      const bytes = entries.get(index);
      if (!bytes) throw new RegistryError('log-integrity', `entry ${index} is missing`);
      const entry = decodeEntry(bytes);
      const event = parseDocument(statusEventSchema, entry.body);
      const hash = toHex(leafHash(bytes));
      if (event.previous.index !== previous.index || event.previous.leafHash !== previous.leafHash) {
        problems.push(`event ${index} does not follow entry ${previous.index}`);
      }
      const signed = await this.checkSigned(index, entry.body, event.proof.verificationMethod, keys);
      const eventKeyError = signed.key ? keyValidityError(signed.key, entry.loggedAt) : signed.detail;
      if (!signed.ok) problems.push(`event ${index}: ${signed.detail}`);
      else if (eventKeyError) problems.push(`event ${index}: ${eventKeyError}`);
      events.push({ index, loggedAt: entry.loggedAt, leafHash: hash, event: entry.body });
      inputs.push(statusInputOf(event, entry.loggedAt));
      previous = { index, leafHash: hash };
    }
    checks.push(
      check('events', problems.length === 0, problems.length === 0 ? `${events.length} event(s), signed and chained` : problems.join('; ')),
    );
    return {
      id: credential.id,
      issuer: row.issuer,
      number: row.number,
      issued: { index: issued.index, loggedAt: issued.loggedAt, leafHash: toHex(issued.leafHash) },
      credential: issuedEntry.body,
      events,
      facts: certificateFacts(credential),
      inputs,
      checks,
    };
  }


  /**
   * The offline bundle of a certificate (DESIGN §Formats): its issuer's registration and key entries, its issuance
   * and events, each as logged bytes with a tlog-proof against the one current checkpoint.
   */
  async bundle(issuer: string, number: string): Promise<Bundle | null> {
    const row = await this.store.certificate(issuer, number);
    const issuerRow = row ? await this.store.issuer(issuer) : null;
    if (!row || !issuerRow) return null;
    const checkpoint = await this.log.checkpoint();
    const keys = await this.store.keysOf(issuer);
    const indices = [
      issuerRow.registeredIndex,
      ...keys.flatMap((k) => (k.revokedIndex === null ? [k.addedIndex] : [k.addedIndex, k.revokedIndex])),
      row.issuedIndex,
      ...(await this.store.eventIndices(issuer, number)),
    ]
      .filter((i) => i < checkpoint.size)
      .sort((a, b) => a - b);
    const entries = await this.store.entriesAt(indices);
    return {
      mediaType: BUNDLE_MEDIA_TYPE,
      certificate: certificateIdOf(this.baseUrl, issuer, number),
      checkpoint: checkpoint.note,
      entries: await Promise.all(
        indices.map(async (index) => {
          const bytes = entries.get(index);
          if (!bytes) throw new RegistryError('log-integrity', `entry ${index} is missing`);
          const proof = await this.log.inclusionProof(index, checkpoint.size);
          return { index, entry: toBase64(bytes), tlogProof: formatTlogProof({ index, proof, checkpoint: checkpoint.note }) };
        }),
      ),
    };
  }

  /** Verifies a logged document's proof with the key its verification method names (cached per entry and key). */
  private async checkSigned(
    index: number | null,
    document: JsonObject,
    verificationMethod: string,
    keys: ReadonlyMap<string, KeyRecord>,
  ): Promise<{ ok: boolean; detail: string; key: KeyRecord | null }> {
    const method = splitVerificationMethod(verificationMethod);
    const key = method ? keys.get(method.keyId) ?? null : null;
    if (!method || !key) return { ok: false, detail: `unknown verification method ${verificationMethod}`, key: null };
    const cacheKey = index === null ? null : `${index}#${key.keyId}`;
    let ok = cacheKey ? this.verified.get(cacheKey) : undefined;
    if (ok === undefined) {
      ok = (await verifyDataIntegrity(document, key.publicKey)).ok;
      if (cacheKey) {
        if (this.verified.size >= SIGNATURE_CACHE_SIZE) this.verified.clear();
        this.verified.set(cacheKey, ok);
      }
    }
    return { ok, detail: ok ? `signed by ${verificationMethod}` : `the signature of ${verificationMethod} does not verify`, key };
  }

  /** One item of a batch: a certificate id (verify URL) or a credential, which need not be in this registry. */
  async verifyItem(item: JsonValue, now: number): Promise<{ id: string | null; verdict: Verdict }> {
    if (typeof item === 'string') {
      const parsed = parseCertificateId(this.baseUrl, item);
      const view = parsed ? await this.certificate(parsed.issuer, parsed.number, now) : null;
      return { id: item, verdict: view ? view.verdict : notFound(item) };
    }
    if (!isJsonObject(item)) return { id: null, verdict: verdictOf([check('signature', false, 'not a certificate id or credential')], null) };
    let credential: Certificate;
    try {
      credential = parseDocument(certificateSchema, item);
    } catch (error) {
      const detail = error instanceof RegistryError ? error.detail : 'not a credential';
      return { id: null, verdict: verdictOf([check('signature', false, detail)], null) };
    }
    const parsed = parseCertificateId(this.baseUrl, credential.id);
    const row = parsed ? await this.store.certificate(parsed.issuer, parsed.number) : null;
    if (row) {
      const view = await this.view(row, now);
      if (bytesEqual(canonicalBytes(view.credential), canonicalBytes(item))) return { id: credential.id, verdict: view.verdict };
    }
    // Not the logged certificate: check its signature against the issuer's registered keys, and say it is not logged.
    const issuerSlug = splitVerificationMethod(credential.proof.verificationMethod)?.issuerId.split('/issuers/')[1] ?? '';
    const ownIssuer = issuerIdOf(this.baseUrl, issuerSlug) === credential.issuer.id;
    const keys = ownIssuer ? new Map((await this.store.keysOf(issuerSlug)).map((k) => [k.keyId, keyRecord(k)])) : new Map<string, KeyRecord>();
    const signed = await this.checkSigned(null, item, credential.proof.verificationMethod, keys);
    const keyOk = signed.key !== null && now < keyInvalidFrom(signed.key);
    const checks = [
      check('signature', signed.ok, signed.ok ? signed.detail : ownIssuer ? signed.detail : 'the issuer is not registered here'),
      check('issuer-key', keyOk, keyOk ? 'the key is registered and not revoked' : 'no valid registered key'),
      check('logged', false, row ? 'differs from the certificate logged under this id' : 'not logged in this registry'),
    ];
    const state = certificateState(certificateFacts(credential), [], now);
    return { id: credential.id, verdict: verdictOf([...checks, ...stateChecks(state)], state) };
  }

  async byModel(digest: string, now: number): Promise<CertificateSummary[]> {
    const rows = await this.store.certificatesByModel(digest, MAX_PAGE);
    return Promise.all(rows.map(async (row) => summary(row, await this.view(row, now))));
  }

  /**
   * A page of search results (in issuance order) and the cursor of the next page. Time-dependent statuses
   * (expired, not-yet-valid) are filtered after computing status, so a page may hold fewer than `limit` items.
   */
  async search(
    filter: Omit<CertificateSearch, 'lifecycle'> & { status?: Verdict['status'] | undefined },
    now: number,
  ): Promise<{ items: CertificateSummary[]; next: string | null }> {
    const lifecycle: Lifecycle | undefined =
      filter.status === 'revoked' || filter.status === 'suspended' ? filter.status : filter.status ? 'active' : undefined;
    const rows = await this.store.search({ ...filter, lifecycle });
    const items: CertificateSummary[] = [];
    for (const row of rows) {
      const view = await this.view(row, now);
      if (!filter.status || view.state.status === filter.status) items.push(summary(row, view));
    }
    const last = rows.at(-1);
    return { items, next: rows.length === filter.limit && last ? encodeCursor(last.issuedIndex) : null };
  }

  async issuers() {
    return (await this.store.issuerList()).map((row) => ({
      id: issuerIdOf(this.baseUrl, row.slug),
      slug: row.slug,
      name: row.name,
      managedSigning: row.managedSigning,
      registeredAt: new Date(row.registeredAt).toISOString(),
    }));
  }

  async issuer(slug: string, now: number) {
    const row = await this.store.issuer(slug);
    if (!row) return null;
    const [entries, keys] = await Promise.all([this.store.entriesAt([row.registeredIndex]), this.store.keysOf(slug)]);
    const registration = entries.get(row.registeredIndex);
    if (!registration) throw new RegistryError('log-integrity', `entry ${row.registeredIndex} is missing`);
    return {
      id: issuerIdOf(this.baseUrl, slug),
      slug,
      name: row.name,
      managedSigning: row.managedSigning,
      registration: { index: row.registeredIndex, loggedAt: row.registeredAt, document: decodeEntry(registration).body },
      keys: keys.map((k) => {
        const record = keyRecord(k);
        const invalidFrom = keyInvalidFrom(record);
        return {
          keyId: k.keyId,
          publicKeyMultibase: encodeMultikey(record.publicKey),
          addedAt: new Date(k.addedAt).toISOString(),
          addedIndex: k.addedIndex,
          revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
          compromisedAt: k.compromisedAt === null ? null : new Date(k.compromisedAt).toISOString(),
          validUntil: Number.isFinite(invalidFrom) ? new Date(invalidFrom).toISOString() : null,
          status: now >= invalidFrom ? 'revoked' : 'active',
        };
      }),
    };
  }

  /** Keys usable now (not revoked), for the DID document and the JWKS. */
  async activeKeys(slug: string, now: number): Promise<KeyRecord[] | null> {
    if (!(await this.store.issuer(slug))) return null;
    return (await this.store.keysOf(slug)).map(keyRecord).filter((k) => now < keyInvalidFrom(k));
  }
}

function notFound(id: string): Verdict {
  return verdictOf([check('logged', false, `${id} is not found in this registry`)], null);
}

function summary(row: CertificateRow, view: CertificateView): CertificateSummary {
  return {
    id: view.id,
    issuer: row.issuer,
    number: row.number,
    organization: row.organization,
    system: row.systemName,
    status: view.verdict.status,
    surveillance: view.verdict.surveillance,
    valid: view.verdict.valid,
  };
}

/** Cursors are opaque to clients: the base64url of the last issued index seen. */
export function encodeCursor(index: number): string {
  return btoa(`i${index}`).replace(/=+$/, '');
}

export function decodeCursor(cursor: string): number {
  let text: string;
  try {
    text = atob(cursor);
  } catch {
    throw new RegistryError('bad-request', 'cursor: malformed');
  }
  const match = /^i(0|[1-9][0-9]{0,15})$/.exec(text);
  if (!match) throw new RegistryError('bad-request', 'cursor: malformed');
  return Number(match[1]);
}
