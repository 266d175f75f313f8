// C2SP tlog-proof (https://c2sp.org/tlog-proof, version c2sp.org/tlog-proof@v1): the textual, offline-verifiable
// proof that an entry is in a log, i.e. index, RFC 6962 §2.1.1 inclusion proof and the signed checkpoint. This module
// only encodes and decodes the format; verifying the proof and the checkpoint's signatures is done elsewhere.
// Pure: runs in Node, Workers and browsers.

import { fromBase64, toBase64 } from './bytes.js';
import { RegistryError } from './errors.js';
import { HASH_SIZE } from './merkle.js';

/** A parsed tlog-proof. */
export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  index: number;
  /** Inclusion proof: from the leaf's sibling up to the root's child (RFC 6962 §2.1.1). */
  proof: Uint8Array[];
  /** The full signed checkpoint note (tlog-checkpoint over signed-note), verbatim, ending in a newline. */
  checkpoint: string;
  /** Opaque, unauthenticated extra data (tlog-proof "Format": the optional `extra` line). Never trust it implicitly. */
  extra?: Uint8Array;
}

/** tlog-proof "Format": the first line. */
const HEADER = 'c2sp.org/tlog-proof@v1';
/** An inclusion proof in a tree of at most 2^64 leaves has at most 64 hashes (RFC 6962 §2.1.1). */
const MAX_PROOF_HASHES = 64;
/** Index: ASCII decimal, no leading zeroes unless it is `0` (tlog-proof "Format"). */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
/** A lone UTF-16 surrogate: such a string has no UTF-8 encoding, so it cannot be a note. */
const LONE_SURROGATE = /\p{Cs}/u;
/** signed-note: a signature line is an em dash (U+2014), a space, the key name, a space and base64. */
const SIGNATURE_LINE_START = '\u2014 ';

function bad(detail: string): RegistryError {
  return new RegistryError('bad-request', `tlog-proof: ${detail}`);
}

/**
 * A structural check of the checkpoint note (c2sp.org/signed-note): non-empty body lines, one blank line, then one or
 * more signature lines, each ending in a newline. Its contents (tlog-checkpoint) and signatures are checked by the
 * verifier; this only guarantees that the proof text is unambiguous and round-trips.
 */
function checkCheckpointShape(checkpoint: string): void {
  if (LONE_SURROGATE.test(checkpoint)) throw bad('checkpoint is not valid Unicode');
  if (checkpoint.includes('\r')) throw bad('checkpoint contains a carriage return');
  if (!checkpoint.endsWith('\n')) throw bad('checkpoint must end with a newline');
  const split = checkpoint.indexOf('\n\n');
  if (split <= 0) throw bad('checkpoint must be a signed note: body, blank line, signatures');
  const body = checkpoint.slice(0, split + 1);
  if (body.startsWith('\n')) throw bad('checkpoint body starts with a blank line');
  const signatures = checkpoint.slice(split + 2, -1);
  if (signatures.length === 0) throw bad('checkpoint has no signature lines');
  for (const line of signatures.split('\n')) {
    if (!line.startsWith(SIGNATURE_LINE_START)) throw bad('checkpoint has a malformed signature line');
  }
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw bad(`index ${index} is not a non-negative safe integer`);
}

/**
 * Formats a proof as tlog-proof@v1 text (tlog-proof "Format"): the header line; the `extra` line only when extra data is
 * present and non-empty; `index N`; one base64 hash per line; an empty line; the checkpoint verbatim. Throws
 * RegistryError('bad-request') for a proof that could not be parsed back (bad index, hash not 32 bytes, malformed note).
 */
export function formatTlogProof(p: TlogProof): string {
  checkIndex(p.index);
  if (p.proof.length > MAX_PROOF_HASHES) throw bad(`more than ${MAX_PROOF_HASHES} proof hashes`);
  checkCheckpointShape(p.checkpoint);
  let out = HEADER + '\n';
  if (p.extra !== undefined && p.extra.length > 0) out += `extra ${toBase64(p.extra)}\n`;
  out += `index ${p.index}\n`;
  for (const h of p.proof) {
    if (h.length !== HASH_SIZE) throw bad(`proof hash of ${h.length} bytes`);
    out += toBase64(h) + '\n';
  }
  return out + '\n' + p.checkpoint;
}

function decodeBase64(text: string, what: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch {
    throw bad(`${what} is not canonical standard base64`);
  }
}

/**
 * Parses tlog-proof@v1 text strictly (tlog-proof "Format"): exact header; optional `extra <base64>` with non-empty
 * data; `index N` without leading zeroes and at most 2^53 − 1; canonical base64 hashes of exactly 32 bytes; an empty
 * line; a checkpoint that is structurally a signed note. Lines end in U+000A only. Throws RegistryError('bad-request').
 */
export function parseTlogProof(text: string): TlogProof {
  let at = 0;
  const nextLine = (): string => {
    const end = text.indexOf('\n', at);
    if (end < 0) throw bad('unexpected end of proof');
    const line = text.slice(at, end);
    at = end + 1;
    if (line.includes('\r')) throw bad('lines must end with a bare newline');
    return line;
  };

  if (nextLine() !== HEADER) throw bad(`first line must be ${HEADER}`);

  let line = nextLine();
  let extra: Uint8Array | undefined;
  if (line.startsWith('extra ')) {
    extra = decodeBase64(line.slice('extra '.length), 'extra data');
    if (extra.length === 0) throw bad('empty extra data (omit the line instead)');
    line = nextLine();
  }

  if (!line.startsWith('index ')) throw bad('missing index line');
  const indexText = line.slice('index '.length);
  if (!DECIMAL.test(indexText)) throw bad('index must be a decimal integer with no leading zeroes');
  const index = Number(indexText);
  checkIndex(index);

  const proof: Uint8Array[] = [];
  for (line = nextLine(); line !== ''; line = nextLine()) {
    if (proof.length === MAX_PROOF_HASHES) throw bad(`more than ${MAX_PROOF_HASHES} proof hashes`);
    const hash = decodeBase64(line, 'proof hash');
    if (hash.length !== HASH_SIZE) throw bad(`proof hash of ${hash.length} bytes`);
    proof.push(hash);
  }

  const checkpoint = text.slice(at);
  checkCheckpointShape(checkpoint);
  const out: TlogProof = { index, proof, checkpoint };
  if (extra !== undefined) out.extra = extra;
  return out;
}
