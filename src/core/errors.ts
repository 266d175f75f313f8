// The one error type core throws. HTTP maps `code` to a status in src/http/problem.ts, in one place.

export type RegistryErrorCode =
  | 'bad-request'
  | 'bad-json'
  | 'bad-range'
  | 'bad-signature'
  | 'not-found'
  | 'entry-too-large'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'unauthorized'
  | 'forbidden'
  | 'conflict'
  | 'rate-limited'
  | 'log-integrity'
  | 'unavailable';

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly detail: string;

  constructor(code: RegistryErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
  }
}

/**
 * SQLite result codes (better-sqlite3's `SqliteError.code`, extended codes included) of a database that cannot be
 * written or read right now but may be later: full disk, read-only file, a lock held by another process, I/O errors.
 */
const STORAGE_FAULTS: ReadonlyArray<[prefix: string, detail: string]> = [
  ['SQLITE_FULL', 'the database disk is full'],
  ['SQLITE_READONLY', 'the database is read-only'],
  ['SQLITE_BUSY', 'the database is locked by another process'],
  ['SQLITE_LOCKED', 'the database is locked'],
  ['SQLITE_IOERR', 'the database had an I/O error'],
  ['SQLITE_CANTOPEN', 'the database file cannot be opened'],
  ['SQLITE_PROTOCOL', 'the database lock protocol failed'],
];

/** The 503 a transient storage fault deserves (never a 500), or null when `error` is not one. */
export function storageUnavailable(error: unknown): RegistryError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const fault = STORAGE_FAULTS.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`));
  return fault ? new RegistryError('unavailable', `${fault[1]}; retry later`) : null;
}
