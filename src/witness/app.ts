// The witness's HTTP interface (c2sp.org/tlog-witness): `POST /add-checkpoint` with the submission prefix being the
// server's root, plus `GET /` describing the witness (its verifier key and the logs it cosigns, with their sizes).
import { Hono } from 'hono';
import { readLimited } from '../http/body.js';
import type { Witness } from './witness.js';

/** A request is an old size, at most 63 proof lines and a checkpoint with at most 100 signatures: far below this. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;

export function createWitnessApp(witness: Witness): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    console.error('witness: unexpected error:', error);
    return c.text('internal error\n', 500);
  });
  app.notFound((c) => c.text(`no route for ${c.req.method} ${c.req.path}\n`, 404));

  app.post('/add-checkpoint', async (c) => {
    const bytes = await readLimited(c.req.raw, MAX_ADD_CHECKPOINT_BYTES);
    if (bytes === null) return c.text(`the request exceeds ${MAX_ADD_CHECKPOINT_BYTES} bytes\n`, 413);
    const res = await witness.addCheckpoint(new TextDecoder().decode(bytes));
    c.header('Cache-Control', 'no-store');
    return c.body(res.body, res.status, { 'Content-Type': res.contentType });
  });

  app.get('/', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ witness: witness.vkey, logs: witness.sizes() });
  });

  return app;
}
