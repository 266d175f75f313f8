// Request bodies: JSON only, read with a hard byte limit (never buffering more than the limit), then parsed by the
// strict parser (duplicate keys, lone surrogates and integers beyond 2^53 are refused).
import type { Context } from 'hono';
import { RegistryError } from '../core/errors.js';
import { concatBytes } from '../core/bytes.js';
import { parseJsonBytes, type JsonValue } from '../core/json.js';

/** A certificate or event is at most 64 KiB; a batch at most 1 MiB (DESIGN limits, documented in the README). */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_BATCH_BYTES = 1024 * 1024;

export async function readJson(c: Context, limit: number): Promise<JsonValue> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new RegistryError('unsupported-media-type', 'the body must be application/json');
  }
  const bytes = await readLimited(c.req.raw, limit);
  if (bytes === null) throw new RegistryError('payload-too-large', `the body exceeds ${limit} bytes`);
  if (bytes.length === 0) throw new RegistryError('bad-json', 'the body is empty');
  return parseJsonBytes(bytes);
}

/**
 * A request body of at most `limit` bytes, or null when it is larger: the declared Content-Length is checked first,
 * and a streamed body is cancelled as soon as it passes the limit, so no more than `limit` bytes are ever buffered.
 */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array | null> {
  const length = request.headers.get('content-length');
  const declared = Number(length ?? '0');
  if (declared > limit) return null;
  if (length !== null && !request.headers.has('transfer-encoding')) {
    // The HTTP parser holds a body with a Content-Length (and no Transfer-Encoding) to that length (RFC 9112 §6.3),
    // so it is read whole: on Node without a web stream, a measured twentieth of an issuance's time.
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.length > limit ? null : bytes;
  }
  const body = request.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}
