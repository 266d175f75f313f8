// Drizzle queries over the index tables, shared by both drivers. Reads return plain rows; writes return statements
// (IndexWrite) that the sequencer commits atomically with the log entry they index.
import { and, asc, eq, gt, inArray, lte, or, sql, type Placeholder, type SQL } from 'drizzle-orm';
import {
  certificateEvents,
  certificateModels,
  certificateStandards,
  certificates,
  idempotencyKeys,
  issuerKeys,
  issuers,
  logCheckpoints,
  logEntries,
  usedTokens,
} from '../../schema/tables.js';
import type { KeyRecord } from '../core/keys.js';
import { certificateState, type StatusCertificate, type StatusEvent } from '../core/status.js';
import { chunkRows, SQLITE_MAX_PARAMETERS, type AnySQLiteDatabase, type IndexWrite, type StoredCheckpoint } from './log-store.js';

export type IssuerRow = typeof issuers.$inferSelect;
export type IssuerKeyRow = typeof issuerKeys.$inferSelect;
export type CertificateRow = typeof certificates.$inferSelect;
export type Lifecycle = CertificateRow['lifecycle'];
/** The columns a verdict needs (RegistryStore.verdictRow): fewer columns to read and map than the whole row. */
export type VerdictRow = Pick<CertificateRow, 'issuer' | 'number' | 'issuedIndex' | 'loggedAt' | 'keyId' | 'eventCount' | 'stateAt' | 'state'>;
/** A certificate's event as indexed: its log index, the key id of its proof and its loggedAt. */
export type EventRow = { idx: number; keyId: string | null; loggedAt: number | null };

/**
 * What `certificates.state` holds: a certificate's status inputs compacted over all its events. Its validity, scope
 * and surveillance due date are those after the last recertification, scope change and passed audit, and `events`
 * keeps only the suspension still in force and the revocation, so that for every `now` at or after the certificate's
 * latest entry (`state_at`), certificateState(certificate, events, now) is exactly the replay of the whole log.
 * Migration 0002 computes the same from the entries for rows written before it.
 */
export interface FoldedState {
  certificate: StatusCertificate;
  events: StatusEvent[];
}

/** Folds a certificate's status inputs (its facts and all its events, in log order) into a FoldedState. */
export function foldState(certificate: StatusCertificate, events: readonly StatusEvent[]): FoldedState {
  const state = certificateState(certificate, events, Number.MAX_SAFE_INTEGER);
  const folded: StatusEvent[] = [];
  if (state.suspended) folded.push({ kind: 'suspended', ...state.suspended });
  if (state.revoked) folded.push({ kind: 'revoked', ...state.revoked });
  return {
    certificate: {
      validFrom: state.validFrom,
      validUntil: state.validUntil,
      scope: state.scope,
      surveillance: { intervalMonths: certificate.surveillance.intervalMonths, firstDueBy: state.surveillanceDue },
    },
    events: folded,
  };
}

/** The folded state of a row, or null on a row an older writer left without it. */
export function foldedStateOf(row: Pick<CertificateRow, 'state'>): FoldedState | null {
  return row.state === null ? null : (JSON.parse(row.state) as FoldedState);
}

export interface CertificateSearch {
  issuer?: string | undefined;
  standard?: string | undefined;
  /** Time-independent lifecycle filter; time-dependent statuses (expired, ...) are filtered by the caller. */
  lifecycle?: Lifecycle | undefined;
  /** Matches certificate number, organization or system name (substring, case-insensitive for ASCII). */
  q?: string | undefined;
  /** Rows after this issued index (the cursor). */
  after?: number | undefined;
  limit: number;
}

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytes(value: Uint8Array | ArrayBuffer | number[]): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

/** LIKE pattern for a literal substring: escapes the wildcards of the user's text. */
function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function keyRecord(row: IssuerKeyRow): KeyRecord {
  return {
    keyId: row.keyId,
    publicKey: bytes(row.publicKey),
    addedAt: row.addedAt,
    revokedAt: row.revokedAt ?? undefined,
    compromisedAt: row.compromisedAt ?? undefined,
  };
}

/** A statement the synchronous driver runs inside the sequencer's transaction (src/store/sqlite.ts). */
type SyncWrite = { run(): unknown };

/** Placeholders for every column of a row shape, for an INSERT prepared once. */
function placeholders<K extends string>(...names: K[]): Record<K, Placeholder> {
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as unknown as Record<K, Placeholder>;
}

/** An issuer's row (null: not registered) and its keys, as memoized by RegistryStore.memoizeIssuersBy. */
interface IssuerState {
  issuer: IssuerRow | null;
  keys: readonly IssuerKeyRow[];
}

/** Issuers memoized per generation: far more than a registry has, few enough that made-up slugs cost little memory. */
const ISSUER_MEMO_SIZE = 1024;

export class RegistryStore {
  /** The hot paths' queries, prepared once (building and parsing SQL on every request was a measurable cost). */
  private readonly prepared;
  private issuerMemo: { generation: () => Promise<number>; at: number; byIssuer: Map<string, IssuerState> } | null = null;
  /**
   * The issuance's INSERTs, prepared once on the synchronous driver (better-sqlite3), where building and compiling
   * them for every entry was a tenth of an issuance's CPU time; null on D1, whose batch takes drizzle queries.
   */
  private readonly inserts;

  constructor(
    readonly db: AnySQLiteDatabase,
    /** Bound parameters per statement the driver allows (D1: 100); multi-row inserts are split to fit. */
    private readonly maxParameters = SQLITE_MAX_PARAMETERS,
  ) {
    // Lookups by primary key run with get() and no LIMIT clause: a bound LIMIT made SQLite's lookup twice as slow.
    this.prepared = {
      certificate: db
        .select()
        .from(certificates)
        .where(and(eq(certificates.issuer, sql.placeholder('issuer')), eq(certificates.number, sql.placeholder('number'))))
        .prepare(),
      verdictRow: db
        .select({
          issuer: certificates.issuer,
          number: certificates.number,
          issuedIndex: certificates.issuedIndex,
          loggedAt: certificates.loggedAt,
          keyId: certificates.keyId,
          eventCount: certificates.eventCount,
          stateAt: certificates.stateAt,
          state: certificates.state,
        })
        .from(certificates)
        .where(and(eq(certificates.issuer, sql.placeholder('issuer')), eq(certificates.number, sql.placeholder('number'))))
        .prepare(),
      keysOf: db
        .select()
        .from(issuerKeys)
        .where(eq(issuerKeys.issuer, sql.placeholder('issuer')))
        .orderBy(asc(issuerKeys.addedIndex))
        .prepare(),
      key: db
        .select()
        .from(issuerKeys)
        .where(and(eq(issuerKeys.issuer, sql.placeholder('issuer')), eq(issuerKeys.keyId, sql.placeholder('keyId'))))
        .prepare(),
      issuer: db.select().from(issuers).where(eq(issuers.slug, sql.placeholder('slug'))).prepare(),
      events: db
        .select({ idx: certificateEvents.idx, keyId: certificateEvents.keyId, loggedAt: certificateEvents.loggedAt })
        .from(certificateEvents)
        .where(and(eq(certificateEvents.issuer, sql.placeholder('issuer')), eq(certificateEvents.number, sql.placeholder('number'))))
        .orderBy(asc(certificateEvents.idx))
        .prepare(),
      entry: db.select().from(logEntries).where(eq(logEntries.idx, sql.placeholder('idx'))).prepare(),
      idempotency: db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.issuer, sql.placeholder('issuer')), eq(idempotencyKeys.key, sql.placeholder('key'))))
        .prepare(),
      byModel: db
        .select({ certificate: certificates })
        .from(certificateModels)
        .innerJoin(certificates, and(eq(certificates.issuer, certificateModels.issuer), eq(certificates.number, certificateModels.number)))
        .where(eq(certificateModels.digest, sql.placeholder('digest')))
        .orderBy(asc(certificates.issuedIndex))
        .limit(sql.placeholder('limit'))
        .prepare(),
      firstCheckpointIncluding: db
        .select()
        .from(logCheckpoints)
        .where(gt(logCheckpoints.size, sql.placeholder('index')))
        .orderBy(asc(logCheckpoints.size))
        .limit(1)
        .prepare(),
    };
    const sync = (db as unknown as { resultKind?: string }).resultKind === 'sync';
    this.inserts = sync
      ? {
          certificate: db
            .insert(certificates)
            .values(
              placeholders(
                'issuer',
                'number',
                'issuedIndex',
                'loggedAt',
                'lastIndex',
                'lastLeafHash',
                'lifecycle',
                'organization',
                'systemName',
                'validFrom',
                'validUntil',
                'keyId',
                'eventCount',
                'stateAt',
                'state',
              ),
            )
            .prepare(),
          model: db.insert(certificateModels).values(placeholders('digest', 'issuer', 'number')).prepare(),
          standard: db.insert(certificateStandards).values(placeholders('standard', 'issuer', 'number')).prepare(),
          usedToken: db.insert(usedTokens).values(placeholders('jti', 'issuer', 'expiresAt')).prepare(),
          idempotency: db.insert(idempotencyKeys).values(placeholders('issuer', 'key', 'requestHash', 'entryIndex')).prepare(),
        }
      : null;
  }

  /** A prepared INSERT bound to its values, as an IndexWrite the synchronous driver runs. */
  private static bound(statement: { run(values: Record<string, unknown>): unknown }, values: Record<string, unknown>): IndexWrite {
    const write: SyncWrite = { run: () => statement.run(values) };
    return write as unknown as IndexWrite;
  }

  // --- reads -------------------------------------------------------------------------------------------------

  /**
   * Serves issuer and key reads from memory while `generation` returns the same number. Sound only where that number
   * changes with every commit that could touch the issuers or issuer_keys tables: their rows are written only by
   * IndexWrites committed with a log entry, so the committed tree size names their state (src/node.ts passes the
   * sequencer's, current across processes). Without it (D1) every read goes to the database.
   */
  memoizeIssuersBy(generation: () => Promise<number>): void {
    this.issuerMemo = { generation, at: -1, byIssuer: new Map() };
  }

  /** An issuer's row and keys from the memo, read afresh once the generation moved (at most ISSUER_MEMO_SIZE held). */
  private async memoized(issuer: string): Promise<IssuerState | null> {
    const memo = this.issuerMemo;
    if (!memo) return null;
    const generation = await memo.generation();
    if (generation !== memo.at) {
      memo.at = generation;
      memo.byIssuer.clear();
    }
    let state = memo.byIssuer.get(issuer);
    if (!state) {
      const [row, keys] = await Promise.all([this.prepared.issuer.get({ slug: issuer }), this.prepared.keysOf.all({ issuer })]);
      state = { issuer: row ?? null, keys };
      // Unknown slugs are memoized too (a miss is as costly as a hit): bound the map against requests for made-up ones.
      if (memo.byIssuer.size >= ISSUER_MEMO_SIZE) memo.byIssuer.clear();
      if (memo.at === generation) memo.byIssuer.set(issuer, state);
    }
    return state;
  }

  async issuer(slug: string): Promise<IssuerRow | null> {
    const memo = await this.memoized(slug);
    if (memo) return memo.issuer;
    return (await this.prepared.issuer.get({ slug })) ?? null;
  }

  async issuerList(): Promise<IssuerRow[]> {
    return this.db.select().from(issuers).orderBy(asc(issuers.slug));
  }

  /** The issuer's keys in the order they were added (shared rows when memoized: callers must not modify them). */
  async keysOf(issuer: string): Promise<readonly IssuerKeyRow[]> {
    const memo = await this.memoized(issuer);
    return memo ? memo.keys : this.prepared.keysOf.all({ issuer });
  }

  async key(issuer: string, keyId: string): Promise<IssuerKeyRow | null> {
    const memo = await this.memoized(issuer);
    if (memo) return memo.keys.find((k) => k.keyId === keyId) ?? null;
    return (await this.prepared.key.get({ issuer, keyId })) ?? null;
  }

  async certificate(issuer: string, number: string): Promise<CertificateRow | null> {
    return (await this.prepared.certificate.get({ issuer, number })) ?? null;
  }

  async verdictRow(issuer: string, number: string): Promise<VerdictRow | null> {
    return (await this.prepared.verdictRow.get({ issuer, number })) ?? null;
  }

  /** A certificate's events, in log order. */
  async events(issuer: string, number: string): Promise<EventRow[]> {
    return this.prepared.events.all({ issuer, number });
  }

  /** Log indices of a certificate's events, in log order. */
  async eventIndices(issuer: string, number: string): Promise<number[]> {
    return (await this.events(issuer, number)).map((r) => r.idx);
  }

  /** Entry bytes by index; missing indices are absent from the map. */
  async entriesAt(indices: readonly number[]): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    if (indices.length === 0) return out;
    if (indices.length <= 8) {
      // A certificate's history is a few entries: one prepared primary-key lookup each.
      for (const idx of indices) {
        const row = await this.prepared.entry.get({ idx });
        if (row) out.set(row.idx, bytes(row.data));
      }
      return out;
    }
    for (const chunk of chunkRows([...new Set(indices)], 1, this.maxParameters)) {
      const rows = await this.db.select().from(logEntries).where(inArray(logEntries.idx, chunk));
      for (const row of rows) out.set(row.idx, bytes(row.data));
    }
    return out;
  }

  async certificatesByModel(digest: string, limit: number): Promise<CertificateRow[]> {
    return (await this.prepared.byModel.all({ digest, limit })).map((r) => r.certificate);
  }

  async search(filter: CertificateSearch): Promise<CertificateRow[]> {
    const conditions: SQL[] = [];
    if (filter.issuer) conditions.push(eq(certificates.issuer, filter.issuer));
    if (filter.lifecycle) conditions.push(eq(certificates.lifecycle, filter.lifecycle));
    if (filter.after !== undefined) conditions.push(gt(certificates.issuedIndex, filter.after));
    if (filter.q) {
      const pattern = likeSubstring(filter.q);
      const match = or(
        sql`${certificates.number} LIKE ${pattern} ESCAPE '\\'`,
        sql`${certificates.organization} LIKE ${pattern} ESCAPE '\\'`,
        sql`${certificates.systemName} LIKE ${pattern} ESCAPE '\\'`,
      );
      if (match) conditions.push(match);
    }
    if (filter.standard) {
      conditions.push(
        sql`EXISTS (SELECT 1 FROM ${certificateStandards} WHERE ${certificateStandards.standard} = ${filter.standard}
          AND ${certificateStandards.issuer} = ${certificates.issuer} AND ${certificateStandards.number} = ${certificates.number})`,
      );
    }
    return this.db
      .select()
      .from(certificates)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(asc(certificates.issuedIndex))
      .limit(filter.limit);
  }

  async idempotency(issuer: string, key: string): Promise<{ requestHash: Uint8Array; entryIndex: number } | null> {
    const row = await this.prepared.idempotency.get({ issuer, key });
    return row ? { requestHash: bytes(row.requestHash), entryIndex: row.entryIndex } : null;
  }

  /** The first checkpoint whose tree includes `index`: the one a receipt for that entry was issued against. */
  async firstCheckpointIncluding(index: number): Promise<StoredCheckpoint | null> {
    const row = (await this.prepared.firstCheckpointIncluding.all({ index }))[0];
    return row ? { size: row.size, root: bytes(row.root), note: row.note, createdAt: row.createdAt } : null;
  }

  async checkpointOfSize(size: number): Promise<StoredCheckpoint | null> {
    const rows = await this.db.select().from(logCheckpoints).where(eq(logCheckpoints.size, size)).limit(1);
    const row = rows[0];
    return row ? { size: row.size, root: bytes(row.root), note: row.note, createdAt: row.createdAt } : null;
  }

  async unexpiredTokens(now: number): Promise<Array<{ jti: string; expiresAt: number }>> {
    return this.db.select({ jti: usedTokens.jti, expiresAt: usedTokens.expiresAt }).from(usedTokens).where(gt(usedTokens.expiresAt, now));
  }

  // --- writes (committed with their entry) ------------------------------------------------------------------

  insertIssuer(row: IssuerRow): IndexWrite {
    return this.db.insert(issuers).values(row);
  }

  insertKey(row: Omit<IssuerKeyRow, 'publicKey' | 'revokedIndex' | 'revokedAt' | 'compromisedAt'> & { publicKey: Uint8Array }): IndexWrite {
    return this.db.insert(issuerKeys).values({ ...row, publicKey: buffer(row.publicKey) });
  }

  revokeKey(issuer: string, keyId: string, revokedIndex: number, revokedAt: number, compromisedAt: number | null): IndexWrite {
    return this.db
      .update(issuerKeys)
      .set({ revokedIndex, revokedAt, compromisedAt })
      .where(and(eq(issuerKeys.issuer, issuer), eq(issuerKeys.keyId, keyId)));
  }

  insertCertificate(
    row: Omit<CertificateRow, 'lastLeafHash' | 'eventCount' | 'stateAt' | 'state'> & { lastLeafHash: Uint8Array },
    state: FoldedState,
    models: readonly string[],
    standards: readonly string[],
  ): IndexWrite[] {
    const values = { ...row, lastLeafHash: buffer(row.lastLeafHash), eventCount: 0, stateAt: row.loggedAt, state: JSON.stringify(state) };
    const key = { issuer: row.issuer, number: row.number };
    if (this.inserts) {
      const { certificate, model, standard } = this.inserts;
      return [
        RegistryStore.bound(certificate, values),
        ...[...new Set(models)].map((digest) => RegistryStore.bound(model, { digest, ...key })),
        ...[...new Set(standards)].map((id) => RegistryStore.bound(standard, { standard: id, ...key })),
      ];
    }
    const writes: IndexWrite[] = [this.db.insert(certificates).values(values)];
    const modelRows = [...new Set(models)].map((digest) => ({ digest, ...key }));
    for (const rows of chunkRows(modelRows, 3, this.maxParameters)) writes.push(this.db.insert(certificateModels).values(rows));
    const standardRows = [...new Set(standards)].map((standard) => ({ standard, ...key }));
    for (const rows of chunkRows(standardRows, 3, this.maxParameters)) writes.push(this.db.insert(certificateStandards).values(rows));
    return writes;
  }

  /** Records an event and moves the certificate's chain head, lifecycle and verdict facts. */
  insertEvent(
    certificate: { issuer: string; number: string; eventCount: number },
    event: { index: number; kind: string; keyId: string; loggedAt: number; leafHash: Uint8Array },
    lifecycle: Lifecycle,
    state: FoldedState,
  ): IndexWrite[] {
    const { issuer, number } = certificate;
    return [
      this.db.insert(certificateEvents).values({ idx: event.index, issuer, number, kind: event.kind, keyId: event.keyId, loggedAt: event.loggedAt }),
      this.db
        .update(certificates)
        .set({
          lastIndex: event.index,
          lastLeafHash: buffer(event.leafHash),
          lifecycle,
          eventCount: certificate.eventCount + 1,
          stateAt: event.loggedAt,
          state: JSON.stringify(state),
        })
        .where(and(eq(certificates.issuer, issuer), eq(certificates.number, number))),
    ];
  }

  insertIdempotency(issuer: string, key: string, requestHash: Uint8Array, entryIndex: number): IndexWrite {
    const values = { issuer, key, requestHash: buffer(requestHash), entryIndex };
    return this.inserts ? RegistryStore.bound(this.inserts.idempotency, values) : this.db.insert(idempotencyKeys).values(values);
  }

  /** Forgets the ids of tokens expired by `now`: an expired token is refused before its id is looked at. */
  deleteExpiredTokens(now: number): IndexWrite {
    return this.db.delete(usedTokens).where(lte(usedTokens.expiresAt, now));
  }

  insertUsedToken(jti: string, issuer: string, expiresAt: number): IndexWrite {
    const values = { jti, issuer, expiresAt };
    return this.inserts ? RegistryStore.bound(this.inserts.usedToken, values) : this.db.insert(usedTokens).values(values);
  }
}
