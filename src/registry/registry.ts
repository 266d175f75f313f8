// The registry's write side: registering certification bodies and their keys (operator), issuing certificates and
// recording status events (certification bodies). Every act is one log entry, validated against the current state
// under a per-certificate lock, then appended through the single sequencer together with its index rows.
//
// Trust: the registry never alters a CB-signed document; it checks the signature against the CB's registered key and
// logs the document as posted (canonicalized by JCS, which the signature already covers). It signs only issuer
// documents (with the registry key) and, for CBs that opted in, drafts with the CB's managed key.
import { bytesEqual, toHex } from '../core/bytes.js';
import {
  asJsonObject,
  certificateDraftSchema,
  certificateIdOf,
  certificateSchema,
  completeDraft,
  ISSUER_SLUG,
  issuerIdOf,
  parseDocument,
  splitVerificationMethod,
  statusEventDraftSchema,
  statusEventSchema,
  toMillis,
  unsignedIssuerKeyAddedSchema,
  unsignedIssuerKeyRevokedSchema,
  unsignedIssuerRegistrationSchema,
  type Certificate,
  type CertrailDocument,
  type StatusEvent,
} from '../core/credential.js';
import { ed25519PublicKey, sha256 } from '../core/crypto.js';
import { signDataIntegrity, verifyDataIntegrity } from '../core/data-integrity.js';
import { decodeEntry, encodeEntry, type EntryKind } from '../core/entry.js';
import { RegistryError } from '../core/errors.js';
import { canonicalBytes, type CanonicalMemo } from '../core/jcs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import { keyInvalidFrom, type KeyRecord } from '../core/keys.js';
import { decodeMultikey, encodeMultikey } from '../core/multibase.js';
import { certificateFacts, certificateState, statusInputOf, transitionError } from '../core/status.js';
import type { LogReader } from '../log/reader.js';
import type { Sequencer } from '../log/sequencer.js';
import type { IndexWrite } from '../store/log-store.js';
import { foldedStateOf, foldState, keyRecord, type FoldedState, type Lifecycle, type RegistryStore } from '../store/registry-store.js';
import { KeyedMutex } from './keyed-mutex.js';
import { buildReceipt, receiptOf, type LoggedEntry, type Receipt } from './receipts.js';

/** Who is acting: a certification body (by its slug) or the operator, with the token id to burn with the write. */
export interface Actor {
  issuer: string;
  keyId: string;
  jti: string;
  expiresAt: number;
  /** The token's key as read when authenticating, so that a document signed with it needs no second read. */
  key?: KeyRecord;
}

/** The registry's own signing key (issuer documents, operator tokens). */
export interface RegistryKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** Keys the registry holds for CBs that opted into managed signing. */
export interface ManagedKeyStore {
  get(issuer: string): Promise<{ keyId: string; seed: Uint8Array } | null>;
  create(issuer: string, keyId: string): Promise<{ keyId: string; seed: Uint8Array }>;
}

export interface RegistryDeps {
  baseUrl: string;
  store: RegistryStore;
  /** The log's single writer (in Node, an ElectedSequencer: it refuses appends in a process that does not lead). */
  sequencer: Pick<Sequencer, 'append'>;
  log: LogReader;
  registryKey: RegistryKey;
  managedKeys: ManagedKeyStore;
  now?: () => number;
}

export interface IssuerInput {
  slug: string;
  name: string;
  accreditation?: JsonObject | undefined;
  managedSigning: boolean;
  keys: Array<{ keyId: string; publicKeyMultibase: string }>;
}

/** The key id the registry gives the managed key of a CB. */
export const MANAGED_KEY_ID = 'managed-1';

/** Slugs no certification body may take: the operator's token issuer. */
const RESERVED_SLUGS = new Set(['registry']);

function registryMethod(baseUrl: string): string {
  return `${baseUrl}/.well-known/certrail#registry`;
}

/** What an Idempotency-Key is bound to: the certificate the write targets and the exact request body. */
function requestHash(target: string, body: JsonValue): Uint8Array {
  return sha256(canonicalBytes([target, body]));
}

const LIFECYCLE_AFTER: Partial<Record<StatusEvent['kind'], Lifecycle>> = {
  suspended: 'suspended',
  reinstated: 'active',
  revoked: 'revoked',
};

/** How often the burnt token ids that expired are deleted, with the next write. */
export const TOKEN_PRUNE_INTERVAL_MS = 60_000;

export class Registry {
  private readonly locks = new KeyedMutex();
  private readonly now: () => number;
  /** The sequencing time from which the next entry also deletes expired token ids. */
  private nextTokenPrune = 0;

  constructor(private readonly deps: RegistryDeps) {
    this.now = deps.now ?? Date.now;
  }

  // --- operator ----------------------------------------------------------------------------------------------

  /** Registers a CB (issuer.registered) and its keys (issuer.key.added), creating a managed key if it opted in. */
  async registerIssuer(actor: Actor, input: IssuerInput): Promise<Receipt[]> {
    if (!ISSUER_SLUG.test(input.slug) || RESERVED_SLUGS.has(input.slug)) {
      throw new RegistryError('bad-request', `slug: ${JSON.stringify(input.slug)} is not an available issuer slug`);
    }
    const { baseUrl, store } = this.deps;
    const issuerId = issuerIdOf(baseUrl, input.slug);
    const registration = parseDocument(
      unsignedIssuerRegistrationSchema,
      asJsonObject({
        type: 'IssuerRegistration',
        id: issuerId,
        name: input.name,
        ...(input.accreditation ? { accreditation: input.accreditation } : {}),
        managedSigning: input.managedSigning,
      } as CertrailDocument),
    );
    const keys = input.keys.map((k) => ({ keyId: k.keyId, publicKey: decodeMultikey(k.publicKeyMultibase) }));
    if (!input.managedSigning && keys.length === 0) {
      throw new RegistryError('bad-request', 'keys: a CB without managed signing needs at least one key');
    }
    if (new Set(keys.map((k) => k.keyId)).size !== keys.length) throw new RegistryError('bad-request', 'keys: duplicate keyId');
    return this.locks.run([`issuer:${input.slug}`], async () => {
      if (await store.issuer(input.slug)) throw new RegistryError('conflict', `issuer ${input.slug} is already registered`);
      if (input.managedSigning && !keys.some((k) => k.keyId === MANAGED_KEY_ID)) {
        const managed = (await this.deps.managedKeys.get(input.slug)) ?? (await this.deps.managedKeys.create(input.slug, MANAGED_KEY_ID));
        keys.push({ keyId: managed.keyId, publicKey: await ed25519PublicKey(managed.seed) });
      }
      const signed = await this.signAsRegistry(asJsonObject(registration));
      const appends = [
        this.append('issuer.registered', signed, actor, (index, _leaf, loggedAt) => [
          store.insertIssuer({ slug: input.slug, name: input.name, managedSigning: input.managedSigning, registeredIndex: index, registeredAt: loggedAt }),
        ]),
      ];
      for (const key of keys) appends.push(this.appendKeyAdded(input.slug, key.keyId, key.publicKey, null));
      const logged = await Promise.all(appends);
      return Promise.all(logged.map((entry) => receiptOf(this.deps.log, entry, issuerId)));
    });
  }

  async addIssuerKey(actor: Actor, slug: string, keyId: string, publicKeyMultibase: string): Promise<Receipt> {
    const publicKey = decodeMultikey(publicKeyMultibase);
    return this.locks.run([`issuer:${slug}`], async () => {
      await this.requireIssuer(slug);
      if (await this.deps.store.key(slug, keyId)) throw new RegistryError('conflict', `key ${keyId} of ${slug} already exists`);
      const logged = await this.appendKeyAdded(slug, keyId, publicKey, actor);
      return receiptOf(this.deps.log, logged, issuerIdOf(this.deps.baseUrl, slug));
    });
  }

  /** Revokes a key; with `compromisedAt`, everything logged under it from that time on becomes invalid. */
  async revokeIssuerKey(actor: Actor, slug: string, keyId: string, reason: string, compromisedAt?: string): Promise<Receipt> {
    const now = this.now();
    if (compromisedAt !== undefined && toMillis(compromisedAt) > now) {
      throw new RegistryError('bad-request', 'compromisedAt: must not be in the future');
    }
    const { store, baseUrl } = this.deps;
    const issuerId = issuerIdOf(baseUrl, slug);
    const document = parseDocument(
      unsignedIssuerKeyRevokedSchema,
      asJsonObject({ type: 'IssuerKeyRevoked', issuer: issuerId, keyId, reason, ...(compromisedAt ? { compromisedAt } : {}) } as CertrailDocument),
    );
    return this.locks.run([`issuer:${slug}`], async () => {
      await this.requireIssuer(slug);
      const key = await store.key(slug, keyId);
      if (!key) throw new RegistryError('not-found', `issuer ${slug} has no key ${keyId}`);
      if (key.revokedIndex !== null) throw new RegistryError('conflict', `key ${keyId} of ${slug} is already revoked`);
      const signed = await this.signAsRegistry(asJsonObject(document));
      const logged = await this.append('issuer.key.revoked', signed, actor, (i, _leaf, loggedAt) => [
        store.revokeKey(slug, keyId, i, loggedAt, compromisedAt !== undefined ? toMillis(compromisedAt) : null),
      ]);
      return receiptOf(this.deps.log, logged, issuerId);
    });
  }

  // --- certification bodies ----------------------------------------------------------------------------------

  /** Logs a certificate: a credential the CB signed, or a draft the registry signs with the CB's managed key. */
  async issueCertificate(actor: Actor, body: JsonValue, idempotencyKey?: string): Promise<Receipt> {
    const issuer = await this.requireIssuer(actor.issuer);
    const credential = isJsonObject(body) && 'proof' in body
      ? parseDocument(certificateSchema, body)
      : await this.signDraftCertificate(actor.issuer, issuer.name, issuer.managedSigning, body);
    const number = credential.credentialSubject.certificate.number;
    const expectedId = certificateIdOf(this.deps.baseUrl, actor.issuer, number);
    if (credential.issuer.id !== issuerIdOf(this.deps.baseUrl, actor.issuer)) {
      throw new RegistryError('forbidden', `a certification body can only issue under its own issuer id`);
    }
    if (credential.id !== expectedId) throw new RegistryError('bad-request', `id: must be ${expectedId}`);
    // The signature check canonicalizes the credential's members; its entry reuses them (the credential is not modified).
    const canonical: CanonicalMemo = new WeakMap();
    const keyId = await this.verifySignature(actor, actor.issuer, asJsonObject(credential), credential.proof.verificationMethod, canonical);
    return this.idempotent(actor, idempotencyKey, expectedId, body, [`certificate:${actor.issuer}/${number}`], async () => {
      const { store } = this.deps;
      if (await store.certificate(actor.issuer, number)) {
        throw new RegistryError('conflict', `certificate ${number} of ${actor.issuer} already exists`);
      }
      const subject = credential.credentialSubject;
      const state = foldState(certificateFacts(credential), []);
      return this.append('certificate.issued', asJsonObject(credential), actor, (i, leaf, loggedAt) => [
        ...store.insertCertificate(
          {
            issuer: actor.issuer,
            number,
            issuedIndex: i,
            loggedAt,
            lastIndex: i,
            lastLeafHash: leaf,
            lifecycle: 'active',
            organization: subject.organization.name,
            systemName: subject.system.name,
            validFrom: toMillis(credential.validFrom),
            validUntil: toMillis(credential.validUntil),
            keyId,
          },
          state,
          subject.models.map((m) => m.digest),
          subject.certificate.standards.map((s) => s.id),
        ),
        ...this.idempotencyWrite(actor, idempotencyKey, expectedId, body, i),
      ], canonical);
    });
  }

  /** Logs a status event for one of the actor's certificates, chained to the certificate's previous entry. */
  async recordEvent(actor: Actor, issuerSlug: string, number: string, body: JsonValue, idempotencyKey?: string): Promise<Receipt> {
    if (actor.issuer !== issuerSlug) throw new RegistryError('forbidden', 'a certification body can only act on its own certificates');
    const issuer = await this.requireIssuer(issuerSlug);
    const certificateId = certificateIdOf(this.deps.baseUrl, issuerSlug, number);
    const signed = isJsonObject(body) && 'proof' in body;
    return this.idempotent(actor, idempotencyKey, certificateId, body, [`certificate:${issuerSlug}/${number}`], async () => {
      const { store } = this.deps;
      const row = await store.certificate(issuerSlug, number);
      if (!row) throw new RegistryError('not-found', `certificate ${number} of ${issuerSlug} does not exist`);
      const head = { index: row.lastIndex, leafHash: toHex(row.lastLeafHash) };
      const event = signed
        ? parseDocument(statusEventSchema, body)
        : await this.signDraftEvent(issuerSlug, issuer.managedSigning, body, certificateId, head);
      if (event.certificate !== certificateId) throw new RegistryError('bad-request', `certificate: must be ${certificateId}`);
      if (event.previous.index !== head.index || event.previous.leafHash !== head.leafHash) {
        throw new RegistryError(
          'conflict',
          `previous: the certificate's latest entry is index ${head.index} with leaf hash ${head.leafHash}; reload and sign again`,
        );
      }
      // The state after every event so far: from the row's folded state, or replayed from the log on a row an older
      // writer left without it.
      const stored = foldedStateOf(row);
      const folded = stored && row.eventCount !== null ? { state: stored, eventCount: row.eventCount } : await this.foldFromLog(row);
      const state = certificateState(folded.state.certificate, folded.state.events, Number.MAX_SAFE_INTEGER);
      const refusal = transitionError(state, event.kind);
      if (refusal) throw new RegistryError('conflict', refusal);
      if (event.kind === 'recertified' && toMillis(event.validUntil) <= toMillis(state.validFrom)) {
        throw new RegistryError('bad-request', 'validUntil: must be after the certificate validFrom');
      }
      const canonical: CanonicalMemo = new WeakMap();
      const keyId = await this.verifySignature(actor, issuerSlug, asJsonObject(event), event.proof.verificationMethod, canonical);
      const lifecycle = LIFECYCLE_AFTER[event.kind] ?? row.lifecycle;
      return this.append('certificate.event', asJsonObject(event), actor, (i, leaf, loggedAt) => [
        ...store.insertEvent(
          { issuer: issuerSlug, number, eventCount: folded.eventCount },
          { index: i, kind: event.kind, keyId, loggedAt, leafHash: leaf },
          lifecycle,
          foldState(folded.state.certificate, [...folded.state.events, statusInputOf(event, loggedAt)]),
        ),
        ...this.idempotencyWrite(actor, idempotencyKey, certificateId, body, i),
      ], canonical);
    });
  }

  /** A certificate's folded state and event count, from its issuance and event entries (log order). */
  private async foldFromLog(row: { issuer: string; number: string; issuedIndex: number }): Promise<{ state: FoldedState; eventCount: number }> {
    const eventIndices = await this.deps.store.eventIndices(row.issuer, row.number);
    const entries = await this.deps.store.entriesAt([row.issuedIndex, ...eventIndices]);
    const issued = entries.get(row.issuedIndex);
    if (!issued) throw new RegistryError('log-integrity', `entry ${row.issuedIndex} is missing`);
    const credential = parseDocument(certificateSchema, decodeEntry(issued).body);
    const events = eventIndices.map((i) => {
      const bytes = entries.get(i);
      if (!bytes) throw new RegistryError('log-integrity', `entry ${i} is missing`);
      const entry = decodeEntry(bytes);
      return statusInputOf(parseDocument(statusEventSchema, entry.body), entry.loggedAt);
    });
    return { state: foldState(certificateFacts(credential), events), eventCount: events.length };
  }

  // --- internals ---------------------------------------------------------------------------------------------

  private async requireIssuer(slug: string) {
    const issuer = await this.deps.store.issuer(slug);
    if (!issuer) throw new RegistryError('forbidden', `issuer ${slug} is not registered`);
    return issuer;
  }

  /**
   * Checks a CB document's proof: a registered, unrevoked key of `issuer` and a valid eddsa-jcs-2022 signature.
   * Returns the key id. This is the check the read side relies on: a logged document's signature is never re-verified
   * by the server's verdict (bundles carry everything for clients to verify it themselves).
   */
  private async verifySignature(actor: Actor, issuer: string, document: JsonObject, verificationMethod: string, canonical?: CanonicalMemo): Promise<string> {
    const method = splitVerificationMethod(verificationMethod);
    if (!method || method.issuerId !== issuerIdOf(this.deps.baseUrl, issuer)) {
      throw new RegistryError('forbidden', 'proof.verificationMethod: must be a key of the acting certification body');
    }
    let key = actor.issuer === issuer && actor.key?.keyId === method.keyId ? actor.key : undefined;
    if (!key) {
      const row = await this.deps.store.key(issuer, method.keyId);
      if (!row) throw new RegistryError('bad-signature', `proof.verificationMethod: ${issuer} has no key ${method.keyId}`);
      key = keyRecord(row);
    }
    if (this.now() >= keyInvalidFrom(key)) throw new RegistryError('bad-signature', `key ${method.keyId} of ${issuer} is revoked`);
    const result = await verifyDataIntegrity(document, key.publicKey, canonical);
    if (!result.ok) throw new RegistryError('bad-signature', `proof: ${result.detail}`);
    return method.keyId;
  }

  private async signAsRegistry(document: JsonObject): Promise<JsonObject> {
    return signDataIntegrity(document, {
      seed: this.deps.registryKey.seed,
      verificationMethod: registryMethod(this.deps.baseUrl),
      created: new Date(this.now()).toISOString(),
    });
  }

  private async managedKey(issuer: string, managedSigning: boolean) {
    const key = managedSigning ? await this.deps.managedKeys.get(issuer) : null;
    if (!key) {
      throw new RegistryError('bad-request', 'the document has no proof, and this certification body has not opted into managed signing');
    }
    return key;
  }

  private async signDraftCertificate(issuer: string, name: string, managedSigning: boolean, body: JsonValue): Promise<Certificate> {
    const key = await this.managedKey(issuer, managedSigning);
    const draft = parseDocument(certificateDraftSchema, body);
    const unsigned = completeDraft(draft, { baseUrl: this.deps.baseUrl, issuerSlug: issuer, issuerName: name });
    const signed = await signDataIntegrity(asJsonObject(unsigned), {
      seed: key.seed,
      verificationMethod: `${issuerIdOf(this.deps.baseUrl, issuer)}#${key.keyId}`,
      created: new Date(this.now()).toISOString(),
    });
    return parseDocument(certificateSchema, signed);
  }

  /** Completes an event draft with the certificate id and the chain head, then signs it with the managed key. */
  private async signDraftEvent(
    issuer: string,
    managedSigning: boolean,
    body: JsonValue,
    certificate: string,
    previous: { index: number; leafHash: string },
  ): Promise<StatusEvent> {
    const key = await this.managedKey(issuer, managedSigning);
    if (!isJsonObject(body)) throw new RegistryError('bad-request', '(document): must be a JSON object');
    const draft = parseDocument(statusEventDraftSchema, { type: 'CertificateStatusEvent', certificate, previous, ...body });
    const signed = await signDataIntegrity(asJsonObject(draft), {
      seed: key.seed,
      verificationMethod: `${issuerIdOf(this.deps.baseUrl, issuer)}#${key.keyId}`,
      created: new Date(this.now()).toISOString(),
    });
    return parseDocument(statusEventSchema, signed);
  }

  private appendKeyAdded(slug: string, keyId: string, publicKey: Uint8Array, actor: Actor | null): Promise<LoggedEntry> {
    const { store, baseUrl } = this.deps;
    const document = parseDocument(
      unsignedIssuerKeyAddedSchema,
      asJsonObject({ type: 'IssuerKeyAdded', issuer: issuerIdOf(baseUrl, slug), keyId, publicKeyMultibase: encodeMultikey(publicKey) } as CertrailDocument),
    );
    return this.signAsRegistry(asJsonObject(document)).then((signed) =>
      this.append('issuer.key.added', signed, actor, (index, _leaf, loggedAt) => [
        store.insertKey({ issuer: slug, keyId, publicKey, addedIndex: index, addedAt: loggedAt }),
      ]),
    );
  }

  /** Appends one entry with its index rows and the burnt token id; resolves once durable. */
  private async append(
    kind: EntryKind,
    body: JsonObject,
    actor: Actor | null,
    /** `leaf` is the entry's leaf hash. */
    writes: (index: number, leaf: Uint8Array, loggedAt: number) => IndexWrite[],
    /** The canonical texts of `body`'s members from its signature check, reused for its entry. */
    canonical?: CanonicalMemo,
  ): Promise<LoggedEntry> {
    const result = await this.deps.sequencer.append({
      entry: (loggedAt) => encodeEntry(kind, loggedAt, body, canonical),
      writes: (index, _entry, loggedAt, leaf) => [
        ...writes(index, leaf, loggedAt),
        ...(actor ? [this.deps.store.insertUsedToken(actor.jti, actor.issuer, actor.expiresAt)] : []),
        ...this.tokenPrune(loggedAt),
      ],
    });
    return { index: result.index, entry: result.entry, leafHash: result.leafHash, kind, loggedAt: result.loggedAt, checkpoint: result.checkpoint };
  }

  /**
   * Deletes the token ids that expired by `loggedAt`, at most once per TOKEN_PRUNE_INTERVAL_MS, so that the table
   * holds the unexpired ids and at most an interval of expired ones, rather than every token ever used. Riding on an entry's commit keeps it in the
   * single writer's transaction; if that commit fails, the next interval's prune takes these rows too.
   */
  private tokenPrune(loggedAt: number): IndexWrite[] {
    if (loggedAt < this.nextTokenPrune) return [];
    this.nextTokenPrune = loggedAt + TOKEN_PRUNE_INTERVAL_MS;
    return [this.deps.store.deleteExpiredTokens(loggedAt)];
  }

  private idempotencyWrite(actor: Actor, key: string | undefined, target: string, body: JsonValue, index: number): IndexWrite[] {
    return key === undefined ? [] : [this.deps.store.insertIdempotency(actor.issuer, key, requestHash(target, body), index)];
  }

  /**
   * Runs a write at most once per (issuer, Idempotency-Key): a retry for the same certificate with the same body gets
   * the original receipt (rebuilt byte for byte from the stored entry and its first checkpoint); a reuse of the key for
   * another certificate or body is a conflict.
   */
  private async idempotent(
    actor: Actor,
    key: string | undefined,
    target: string,
    body: JsonValue,
    locks: string[],
    write: () => Promise<LoggedEntry>,
  ): Promise<Receipt> {
    const { store, log } = this.deps;
    const lockKeys = key === undefined ? locks : [...locks, `idempotency:${actor.issuer}/${key}`];
    const logged = await this.locks.run(lockKeys, async () => {
      const previous = key === undefined ? null : await store.idempotency(actor.issuer, key);
      if (!previous) return write();
      if (!bytesEqual(previous.requestHash, requestHash(target, body))) {
        throw new RegistryError('conflict', 'Idempotency-Key was already used for another certificate or request body');
      }
      return previous.entryIndex;
    });
    return typeof logged === 'number' ? buildReceipt(store, log, logged, target) : receiptOf(log, logged, target);
  }
}
