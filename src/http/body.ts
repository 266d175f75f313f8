// Request bodies: JSON only, read with a hard byte limit (never buffering more than the limit), then parsed by the
// strict parser (duplicate keys, lone surrogates and integers beyond 2^53 are refused).
import type { Context } from 'hono';
import { RegistryError } from '../core/errors.js';
import { parseJsonBytes, type JsonValue } from '../core/json.js';

/** A certificate or event is at most 64 KiB; a batch at most 1 MiB (DESIGN limits, documented in the README). */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_BATCH_BYTES = 1024 * 1024;

export async function readJson(c: Context, limit: number): Promise<JsonValue> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new RegistryError('unsupported-media-type', 'the body must be application/json');
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw new RegistryError('payload-too-large', `the body exceeds ${limit} bytes`);
  const body = c.req.raw.body;
  if (!body) throw new RegistryError('bad-json', 'the body is empty');
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new RegistryError('payload-too-large', `the body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return parseJsonBytes(bytes);
}
