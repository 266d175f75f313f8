// The public, read-only log endpoints: C2SP tlog-tiles paths, so existing tlog clients and witnesses can read them.
import { Hono } from 'hono';
import { toBase64 } from '../core/bytes.js';
import { RegistryError } from '../core/errors.js';
import { parseTilePath, TILE_WIDTH } from '../core/tiles.js';
import type { LogReader } from '../log/reader.js';
import { problem } from './problem.js';

/** Full tiles never change (C2SP tlog-tiles); partial tiles of a given width never change either, but are replaced. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const PARTIAL = 'public, max-age=60';
/** Clients poll the checkpoint; a few seconds of caching bounds the load without delaying new entries much. */
const CHECKPOINT = 'public, max-age=2';

/** Decimal tree sizes as C2SP writes them: no sign, no leading zeros, at most 2^53. */
export function parseSize(value: string | undefined, name: string): number {
  if (value === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new RegistryError('bad-range', `${name} must be a decimal integer between 0 and 2^53-1`);
  }
  return Number(value);
}

export function logRoutes(log: LogReader): Hono {
  const app = new Hono();

  app.get('/checkpoint', async (c) => {
    const checkpoint = await log.checkpoint();
    return c.body(checkpoint.note, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': CHECKPOINT });
  });

  app.get('/tile/*', async (c) => {
    const path = c.req.path.slice(c.req.path.indexOf('/tile/') + 1);
    const parsed = parseTilePath(path);
    const data = parsed.kind === 'hash' ? await log.hashTile(parsed.tile) : await log.entryBundle(parsed.tile);
    if (!data) return problem(c, 'not-found', `${path} is beyond the current tree`);
    // Stored bytes are never backed by a SharedArrayBuffer.
    return c.body(data as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': parsed.tile.width === TILE_WIDTH ? IMMUTABLE : PARTIAL,
    });
  });

  app.get('/proof/consistency', async (c) => {
    const from = parseSize(c.req.query('from'), 'from');
    const to = parseSize(c.req.query('to'), 'to');
    const proof = await log.consistencyProof(from, to);
    c.header('Cache-Control', IMMUTABLE);
    return c.json({ from, to, proof: proof.map(toBase64) });
  });

  return app;
}
