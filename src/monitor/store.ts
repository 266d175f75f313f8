// The monitor's local SQLite file: a mirror of one log (entries, hash tiles, every checkpoint it accepted) and the
// state its checks need to go on where the last run stopped (issuer keys, each certificate's chain head), plus the
// anomalies it found, with their evidence. Plain prepared statements, its own schema (never the registry's).
import Database from 'better-sqlite3';
import { tileKey } from '../core/tiles.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, seen_at INTEGER NOT NULL);
   CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
   CREATE TABLE tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (level, idx));
   CREATE TABLE issuers (id TEXT PRIMARY KEY, idx INTEGER NOT NULL);
   CREATE TABLE issuer_keys (
     issuer TEXT NOT NULL, key_id TEXT NOT NULL, public_key BLOB NOT NULL, added_at INTEGER NOT NULL,
     revoked_at INTEGER, compromised_at INTEGER, PRIMARY KEY (issuer, key_id));
   CREATE TABLE certificates (
     id TEXT PRIMARY KEY, issuer TEXT NOT NULL, issued_index INTEGER NOT NULL, head_index INTEGER NOT NULL,
     head_leaf_hash TEXT NOT NULL, events INTEGER NOT NULL);
   CREATE TABLE anomalies (
     id INTEGER PRIMARY KEY AUTOINCREMENT, seen_at INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
     evidence TEXT);`,
];

export interface SeenCheckpoint {
  size: number;
  root: Uint8Array;
  note: string;
  seenAt: number;
}

export interface StoredKey {
  issuer: string;
  keyId: string;
  publicKey: Uint8Array;
  addedAt: number;
  revokedAt: number | undefined;
  compromisedAt: number | undefined;
}

export interface StoredCertificate {
  id: string;
  issuer: string;
  issuedIndex: number;
  headIndex: number;
  headLeafHash: string;
  events: number;
}

export interface StoredAnomaly {
  id: number;
  seenAt: number;
  kind: string;
  detail: string;
  evidence: string | null;
}

/** Counts of what the mirror holds, by entry kind. */
export interface MirrorCounts {
  entries: number;
  issuers: number;
  keysAdded: number;
  keysRevoked: number;
  certificates: number;
  events: number;
}

export const EMPTY_COUNTS: MirrorCounts = { entries: 0, issuers: 0, keysAdded: 0, keysRevoked: 0, certificates: 0, events: 0 };

interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  seen_at: number;
}

interface KeyRow {
  issuer: string;
  key_id: string;
  public_key: Buffer;
  added_at: number;
  revoked_at: number | null;
  compromised_at: number | null;
}

interface CertificateRow {
  id: string;
  issuer: string;
  issued_index: number;
  head_index: number;
  head_leaf_hash: string;
  events: number;
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function keyOf(row: KeyRow): StoredKey {
  return {
    issuer: row.issuer,
    keyId: row.key_id,
    publicKey: bytes(row.public_key),
    addedAt: row.added_at,
    revokedAt: row.revoked_at ?? undefined,
    compromisedAt: row.compromised_at ?? undefined,
  };
}

function buffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export class MonitorStore {
  private readonly statements;

  private constructor(readonly db: Database.Database) {
    this.statements = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      checkpoint: db.prepare<[number], CheckpointRow>('SELECT size, root, note, seen_at FROM checkpoints WHERE size = ?'),
      maxCheckpoint: db.prepare<[], CheckpointRow>('SELECT size, root, note, seen_at FROM checkpoints ORDER BY size DESC LIMIT 1'),
      checkpointsBetween: db.prepare<[number, number], CheckpointRow>(
        'SELECT size, root, note, seen_at FROM checkpoints WHERE size > ? AND size <= ? ORDER BY size',
      ),
      addCheckpoint: db.prepare<[number, Buffer, string, number]>(
        'INSERT OR IGNORE INTO checkpoints (size, root, note, seen_at) VALUES (?, ?, ?, ?)',
      ),
      addEntry: db.prepare<[number, Buffer]>('INSERT INTO entries (idx, data) VALUES (?, ?)'),
      entries: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      putTile: db.prepare<[number, number, Buffer]>(
        'INSERT INTO tiles (level, idx, data) VALUES (?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data',
      ),
      tile: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM tiles WHERE level = ? AND idx = ?'),
      issuer: db.prepare<[string], { idx: number }>('SELECT idx FROM issuers WHERE id = ?'),
      addIssuer: db.prepare<[string, number]>('INSERT INTO issuers (id, idx) VALUES (?, ?)'),
      key: db.prepare<[string, string], KeyRow>('SELECT * FROM issuer_keys WHERE issuer = ? AND key_id = ?'),
      allKeys: db.prepare<[], KeyRow>('SELECT * FROM issuer_keys'),
      putKey: db.prepare<[string, string, Buffer, number, number | null, number | null]>(
        `INSERT INTO issuer_keys (issuer, key_id, public_key, added_at, revoked_at, compromised_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (issuer, key_id) DO UPDATE SET revoked_at = excluded.revoked_at, compromised_at = excluded.compromised_at`,
      ),
      certificate: db.prepare<[string], CertificateRow>('SELECT * FROM certificates WHERE id = ?'),
      putCertificate: db.prepare<[string, string, number, number, string, number]>(
        `INSERT INTO certificates (id, issuer, issued_index, head_index, head_leaf_hash, events) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET head_index = excluded.head_index, head_leaf_hash = excluded.head_leaf_hash,
         events = excluded.events`,
      ),
      addAnomaly: db.prepare<[number, string, string, string | null]>(
        'INSERT INTO anomalies (seen_at, kind, detail, evidence) VALUES (?, ?, ?, ?)',
      ),
      anomalies: db.prepare<[number], { id: number; seen_at: number; kind: string; detail: string; evidence: string | null }>(
        'SELECT id, seen_at, kind, detail, evidence FROM anomalies WHERE id > ? ORDER BY id',
      ),
      anomalyCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM anomalies'),
    };
  }

  static open(path: string): MonitorStore {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // A mirror can be rebuilt from the log, but its accepted checkpoints are evidence: commit them durably.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > MIGRATIONS.length) throw new Error(`${path}: monitor state version ${applied} is newer than this program`);
    db.transaction(() => {
      for (let i = applied; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
    return new MonitorStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction (synchronous work only). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  meta(key: string): string | null {
    return this.statements.getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  numberMeta(key: string, fallback: number): number {
    const v = this.meta(key);
    return v === null ? fallback : Number(v);
  }

  counts(): MirrorCounts {
    const v = this.meta('counts');
    return v === null ? { ...EMPTY_COUNTS } : { ...EMPTY_COUNTS, ...(JSON.parse(v) as Partial<MirrorCounts>) };
  }

  setCounts(counts: MirrorCounts): void {
    this.setMeta('counts', JSON.stringify(counts));
  }

  checkpoint(size: number): SeenCheckpoint | null {
    const row = this.statements.checkpoint.get(size);
    return row ? { size: row.size, root: bytes(row.root), note: row.note, seenAt: row.seen_at } : null;
  }

  largestCheckpoint(): SeenCheckpoint | null {
    const row = this.statements.maxCheckpoint.get();
    return row ? { size: row.size, root: bytes(row.root), note: row.note, seenAt: row.seen_at } : null;
  }

  checkpointsBetween(above: number, upTo: number): SeenCheckpoint[] {
    return this.statements.checkpointsBetween
      .all(above, upTo)
      .map((row) => ({ size: row.size, root: bytes(row.root), note: row.note, seenAt: row.seen_at }));
  }

  addCheckpoint(c: SeenCheckpoint): void {
    this.statements.addCheckpoint.run(c.size, buffer(c.root), c.note, c.seenAt);
  }

  addEntry(index: number, data: Uint8Array): void {
    this.statements.addEntry.run(index, buffer(data));
  }

  entries(start: number, end: number): Uint8Array[] {
    return this.statements.entries.all(start, end).map((r) => bytes(r.data));
  }

  putTile(level: number, index: number, data: Uint8Array): void {
    this.statements.putTile.run(level, index, buffer(data));
  }

  tile(level: number, index: number): Uint8Array | null {
    const row = this.statements.tile.get(level, index);
    return row ? bytes(row.data) : null;
  }

  /** Stored tiles by tileKey, for the given ids (absent ones are left out). */
  tiles(ids: ReadonlyArray<{ level: number; index: number }>): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const { level, index } of ids) {
      const data = this.tile(level, index);
      if (data) out.set(tileKey(level, index), data);
    }
    return out;
  }

  issuerIndex(id: string): number | null {
    return this.statements.issuer.get(id)?.idx ?? null;
  }

  addIssuer(id: string, index: number): void {
    this.statements.addIssuer.run(id, index);
  }

  key(issuer: string, keyId: string): StoredKey | null {
    const row = this.statements.key.get(issuer, keyId);
    return row ? keyOf(row) : null;
  }

  allKeys(): StoredKey[] {
    return this.statements.allKeys.all().map(keyOf);
  }

  putKey(k: StoredKey): void {
    this.statements.putKey.run(k.issuer, k.keyId, buffer(k.publicKey), k.addedAt, k.revokedAt ?? null, k.compromisedAt ?? null);
  }

  certificate(id: string): StoredCertificate | null {
    const row = this.statements.certificate.get(id);
    return row
      ? { id: row.id, issuer: row.issuer, issuedIndex: row.issued_index, headIndex: row.head_index, headLeafHash: row.head_leaf_hash, events: row.events }
      : null;
  }

  putCertificate(c: StoredCertificate): void {
    this.statements.putCertificate.run(c.id, c.issuer, c.issuedIndex, c.headIndex, c.headLeafHash, c.events);
  }

  addAnomaly(seenAt: number, kind: string, detail: string, evidence: string | null): number {
    return Number(this.statements.addAnomaly.run(seenAt, kind, detail, evidence).lastInsertRowid);
  }

  anomaliesAfter(id: number): StoredAnomaly[] {
    return this.statements.anomalies.all(id).map((r) => ({ id: r.id, seenAt: r.seen_at, kind: r.kind, detail: r.detail, evidence: r.evidence }));
  }

  anomalyCount(): number {
    return this.statements.anomalyCount.get()?.n ?? 0;
  }
}
