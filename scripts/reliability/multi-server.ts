// Shared by the reliability programs scripts/reliability/faults.ts and multi-process.ts: registry server processes
// (the Node entry, src/node.ts, on a real SQLite file), a certification body with managed signing writing through
// the API with Idempotency-Keys, and the checks of the database file afterwards (scripts/crash/verify-log.ts with the
// registry's entry rules, plus: every index row points into the signed tree).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { REGISTRY_KEY_NAME } from '../../src/config.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { exampleCertificate } from '../../test/support/examples.js';
import { withTimeout } from '../crash/loop.js';
import { verifyLog, type Acknowledgement, type VerifyReport } from '../crash/verify-log.js';
import { receiptAcknowledgement, registryEntryRules, type ReceiptFields } from './registry-entries.js';
import { ServerProcess } from './server-process.js';

const LISTEN_TIMEOUT_MS = 60_000;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Fixed for every process of a run: the log origin and the JWT audience derive from it. */
export const RELIABILITY_BASE_URL = 'http://certrail.reliability';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A registry server process (scripts/reliability/server-process.ts) once it listens, and its base URL. */
export interface RunningServer {
  process: ServerProcess;
  base: string;
}

/** Starts a server on `dbPath` (keys in `dir/keys`), without rate limits: these programs write thousands a second. */
export async function startServer(dir: string, dbPath: string): Promise<RunningServer> {
  const server = new ServerProcess(dir, RELIABILITY_BASE_URL, { CERTRAIL_DB: dbPath, CERTRAIL_RATE_LIMIT: 'off' });
  const port = await withTimeout(server.listening, LISTEN_TIMEOUT_MS, `starting a server on ${dbPath}`);
  return { process: server, base: `http://127.0.0.1:${port}` };
}

/** The operator's token key (the registry key): only the operator registers CBs. */
export async function operatorKey(keyDir: string): Promise<TokenKey> {
  const key = await readKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
  return { issuer: 'registry', keyId: 'registry', seed: key.seed, publicKey: key.publicKey };
}

/** What a write request is: sent again unchanged (same Idempotency-Key and body, a fresh token) when retried. */
export interface WriteRequest {
  path: string;
  body: unknown;
  idempotencyKey?: string;
  key: TokenKey;
}

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** Sends one write with a fresh single-use token; throws on a connection error. */
export async function sendWrite(base: string, request: WriteRequest, timeoutMs = 30_000): Promise<Answer> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${await mintToken(request.key, RELIABILITY_BASE_URL)}`,
    'content-type': 'application/json',
  };
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
  const res = await fetch(`${base}${request.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(request.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/**
 * Registers CB `slug` with managed signing: it sends drafts and the registry signs them with the CB's managed key;
 * the CB keeps one key of its own for its API tokens. Returns that token key and the registration's receipts.
 */
export async function registerManagedCb(base: string, operator: TokenKey, slug: string): Promise<{ key: TokenKey; receipts: ReceiptFields[] }> {
  const seed = randomBytes(32);
  const publicKey = await ed25519PublicKey(seed);
  const answer = await sendWrite(base, {
    path: '/api/v1/issuers',
    key: operator,
    body: {
      slug,
      name: `${slug} Certification GmbH`,
      accreditation: { body: 'DAkkS', number: `D-ZE-${slug}` },
      managedSigning: true,
      keys: [{ keyId: 'key-1', publicKeyMultibase: encodeMultikey(publicKey) }],
    },
  });
  if (answer.status !== 201) throw new Error(`registering ${slug}: ${answer.status} ${answer.text.slice(0, 300)}`);
  const { receipts } = JSON.parse(answer.text) as { receipts: ReceiptFields[] };
  return { key: { issuer: slug, keyId: 'key-1', seed, publicKey }, receipts };
}

/** An issuance draft for certificate `number` of `slug`, valid now. */
export function certificateDraft(slug: string, number: string): Record<string, unknown> {
  const now = Date.now();
  return exampleCertificate(RELIABILITY_BASE_URL, slug, number, {
    issuer: { name: `${slug} Certification GmbH` },
    validFrom: iso(now - YEAR_MS),
    validUntil: iso(now + 2 * YEAR_MS),
    credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + YEAR_MS / 2) } } },
  });
}

/** A status event draft (`suspended` or `reinstated`); the registry fills the certificate and its chain head. */
export function eventDraft(kind: 'suspended' | 'reinstated'): Record<string, unknown> {
  return kind === 'suspended' ? { kind, effective: iso(Date.now()), reason: 'reliability drill' } : { kind, effective: iso(Date.now()) };
}

export interface DatabaseReport extends VerifyReport {
  /** Index rows (certificates, events, issuers, keys, idempotency keys) pointing at or beyond the signed tree. */
  danglingRows: number;
}

/**
 * Checks the database file directly: contiguous entries, root recomputed from all entries = latest checkpoint, every
 * stored and served checkpoint, each acknowledgement at its index, each document logged once, PRAGMA integrity_check,
 * and no index row outside the tree (a half-written commit would leave one).
 */
export async function checkDatabase(options: {
  dbPath: string;
  vkey: string;
  acks: readonly Acknowledgement[];
  served: Iterable<string>;
}): Promise<DatabaseReport> {
  const report = await verifyLog({ ...options, rules: registryEntryRules(), integrityCheck: true });
  const size = report.latest?.size ?? 0;
  const sqlite = new Database(options.dbPath, { readonly: true, fileMustExist: true });
  let danglingRows = 0;
  try {
    for (const [table, column] of [
      ['issuers', 'registered_index'],
      ['issuer_keys', 'added_index'],
      ['issuer_keys', 'revoked_index'],
      ['certificates', 'issued_index'],
      ['certificates', 'last_index'],
      ['certificate_events', 'idx'],
      ['idempotency_keys', 'entry_index'],
    ] as const) {
      danglingRows += sqlite.prepare(`SELECT count(*) FROM ${table} WHERE ${column} >= ?`).pluck().get(size) as number;
    }
  } finally {
    sqlite.close();
  }
  if (danglingRows > 0) report.violations.push(`${danglingRows} index rows point at or beyond the tree of size ${size}`);
  return { ...report, danglingRows, violationCount: report.violationCount + (danglingRows > 0 ? 1 : 0) };
}

export { receiptAcknowledgement, type Acknowledgement, type ReceiptFields };
