// The one Hono application both entries (Node and Workers) serve. Entries build the services; this wires the routes.
import { Hono, type Context } from 'hono';
import type { LogReader } from '../log/reader.js';
import { apiRoutes, type ApiServices } from './api-routes.js';
import { logRoutes } from './log-routes.js';
import { docsResponse, openApiResponse } from './openapi.js';
import { handleError, problem } from './problem.js';
import { RateLimiter, rateLimitWrites, type RateLimit } from './rate-limit.js';
import { encodeMultikey } from '../core/multibase.js';
import type { AssetMap } from './pages/assets.js';
import { wantsHtml } from './pages/layout.js';
import { pageRoutes, Pages } from './pages/routes.js';

export interface RegistryConfig {
  /** The public base URL, e.g. `https://certrail.example.org`; certificate ids and the JWT audience derive from it. */
  baseUrl: string;
  /** The checkpoint origin line, e.g. `certrail.example.org/log`. */
  logOrigin: string;
  /** The log's C2SP verifier key (`name+hexid+base64(0x01||pubkey)`). */
  logVerifierKey: string;
  /** The registry key (signs issuer documents and operator tokens), as Multikey. */
  registryKey: string;
  /** The witnesses the log asks for cosignatures (cosignature/v1 verifier key and submission URL); none if absent. */
  witnesses?: ReadonlyArray<{ vkey: string; url: string }>;
  /** How many of `witnesses` must cosign a checkpoint for a verifier to accept it (0 if absent). */
  witnessQuorum?: number;
  /** Per-CB limit on writes (src/http/rate-limit.ts); absent or null: none. The entries default to DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimit | null;
}

export interface AppServices {
  config: RegistryConfig;
  log: LogReader;
  api: ApiServices;
  /** Null while the log accepts writes; otherwise why it refuses them. */
  writeRefusal(): string | null;
  /** The pages' stylesheet and scripts (src/node-assets.ts for Node); without them the pages work, unstyled and unchecked. */
  assets?: AssetMap;
  /** The client's address where the runtime gives one: writes without a valid token are rate-limited per address. */
  clientAddress?(c: Context): string | undefined;
}

export function createApp(services: AppServices): Hono {
  const { config, log } = services;
  const app = new Hono();
  app.onError(handleError);
  // Before any route, so a refused write costs no signature check; the buckets live as long as this app.
  if (config.rateLimit) {
    const limiter = new RateLimiter(config.rateLimit, services.api.now);
    app.use('/api/v1/*', rateLimitWrites(limiter, (c) => services.clientAddress?.(c)));
  }
  const pages = new Pages({ baseUrl: config.baseUrl, views: services.api.views, now: services.api.now, assets: services.assets ?? new Map() });
  app.notFound((c) => (wantsHtml(c.req.header('accept')) ? pages.missing(c) : problem(c, 'not-found', `no route for ${c.req.method} ${c.req.path}`)));

  app.route('/log', logRoutes(log));
  app.route('/api/v1', apiRoutes(services.api));

  // The verify URL is the certificate id: the verify page for browsers (Accept prefers text/html), JSON otherwise.
  app.get('/v/:issuer/:number', async (c) => {
    if (wantsHtml(c.req.header('accept'))) return pages.verify(c, c.req.param('issuer'), c.req.param('number'));
    const found = await services.api.views.verdict(c.req.param('issuer'), c.req.param('number'), services.api.now());
    if (!found) return problem(c, 'not-found', 'this certificate is not found in this registry');
    c.header('Vary', 'Accept');
    c.header('Cache-Control', 'no-cache');
    return c.json({ id: found.id, issuer: found.issuer, number: found.number, ...found.verdict });
  });

  // did:web document of an issuer (did:web:<host>:issuers:<slug>), its unrevoked keys as Multikey.
  app.get('/issuers/:issuer/did.json', async (c) => {
    const slug = c.req.param('issuer');
    const keys = await services.api.views.activeKeys(slug, services.api.now());
    if (!keys) return problem(c, 'not-found', 'no such issuer');
    const url = new URL(config.baseUrl);
    const did = `did:web:${[encodeURIComponent(url.host), ...url.pathname.split('/').filter(Boolean), 'issuers', slug].join(':')}`;
    const methods = keys.map((k) => ({
      id: `${did}#${k.keyId}`,
      type: 'Multikey',
      controller: did,
      publicKeyMultibase: encodeMultikey(k.publicKey),
    }));
    return c.json({
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: did,
      alsoKnownAs: [`${config.baseUrl}/issuers/${slug}`],
      verificationMethod: methods,
      assertionMethod: methods.map((m) => m.id),
      authentication: methods.map((m) => m.id),
    });
  });

  app.get('/.well-known/certrail', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({
      origin: config.logOrigin,
      logVerifierKey: config.logVerifierKey,
      registryKey: config.registryKey,
      baseUrl: config.baseUrl,
      apiBase: `${config.baseUrl}/api/v1`,
      checkpoint: `${config.baseUrl}/log/checkpoint`,
      tiles: `${config.baseUrl}/log/`,
      // The witness policy verifiers should apply (SDK verifyBundle: policy.witnesses = the vkeys, policy.quorum).
      witnesses: (config.witnesses ?? []).map((w) => ({ vkey: w.vkey, url: w.url })),
      quorum: config.witnessQuorum ?? 0,
    });
  });

  app.get('/healthz', async (c) => {
    const checkpoint = await log.checkpoint();
    const refusal = services.writeRefusal();
    c.header('Cache-Control', 'no-store');
    return c.json({ ok: refusal === null, size: checkpoint.size, writes: refusal === null ? 'accepted' : 'refused', reason: refusal ?? undefined });
  });

  app.get('/openapi.json', () => openApiResponse(config.baseUrl));
  app.get('/docs', () => docsResponse(config.baseUrl));
  // Landing, search and issuer pages, and their assets (src/http/pages/).
  app.route('/', pageRoutes(pages));

  return app;
}
