// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint@v1.0.0), "Note text": the body of a signed note.
// Signing and verifying the note around it is src/core/note.ts.
import { fromBase64, toBase64 } from './bytes.js';
import { RegistryError } from './errors.js';

export interface Checkpoint {
  /** Log identity (first line). Non-empty; by convention a schema-less URL, but never assumed to be one. */
  origin: string;
  /** Number of leaves; a safe integer (this project bounds tree sizes by 2^53 - 1). */
  size: number;
  /** RFC 6962 / RFC 9162 Merkle tree head at `size`, 32 bytes. */
  root: Uint8Array;
  /** Opaque, non-empty extension lines (NOT RECOMMENDED by the spec; kept for round trips). */
  extensions: string[];
}

const ROOT_LENGTH = 32;
/** ASCII decimal without leading zeroes ("0" only for the empty tree). */
const SIZE_PATTERN = /^(0|[1-9][0-9]*)$/;
/** signed-note §Format forbids ASCII control characters other than newline anywhere in a note. */
const CONTROL = /[\u0000-\u001f]/;

function bad(detail: string): RegistryError {
  return new RegistryError('bad-request', `checkpoint: ${detail}`);
}

/** A line of the body: non-empty, no newline or other control character. */
function checkLine(line: string, what: string): void {
  if (line.length === 0) throw bad(`empty ${what}`);
  if (CONTROL.test(line)) throw bad(`control character in ${what}`);
}

/** "origin\nsize\nbase64(root)\n" followed by one "extension\n" per extension line. */
export function formatCheckpoint(c: Checkpoint): string {
  checkLine(c.origin, 'origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw bad('size must be a safe non-negative integer');
  if (c.root.length !== ROOT_LENGTH) throw bad('root hash must be 32 bytes');
  for (const e of c.extensions) checkLine(e, 'extension line');
  return [c.origin, String(c.size), toBase64(c.root), ...c.extensions].map((l) => `${l}\n`).join('');
}

/**
 * Parses a checkpoint body strictly: at least three non-empty lines, each ending in newline; decimal
 * size without leading zeroes and within 2^53 - 1; root in strict base64 of exactly 32 bytes.
 * Invariant: formatCheckpoint(parseCheckpoint(t)) === t for every accepted t.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw bad('text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || size === undefined || root === undefined) throw bad('fewer than three lines');
  checkLine(origin, 'origin');
  for (const e of extensions) checkLine(e, 'extension line');
  if (!SIZE_PATTERN.test(size)) throw bad('size must be decimal without leading zeroes');
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw bad('size beyond 2^53 - 1');
  let rootBytes: Uint8Array;
  try {
    rootBytes = fromBase64(root);
  } catch {
    throw bad('root hash is not strict base64');
  }
  if (rootBytes.length !== ROOT_LENGTH) throw bad('root hash must be 32 bytes');
  return { origin, size: n, root: rootBytes, extensions };
}
