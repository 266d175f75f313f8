// The witness's HTTP interface (c2sp.org/tlog-witness): `POST /add-checkpoint` with the submission prefix being the
// server's root, plus `GET /` describing the witness (its verifier key and the logs it cosigns, with their sizes).
import { Hono } from 'hono';
import type { Witness } from './witness.js';

/** A request is an old size, at most 63 proof lines and a checkpoint with at most 100 signatures: far below this. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;

async function readText(request: Request, limit: number): Promise<string | null> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) return null;
  const body = request.body;
  if (!body) return '';
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
  return Buffer.concat(chunks).toString('utf8');
}

export function createWitnessApp(witness: Witness): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    console.error('witness: unexpected error:', error);
    return c.text('internal error\n', 500);
  });
  app.notFound((c) => c.text(`no route for ${c.req.method} ${c.req.path}\n`, 404));

  app.post('/add-checkpoint', async (c) => {
    const body = await readText(c.req.raw, MAX_ADD_CHECKPOINT_BYTES);
    if (body === null) return c.text(`the request exceeds ${MAX_ADD_CHECKPOINT_BYTES} bytes\n`, 413);
    const res = await witness.addCheckpoint(body);
    c.header('Cache-Control', 'no-store');
    return c.body(res.body, res.status, { 'Content-Type': res.contentType });
  });

  app.get('/', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ witness: witness.vkey, logs: witness.sizes() });
  });

  return app;
}
