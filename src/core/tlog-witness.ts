// C2SP tlog-witness (c2sp.org/tlog-witness), `add-checkpoint`: the request body a log sends to a witness and the
// responses it gets back. Only the wire format lives here (shared by the witness server and the log's client); the
// checks a witness makes are src/witness/, the log side is src/log/witnessing.ts. Pure: no node:* imports.
//
// Request body: "old <size>\n", zero to 63 consistency-proof lines (one base64 hash each), an empty line, then the
// signed checkpoint. Responses: 200 with cosignature lines; 409 with `text/x.tlog.size` "<size>\n" when `old` is not
// the size the witness last cosigned; 409 (another content type) when the sizes match but the roots do not; 422 for a
// consistency proof that does not verify; 403 no trusted log signature; 404 unknown origin; 400 malformed.
import { fromBase64, toBase64 } from './bytes.js';
import { RegistryError } from './errors.js';
import { HASH_SIZE } from './merkle.js';

/** tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_WITNESS_PROOF_LINES = 63;
/** The media type of a 409 answer that carries the witness's latest cosigned size. */
export const TLOG_SIZE_MEDIA_TYPE = 'text/x.tlog.size';

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export interface AddCheckpointRequest {
  /** The size of the checkpoint the client believes the witness cosigned last (0 when it does not know). */
  oldSize: number;
  /** RFC 6962 §2.1.2 consistency proof from `oldSize` to the checkpoint's size; empty when oldSize is 0. */
  proof: Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
}

function bad(detail: string): RegistryError {
  return new RegistryError('bad-request', `add-checkpoint: ${detail}`);
}

/** Parses a decimal tree size as tlog-witness writes it (no sign, no leading zeroes, at most 2^53 - 1). */
export function parseTreeSize(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0) throw bad('old size must be a non-negative integer');
  if (request.proof.length > MAX_WITNESS_PROOF_LINES) throw bad(`more than ${MAX_WITNESS_PROOF_LINES} proof lines`);
  if (request.oldSize === 0 && request.proof.length > 0) throw bad('the proof must be empty when the old size is 0');
  for (const h of request.proof) if (h.length !== HASH_SIZE) throw bad('a proof hash is not 32 bytes');
  return `old ${request.oldSize}\n${request.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${request.checkpoint}`;
}

/** Parses a request body strictly; throws RegistryError('bad-request') for anything malformed (HTTP 400). */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('no empty line before the checkpoint');
  const head = body.slice(0, blank).split('\n');
  const checkpoint = body.slice(blank + 2);
  const first = head.shift() ?? '';
  if (!first.startsWith('old ')) throw bad('the first line must be "old <size>"');
  const oldSize = parseTreeSize(first.slice(4));
  if (oldSize === null) throw bad('the old size must be decimal without leading zeroes, at most 2^53 - 1');
  if (head.length > MAX_WITNESS_PROOF_LINES) throw bad(`more than ${MAX_WITNESS_PROOF_LINES} proof lines`);
  const proof = head.map((line) => {
    let hash: Uint8Array;
    try {
      hash = fromBase64(line);
    } catch {
      throw bad('a proof line is not strict base64');
    }
    if (hash.length !== HASH_SIZE) throw bad('a proof line is not a 32-byte hash');
    return hash;
  });
  if (oldSize === 0 && proof.length > 0) throw bad('the proof must be empty when the old size is 0');
  if (checkpoint.length === 0 || !checkpoint.endsWith('\n')) throw bad('the checkpoint must end with a newline');
  return { oldSize, proof, checkpoint };
}

/** The body of a 409 answer with the witness's latest cosigned size. */
export function formatTreeSizeBody(size: number): string {
  return `${size}\n`;
}

/** Reads a `text/x.tlog.size` body, or null when it is not one. */
export function parseTreeSizeBody(body: string): number | null {
  if (!body.endsWith('\n')) return null;
  return parseTreeSize(body.slice(0, -1));
}
