// Drizzle tables shared by the SQLite (better-sqlite3) and D1 drivers. Migrations are generated into
// schema/migrations by drizzle-kit; wrangler applies the same files to D1 (migrations_dir).
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Log entries (leaves). Invariant: indices are 0..size-1 of the latest checkpoint, with no gap; never updated. */
export const logEntries = sqliteTable('log_entries', {
  idx: integer('idx').primaryKey(),
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/**
 * Hash tiles (C2SP tlog-tiles), one row per (level, index) holding every hash the tile has so far: a partial tile
 * grows in place until it has 256 hashes, then never changes. A partial tile `.p/W` is the first W hashes.
 */
export const logTiles = sqliteTable(
  'log_tiles',
  {
    level: integer('level').notNull(),
    idx: integer('idx').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.idx] })],
);

/** Every checkpoint the log has signed, by tree size. The latest is the one with the largest size. */
export const logCheckpoints = sqliteTable('log_checkpoints', {
  size: integer('size').primaryKey(),
  root: blob('root', { mode: 'buffer' }).notNull(),
  note: text('note').notNull(),
  createdAt: integer('created_at').notNull(),
});

// Index tables. Every row is derived from log entries and written in the same commit as the entry it indexes; the
// signed documents themselves are only ever served from the entry bytes in log_entries.

/** Certification bodies, from issuer.registered entries. */
export const issuers = sqliteTable('issuers', {
  slug: text('slug').primaryKey(),
  name: text('name').notNull(),
  managedSigning: integer('managed_signing', { mode: 'boolean' }).notNull(),
  registeredIndex: integer('registered_index').notNull(),
  registeredAt: integer('registered_at').notNull(),
});

/** Issuer keys, from issuer.key.added and issuer.key.revoked entries. Times are loggedAt (ms). */
export const issuerKeys = sqliteTable(
  'issuer_keys',
  {
    issuer: text('issuer').notNull(),
    keyId: text('key_id').notNull(),
    publicKey: blob('public_key', { mode: 'buffer' }).notNull(),
    addedIndex: integer('added_index').notNull(),
    addedAt: integer('added_at').notNull(),
    revokedIndex: integer('revoked_index'),
    revokedAt: integer('revoked_at'),
    compromisedAt: integer('compromised_at'),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.keyId] })],
);

/**
 * Certificates, from certificate.issued entries, with the head of each one's event chain (`lastIndex`,
 * `lastLeafHash`) and the time-independent part of its state (`lifecycle`: active, suspended or revoked) for search.
 */
export const certificates = sqliteTable(
  'certificates',
  {
    issuer: text('issuer').notNull(),
    number: text('number').notNull(),
    issuedIndex: integer('issued_index').notNull(),
    loggedAt: integer('logged_at').notNull(),
    lastIndex: integer('last_index').notNull(),
    lastLeafHash: blob('last_leaf_hash', { mode: 'buffer' }).notNull(),
    lifecycle: text('lifecycle', { enum: ['active', 'suspended', 'revoked'] }).notNull(),
    organization: text('organization').notNull(),
    systemName: text('system_name').notNull(),
    validFrom: integer('valid_from').notNull(),
    validUntil: integer('valid_until').notNull(),
    // The verdict facts, maintained with every entry of the certificate so that a verdict needs no entry decoded.
    // Null only on rows an older writer left (read from the entries instead). The signature was verified when the
    // entry was written (Registry.verifySignature); the key's validity is judged at read time from issuer_keys.
    /** The key id of the issuance's proof (`<issuer id>#<key id>`). */
    keyId: text('key_id'),
    /** Number of status events. */
    eventCount: integer('event_count'),
    /** loggedAt of the certificate's latest entry: `state` replays to the true state at any time from then on. */
    stateAt: integer('state_at'),
    /** The status inputs folded over every event (FoldedState in src/store/registry-store.ts), JSON. */
    state: text('state'),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.number] }), index('certificates_issued_index').on(t.issuedIndex)],
);

/** Status events, from certificate.event entries, by log index. */
export const certificateEvents = sqliteTable(
  'certificate_events',
  {
    idx: integer('idx').primaryKey(),
    issuer: text('issuer').notNull(),
    number: text('number').notNull(),
    kind: text('kind').notNull(),
    /** The key id of the event's proof, and the entry's loggedAt (null only on rows an older writer left). */
    keyId: text('key_id'),
    loggedAt: integer('logged_at'),
  },
  (t) => [index('certificate_events_certificate').on(t.issuer, t.number, t.idx)],
);

/** Which certificates cover a model digest (`sha256:<hex>`). */
export const certificateModels = sqliteTable(
  'certificate_models',
  {
    digest: text('digest').notNull(),
    issuer: text('issuer').notNull(),
    number: text('number').notNull(),
  },
  (t) => [primaryKey({ columns: [t.digest, t.issuer, t.number] })],
);

/** Which certificates name a standard (its id, e.g. `ISO/IEC 42001:2023`). */
export const certificateStandards = sqliteTable(
  'certificate_standards',
  {
    standard: text('standard').notNull(),
    issuer: text('issuer').notNull(),
    number: text('number').notNull(),
  },
  (t) => [primaryKey({ columns: [t.standard, t.issuer, t.number] })],
);

/**
 * Used JWT ids (single use), kept until the token expires. No key on jti: the replay check runs on the ids held in
 * memory (src/http/auth.ts), and this table only carries them across restarts. Rows append in rowid order and the
 * expiry index grows at its right edge (tokens expire at most 5 minutes after use, ties ordered by rowid), where a
 * key on the random jti wrote a page at a random place for every issuance, a quarter of the pages a batch wrote.
 */
export const usedTokens = sqliteTable(
  'used_tokens',
  {
    jti: text('jti').notNull(),
    issuer: text('issuer').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('used_tokens_expires_at').on(t.expiresAt)],
);

/** Idempotency keys per issuer: a retry with the same key and body gets the original receipt back. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    issuer: text('issuer').notNull(),
    key: text('key').notNull(),
    requestHash: blob('request_hash', { mode: 'buffer' }).notNull(),
    /** The receipt is rebuilt from this entry and the first checkpoint that includes it, byte for byte. */
    entryIndex: integer('entry_index').notNull(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.key] })],
);
