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
import {
  foldedStateOf,
  keyRecord,
  type CertificateRow,
  type CertificateSearch,
  type EventRow,
  type Lifecycle,
  type RegistryStore,
  type VerdictRow,
} from '../store/registry-store.js';

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

/** Bounded so the memo stays small (a history holds the parsed credential and events, tens of KB in V8). */
const HISTORY_CACHE_SIZE = 1_000;

/** A certificate's logged documents, decoded: what a full view shows besides its verdict. */
interface CertificateHistory {
  /** The certificate's latest entry when decoded: a history is current while the row's last index is this. */
  lastIndex: number;
  view: Omit<CertificateView, 'state' | 'verdict'>;
  facts: StatusCertificate;
  inputs: StatusEvent[];
  /** The key id of the issuance's proof. */
  keyId: string;
  /** Each event's index, signing key id and loggedAt. */
  events: EventRow[];
}

type KeyRows = Awaited<ReturnType<RegistryStore['keysOf']>>;

/**
 * What the verdicts of one request share: each issuer's keys and the served tree size, read once per request (so a
 * batch of a thousand ids reads them once, and a key revocation still counts from the next request on).
 */
export class ReadContext {
  private readonly keys = new Map<string, Promise<KeyRows>>();
  private size: Promise<number> | null = null;

  constructor(
    private readonly store: RegistryStore,
    private readonly log: LogReader,
  ) {}

  keysOf(issuer: string): Promise<KeyRows> {
    let keys = this.keys.get(issuer);
    if (!keys) {
      keys = this.store.keysOf(issuer);
      this.keys.set(issuer, keys);
    }
    return keys;
  }

  servedSize(): Promise<number> {
    this.size ??= this.log.checkpoint().then((c) => c.size);
    return this.size;
  }
}

/** The verdict of a certificate in the registry, with the ids it is served under. */
export interface CertificateVerdict {
  id: string;
  issuer: string;
  number: string;
  verdict: Verdict;
}

/**
 * Read side of certificates. Verdicts are computed from index rows: the certificate row holds the verdict facts (the
 * signing key, the state folded over every event, see FoldedState), and the issuer's keys are read on every request,
 * so a key revocation counts at once. The signatures of logged documents were verified by the registry when it logged
 * them (Registry.verifySignature), so the server relies on that check instead of repeating it; bundles carry the
 * entries and proofs for clients that verify for themselves.
 */
export class RegistryViews {
  /** Decoded documents of recently viewed certificates (full views only). */
  private readonly histories = new Map<string, CertificateHistory>();

  constructor(
    private readonly baseUrl: string,
    private readonly store: RegistryStore,
    private readonly log: LogReader,
  ) {}

  /** The full view of a certificate at `now`: its logged documents, state and verdict. */
  async certificate(issuer: string, number: string, now: number): Promise<CertificateView | null> {
    const row = await this.store.certificate(issuer, number);
    return row ? this.view(row, now) : null;
  }

  /** The verdict of a certificate at `now` (what `GET /v/{issuer}/{number}` serves as JSON). */
  async verdict(issuer: string, number: string, now: number, context = this.context()): Promise<CertificateVerdict | null> {
    const row = await this.store.verdictRow(issuer, number);
    return row ? { id: certificateIdOf(this.baseUrl, issuer, number), issuer, number, verdict: await this.verdictOf(row, now, context) } : null;
  }

  /** The shared reads of one request's verdicts (pass one to every verifyItem of a batch). */
  context(): ReadContext {
    return new ReadContext(this.store, this.log);
  }

  /**
   * A verdict from the row alone when it has the verdict facts and `now` is at or after its latest entry; otherwise
   * (a row an older writer left, or a time before the latest event) from the full view, which replays the entries.
   */
  private async verdictOf(row: VerdictRow, now: number, context: ReadContext): Promise<Verdict> {
    const folded = foldedStateOf(row);
    if (folded === null || row.keyId === null || row.eventCount === null || row.stateAt === null || now < row.stateAt) {
      return this.replayedVerdict(row, now);
    }
    const keyRows = await context.keysOf(row.issuer);
    // Event keys matter only once a key of the issuer was revoked: until then every event's key was valid when logged.
    const events = row.eventCount > 0 && keyRows.some((k) => k.revokedIndex !== null) ? await this.store.events(row.issuer, row.number) : null;
    if (events?.some((e) => e.keyId === null || e.loggedAt === null)) return this.replayedVerdict(row, now);
    const checks = this.authenticity(row, row.keyId, keyRows, events, row.eventCount, await context.servedSize());
    const state = certificateState(folded.certificate, folded.events, now);
    return verdictOf([...checks, ...stateChecks(state)], state);
  }

  /** The verdict of the full view, which replays the certificate's entries. */
  private async replayedVerdict(row: VerdictRow, now: number): Promise<Verdict> {
    const full = await this.store.certificate(row.issuer, row.number);
    if (!full) throw new RegistryError('log-integrity', `certificate ${row.number} of ${row.issuer} vanished`);
    return (await this.view(full, now)).verdict;
  }

  /**
   * A certificate's view at `now`. Its documents depend only on logged entries, so they are memoized per certificate
   * (keyed by the head of its event chain); the verdict is computed per request.
   */
  private async view(row: CertificateRow, now: number): Promise<CertificateView> {
    const cacheKey = `${row.issuer}/${row.number}`;
    let history = this.histories.get(cacheKey);
    if (!history || history.lastIndex !== row.lastIndex) {
      history = await this.history(row);
      if (this.histories.size >= HISTORY_CACHE_SIZE) this.histories.clear();
      this.histories.set(cacheKey, history);
    }
    const keyRows = await this.store.keysOf(row.issuer);
    const checks = this.authenticity(row, history.keyId, keyRows, history.events, history.events.length, (await this.log.checkpoint()).size);
    const folded = foldedStateOf(row);
    // The folded state replays to the same state as the events from the latest entry on; before it, replay them.
    const state =
      folded !== null && row.stateAt !== null && now >= row.stateAt
        ? certificateState(folded.certificate, folded.events, now)
        : certificateState(history.facts, history.inputs, now);
    return { ...history.view, state, verdict: verdictOf([...checks, ...stateChecks(state)], state) };
  }

  /**
   * The time-independent checks of a logged certificate: its signature (verified when logged), its key's validity
   * when it was logged, its presence in the served tree, and each event's key's validity when that was logged.
   * `events` may be null when no key of the issuer was ever revoked (no event key can then be invalid).
   */
  private authenticity(
    row: VerdictRow,
    keyId: string,
    keyRows: KeyRows,
    events: readonly EventRow[] | null,
    eventCount: number,
    servedSize: number,
  ): Check[] {
    const keys = new Map(keyRows.map((k) => [k.keyId, keyRecord(k)]));
    const method = `${issuerIdOf(this.baseUrl, row.issuer)}#${keyId}`;
    const key = keys.get(keyId);
    const checks: Check[] = [];
    checks.push(check('signature', key !== undefined, key ? `signed by ${method}` : `unknown verification method ${method}`));
    const keyError = key ? keyValidityError(key, row.loggedAt) : 'no registered key';
    checks.push(check('issuer-key', keyError === null, keyError ?? `key ${keyId} was valid when the certificate was logged`));
    const logged = row.issuedIndex < servedSize;
    checks.push(check('logged', logged, logged ? `logged at index ${row.issuedIndex}` : `entry ${row.issuedIndex} is not in the served tree`));
    const problems: string[] = [];
    for (const event of events ?? []) {
      const eventKey = keys.get(event.keyId ?? '');
      const error = eventKey ? keyValidityError(eventKey, event.loggedAt ?? 0) : `unknown verification method ${issuerIdOf(this.baseUrl, row.issuer)}#${event.keyId}`;
      if (error) problems.push(`event ${event.idx}: ${error}`);
    }
    checks.push(check('events', problems.length === 0, problems.length === 0 ? `${eventCount} event(s), signed and chained` : problems.join('; ')));
    return checks;
  }

  /** The logged documents of a certificate, decoded from its entries. */
  private async history(row: CertificateRow): Promise<CertificateHistory> {
    const eventRows = await this.store.events(row.issuer, row.number);
    const entries = await this.store.entriesAt([row.issuedIndex, ...eventRows.map((e) => e.idx)]);
    const issuedBytes = entries.get(row.issuedIndex);
    if (!issuedBytes) throw new RegistryError('log-integrity', `entry ${row.issuedIndex} is missing`);
    const issuedEntry = decodeEntry(issuedBytes);
    const credential = parseDocument(certificateSchema, issuedEntry.body);
    const events: CertificateView['events'] = [];
    const inputs = [];
    const signers: EventRow[] = [];
    for (const { idx } of eventRows) {
      const bytes = entries.get(idx);
      if (!bytes) throw new RegistryError('log-integrity', `entry ${idx} is missing`);
      const entry = decodeEntry(bytes);
      const event = parseDocument(statusEventSchema, entry.body);
      events.push({ index: idx, loggedAt: entry.loggedAt, leafHash: toHex(leafHash(bytes)), event: entry.body });
      inputs.push(statusInputOf(event, entry.loggedAt));
      signers.push({ idx, keyId: splitVerificationMethod(event.proof.verificationMethod)?.keyId ?? null, loggedAt: entry.loggedAt });
    }
    return {
      lastIndex: row.lastIndex,
      view: {
        id: credential.id,
        issuer: row.issuer,
        number: row.number,
        issued: { index: row.issuedIndex, loggedAt: issuedEntry.loggedAt, leafHash: toHex(leafHash(issuedBytes)) },
        credential: issuedEntry.body,
        events,
      },
      facts: certificateFacts(credential),
      inputs,
      keyId: splitVerificationMethod(credential.proof.verificationMethod)?.keyId ?? '',
      events: signers,
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

  /** Verifies a document's proof with the key its verification method names. */
  private async checkSigned(
    document: JsonObject,
    verificationMethod: string,
    keys: ReadonlyMap<string, KeyRecord>,
  ): Promise<{ ok: boolean; detail: string; key: KeyRecord | null }> {
    const method = splitVerificationMethod(verificationMethod);
    const key = method ? keys.get(method.keyId) ?? null : null;
    if (!method || !key) return { ok: false, detail: `unknown verification method ${verificationMethod}`, key: null };
    const ok = (await verifyDataIntegrity(document, key.publicKey)).ok;
    return { ok, detail: ok ? `signed by ${verificationMethod}` : `the signature of ${verificationMethod} does not verify`, key };
  }

  /** One item of a batch: a certificate id (verify URL) or a credential, which need not be in this registry. */
  async verifyItem(item: JsonValue, now: number, context = this.context()): Promise<{ id: string | null; verdict: Verdict }> {
    if (typeof item === 'string') {
      const parsed = parseCertificateId(this.baseUrl, item);
      const found = parsed ? await this.verdict(parsed.issuer, parsed.number, now, context) : null;
      return { id: item, verdict: found ? found.verdict : notFound(item) };
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
    const signed = await this.checkSigned(item, credential.proof.verificationMethod, keys);
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
    const context = this.context();
    return Promise.all(rows.map(async (row) => summary(row, certificateIdOf(this.baseUrl, row.issuer, row.number), await this.verdictOf(row, now, context))));
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
    const context = this.context();
    for (const row of rows) {
      const verdict = await this.verdictOf(row, now, context);
      if (!filter.status || verdict.status === filter.status) items.push(summary(row, certificateIdOf(this.baseUrl, row.issuer, row.number), verdict));
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

function summary(row: CertificateRow, id: string, verdict: Verdict): CertificateSummary {
  return {
    id,
    issuer: row.issuer,
    number: row.number,
    organization: row.organization,
    system: row.systemName,
    status: verdict.status,
    surveillance: verdict.surveillance,
    valid: verdict.valid,
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
