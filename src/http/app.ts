// The one Hono application both entries (Node and Workers) serve. Entries build the services; this wires the routes.
import { Hono } from 'hono';
import type { LogReader } from '../log/reader.js';
import { logRoutes } from './log-routes.js';
import { handleError, problem } from './problem.js';

export interface RegistryConfig {
  /** The public base URL, e.g. `https://certrail.example.org`; certificate ids and the JWT audience derive from it. */
  baseUrl: string;
  /** The checkpoint origin line, e.g. `certrail.example.org/log`. */
  logOrigin: string;
  /** The log's C2SP verifier key (`name+hexid+base64(0x01||pubkey)`). */
  logVerifierKey: string;
}

export interface AppServices {
  config: RegistryConfig;
  log: LogReader;
  /** Null while the log accepts writes; otherwise why it refuses them. */
  writeRefusal(): string | null;
}

export function createApp(services: AppServices): Hono {
  const { config, log } = services;
  const app = new Hono();
  app.onError(handleError);
  app.notFound((c) => problem(c, 'not-found', `no route for ${c.req.method} ${c.req.path}`));

  app.route('/log', logRoutes(log));

  app.get('/.well-known/certrail', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({
      origin: config.logOrigin,
      logVerifierKey: config.logVerifierKey,
      baseUrl: config.baseUrl,
      apiBase: `${config.baseUrl}/api/v1`,
      checkpoint: `${config.baseUrl}/log/checkpoint`,
      tiles: `${config.baseUrl}/log/`,
    });
  });

  app.get('/healthz', async (c) => {
    const checkpoint = await log.checkpoint();
    const refusal = services.writeRefusal();
    c.header('Cache-Control', 'no-store');
    return c.json({ ok: refusal === null, size: checkpoint.size, writes: refusal === null ? 'accepted' : 'refused', reason: refusal ?? undefined });
  });

  return app;
}
