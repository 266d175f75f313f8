// Workers entry: the same createApp and core as src/node.ts, on Cloudflare D1, with one Durable Object as the single
// sequencer of the log. Like the Node entry it only builds the services and calls createApp.
//
// Topology (DESIGN §Architecture, "Scale beyond one machine"):
// - Reads (GET and HEAD, and the read-only batch POST /api/v1/verify) are answered by whichever Worker instance got the
//   request, straight from D1. Responses the app marks `immutable` (full tiles, entry bundles, consistency proofs) are
//   kept in the edge cache.
// - Every other request (every write, and /healthz, which reports the writer's state) is forwarded to one Durable
//   Object, named after the log origin. It owns the Sequencer (pooling, one atomic D1 batch per pool, CAS on the
//   previous checkpoint), the Registry with its per-certificate locks and the Authenticator with its set of used token
//   ids, so concurrent Worker instances can never fork the log and a token id is single-use across all of them.
// - An entry is acknowledged only after the D1 batch holding it returned; a read that follows sees it.
// - Write rate limits (CERTRAIL_RATE_LIMIT, src/http/rate-limit.ts) keep their buckets in the isolate of the app that
//   applies them: the Durable Object's, since every write is forwarded there, so one log has one set of buckets while
//   the object stays in memory (an eviction or restart starts them full). Client addresses are CF-Connecting-IP.
//
// Keys come from Worker secrets, as C2SP signer-key strings (`certrail keygen`): LOG_KEY (named after the log origin),
// REGISTRY_KEY (named `certrail-registry`) and, for managed signing, MANAGED_KEYS and/or MANAGED_KEY_MASTER (see
// secretManagedKeyStore).
//
// nodejs_compat is on for one reason: drizzle's blob columns (`mode: 'buffer'`, shared with the better-sqlite3 driver)
// decode D1's byte arrays with the global `Buffer`. Nothing in src/ imports a node: module on this path.
//
// Types come from @cloudflare/workers-types as module imports (its global declarations would clash with the DOM and
// Node types the rest of src/ is checked with), so `tsc` checks this file with everything else. Where a binding
// takes or returns a Request or Response, a local interface states it with the standard types.
import type { D1Database, DurableObjectId, DurableObjectState, ExecutionContext } from '@cloudflare/workers-types/index.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { logOriginFor, REGISTRY_KEY_NAME } from './config.js';
import { seedDemoOnStart } from './demo.js';
import { fromHex, toHex, utf8 } from './core/bytes.js';
import { sha256 } from './core/crypto.js';
import { RegistryError } from './core/errors.js';
import { encodeMultikey } from './core/multibase.js';
import { parseSignerKey } from './core/note.js';
import { createApp, type RegistryConfig } from './http/app.js';
import { Authenticator } from './http/auth.js';
import { MAX_BATCH_BYTES } from './http/body.js';
import { parseRateLimit } from './http/rate-limit.js';
import { ASSET_NAMES, ASSET_TYPES, type Asset, type AssetMap } from './http/pages/assets.js';
import { LogReader } from './log/reader.js';
import { Sequencer } from './log/sequencer.js';
import { MANAGED_KEY_ID, Registry, type ManagedKeyStore } from './registry/registry.js';
import { RegistryViews } from './registry/views.js';
import { createD1LogStore, D1_MAX_PARAMETERS, openD1, type D1Handle } from './store/d1.js';
import type { AnySQLiteDatabase } from './store/log-store.js';
import { RegistryStore } from './store/registry-store.js';

/** A Durable Object stub, as this file uses it. */
export interface SequencerStub {
  fetch(request: Request): Promise<Response>;
}

/** The Durable Object namespace binding of the sequencer, as this file uses it. */
export interface SequencerNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): SequencerStub;
}

/** The Workers edge cache (`caches.default`), as this file uses it. */
interface EdgeCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

/** The static assets binding (`[assets] binding` in wrangler.toml): the files of public/. */
interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

export interface Env {
  DB: D1Database;
  SEQUENCER: SequencerNamespace;
  ASSETS?: AssetsBinding;
  /** Secret: the log's signer key, named after the log origin. */
  LOG_KEY?: string;
  /** Secret: the registry's signer key, named `certrail-registry`. */
  REGISTRY_KEY?: string;
  /** Secret: explicit managed signing keys, `{ "<slug>": "<signer key named <slug>.<key id>>" }`. */
  MANAGED_KEYS?: string;
  /** Secret: 64 hex digits from which the managed keys of CBs registered on the Worker are derived. */
  MANAGED_KEY_MASTER?: string;
  /** The public base URL; certificate ids, verify URLs and the JWT audience derive from it. */
  CERTRAIL_ORIGIN?: string;
  /** The checkpoint origin line; default: host and path of CERTRAIL_ORIGIN, then `/log`. */
  CERTRAIL_LOG_ORIGIN?: string;
  /** `1`: seed the demo data into an empty registry when the sequencer starts (`npm run dev:worker`). */
  CERTRAIL_DEMO?: string;
  /** Entries per D1 batch at most (default 128). */
  CERTRAIL_MAX_BATCH?: string;
  /** How long the first append of a pool waits for company, in ms (default 2). */
  CERTRAIL_MAX_DELAY_MS?: string;
  /** Writes per CB: `<per second>,<burst>` or `off` (default 100,1000; src/http/rate-limit.ts). */
  CERTRAIL_RATE_LIMIT?: string;
}

type SignerKey = Awaited<ReturnType<typeof parseSignerKey>>;

interface WorkerConfig {
  baseUrl: string;
  logOrigin: string;
  logKey: SignerKey;
  registryKey: SignerKey;
  public: RegistryConfig;
}

/** A configuration problem of the deployment (a missing or wrong secret); its message names no secret value. */
class ConfigurationError extends Error {}

function secret(env: Env, name: 'LOG_KEY' | 'REGISTRY_KEY'): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`the ${name} secret is not set (wrangler secret put ${name})`);
  return value;
}

async function signerKey(env: Env, name: 'LOG_KEY' | 'REGISTRY_KEY', keyName: string): Promise<SignerKey> {
  let key: SignerKey;
  try {
    key = await parseSignerKey(secret(env, name));
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`the ${name} secret is not a C2SP signer key (certrail keygen writes one)`);
  }
  if (key.name !== keyName) throw new ConfigurationError(`the ${name} secret holds the key of "${key.name}", not "${keyName}"`);
  return key;
}

async function loadConfig(env: Env): Promise<WorkerConfig> {
  const origin = env.CERTRAIL_ORIGIN?.trim();
  if (!origin) throw new ConfigurationError('CERTRAIL_ORIGIN (the public base URL) is not set');
  const baseUrl = origin.replace(/\/+$/, '');
  const logOrigin = env.CERTRAIL_LOG_ORIGIN?.trim() || logOriginFor(baseUrl);
  const logKey = await signerKey(env, 'LOG_KEY', logOrigin);
  const registryKey = await signerKey(env, 'REGISTRY_KEY', REGISTRY_KEY_NAME);
  let rateLimit;
  try {
    rateLimit = parseRateLimit(env.CERTRAIL_RATE_LIMIT);
  } catch (error) {
    throw new ConfigurationError(error instanceof Error ? error.message : String(error));
  }
  return {
    baseUrl,
    logOrigin,
    logKey,
    registryKey,
    public: { baseUrl, logOrigin, logVerifierKey: logKey.vkey, registryKey: encodeMultikey(registryKey.publicKey), rateLimit },
  };
}

/** The configuration, parsed once per isolate (and again only when the settings change). */
let configCache: { source: string; config: Promise<WorkerConfig> } | null = null;
function workerConfig(env: Env): Promise<WorkerConfig> {
  const source = JSON.stringify([env.CERTRAIL_ORIGIN, env.CERTRAIL_LOG_ORIGIN, env.LOG_KEY, env.REGISTRY_KEY, env.CERTRAIL_RATE_LIMIT]);
  if (configCache?.source !== source) {
    const config = loadConfig(env);
    configCache = { source, config };
    config.catch(() => {
      if (configCache?.config === config) configCache = null;
    });
  }
  return configCache.config;
}

/**
 * Managed signing keys (an explicit per-CB opt-in). A Worker cannot write secrets, so keys come from two secrets:
 * - MANAGED_KEYS: `{ "<slug>": "<C2SP signer key named <slug>.<key id>>" }`, explicit keys (e.g. the files of
 *   keys/managed/ when a Node deployment moves to Workers); they take precedence;
 * - MANAGED_KEY_MASTER: 32 random bytes in hex; a CB registered with managed signing and no explicit key gets the key
 *   HMAC-SHA256(master, "certrail managed key v1" 0x0A slug 0x0A key id), derived again whenever it signs.
 * Without either, registering a CB with managed signing is refused.
 */
export function secretManagedKeyStore(explicitJson: string | undefined, masterHex: string | undefined): ManagedKeyStore {
  let explicit: Record<string, unknown> = {};
  let explicitError: string | null = null;
  if (explicitJson?.trim()) {
    try {
      const parsed: unknown = JSON.parse(explicitJson);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      explicit = parsed as Record<string, unknown>;
    } catch {
      explicitError = 'the MANAGED_KEYS secret is not a JSON object of signer keys';
    }
  }
  const master = masterHex?.trim() ? fromHexSecret(masterHex.trim()) : null;
  const derive = (secret: Uint8Array, slug: string, keyId: string) => ({
    keyId,
    seed: hmac(nobleSha256, secret, utf8(`certrail managed key v1\n${slug}\n${keyId}`)),
  });
  return {
    async get(slug) {
      if (explicitError) throw new RegistryError('unavailable', explicitError);
      const skey = Object.hasOwn(explicit, slug) ? explicit[slug] : undefined;
      if (skey === undefined) return master ? derive(master, slug, MANAGED_KEY_ID) : null;
      const key = typeof skey === 'string' ? await parseSignerKey(skey.trim()).catch(() => null) : null;
      const keyId = key?.name.slice(slug.length + 1) ?? '';
      if (!key || !key.name.startsWith(`${slug}.`) || keyId === '') {
        throw new RegistryError('unavailable', `the MANAGED_KEYS secret holds no signer key of ${slug} (named ${slug}.<key id>)`);
      }
      return { keyId, seed: key.seed };
    },
    async create(slug, keyId) {
      if (master) return derive(master, slug, keyId);
      throw new RegistryError(
        'conflict',
        `managed signing on Workers needs the MANAGED_KEY_MASTER secret, or a key of ${slug} in the MANAGED_KEYS secret ` +
          `(\`certrail keygen --name ${slug}.${keyId}\`)`,
      );
    },
  };
}

function fromHexSecret(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigurationError('the MANAGED_KEY_MASTER secret must be 64 hex digits (openssl rand -hex 32)');
  return fromHex(hex.toLowerCase());
}

function positiveInteger(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** An RFC 9457 problem like the app's (src/http/problem.ts), for failures before the app runs. */
function unavailable(detail: string): Response {
  return new Response(
    JSON.stringify({ type: '/problems/unavailable', title: 'Service unavailable', status: 503, code: 'unavailable', detail }),
    { status: 503, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'retry-after': '1' } },
  );
}

/**
 * The pages' assets (stylesheet, icon, scripts) read from the assets binding once per isolate, as the Node entry reads
 * them from public/ (src/node-assets.ts): the pages put each one's content hash in its URL. Missing ones are left out.
 */
async function workerAssets(env: Env): Promise<AssetMap> {
  const assets = new Map<string, Asset>();
  if (!env.ASSETS) return assets;
  for (const name of ASSET_NAMES) {
    const path = name.endsWith('.js') ? `/assets/${name}` : `/${name}`;
    const res = await env.ASSETS.fetch(new Request(`https://assets.internal${path}`));
    if (res.status !== 200) continue;
    const body = new Uint8Array(await res.arrayBuffer());
    assets.set(name, { body, contentType: ASSET_TYPES[name], hash: toHex(sha256(body)).slice(0, 16) });
  }
  return assets;
}

function registryStoreOf(db: D1Handle): RegistryStore {
  return new RegistryStore(db as unknown as AnySQLiteDatabase, D1_MAX_PARAMETERS);
}

// --- the sequencer: one Durable Object per log ------------------------------------------------------------------

export interface SequencerServices {
  app: { fetch(request: Request): Response | Promise<Response> };
  sequencer: Sequencer;
  registry: Registry;
  views: RegistryViews;
  config: WorkerConfig;
}

/**
 * The single writer of the log: runs the whole app with the Sequencer, the Registry and the Authenticator, and is
 * sent every write. Its state is only in memory and D1: when it is evicted or restarted, the next request opens the
 * Sequencer again (which checks that the stored tiles reproduce the latest checkpoint) and reloads the used token ids.
 */
export class LogSequencer {
  private starting: Promise<SequencerServices> | null = null;

  constructor(
    protected readonly ctx: DurableObjectState,
    protected readonly env: Env,
  ) {}

  /** The services, started once; a failed start (a missing secret, D1 unreachable) is retried by the next request. */
  protected started(): Promise<SequencerServices> {
    if (!this.starting) {
      const starting = this.start();
      this.starting = starting;
      starting.catch(() => {
        if (this.starting === starting) this.starting = null;
      });
    }
    return this.starting;
  }

  private async start(): Promise<SequencerServices> {
    const env = this.env;
    const config = await workerConfig(env);
    const db = openD1(env.DB);
    const store = createD1LogStore(db);
    const sequencer = await Sequencer.open({
      store,
      signer: config.logKey,
      origin: config.logOrigin,
      maxBatch: positiveInteger(env.CERTRAIL_MAX_BATCH, 128),
      maxDelayMs: positiveInteger(env.CERTRAIL_MAX_DELAY_MS, 2),
    });
    if (sequencer.refused) console.error(`writes refused: ${sequencer.refused}`);
    const log = new LogReader(store, async () => sequencer.checkpoint);
    const registryStore = registryStoreOf(db);
    const now = Date.now;
    const registry = new Registry({
      baseUrl: config.baseUrl,
      store: registryStore,
      sequencer,
      log,
      registryKey: { seed: config.registryKey.seed, publicKey: config.registryKey.publicKey },
      managedKeys: secretManagedKeyStore(env.MANAGED_KEYS, env.MANAGED_KEY_MASTER),
      now,
    });
    const auth = new Authenticator({ audience: config.baseUrl, store: registryStore, registryPublicKey: config.registryKey.publicKey, now });
    await auth.loadUsedTokens();
    const views = new RegistryViews(config.baseUrl, registryStore, log);
    const assets = await workerAssets(env);
    const app = createApp({
      config: config.public,
      log,
      api: { registry, views, auth, now },
      writeRefusal: () => sequencer.refused,
      assets,
      clientAddress: (c) => c.req.header('cf-connecting-ip'),
    });
    if (env.CERTRAIL_DEMO === '1') {
      try {
        const lines = await seedDemoOnStart(
          { registry, views, baseUrl: config.baseUrl, writeRefusal: sequencer.refused },
          { CERTRAIL_DEMO: env.CERTRAIL_DEMO },
        );
        for (const line of lines) console.log(line);
      } catch (error) {
        console.error(`demo data not seeded: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { app, sequencer, registry, views, config };
  }

  async fetch(request: Request): Promise<Response> {
    let services: SequencerServices;
    try {
      services = await this.started();
    } catch (error) {
      if (error instanceof ConfigurationError) return unavailable(`the Worker is misconfigured: ${error.message}`);
      console.error(`the sequencer could not start: ${error instanceof Error ? error.message : String(error)}`);
      return unavailable('the log sequencer could not start; retry later');
    }
    return services.app.fetch(request);
  }
}

/** The sequencer of this deployment's log (one Durable Object per log origin, so a new origin gets its own). */
export function sequencerStub(env: Env): SequencerStub {
  const origin = env.CERTRAIL_LOG_ORIGIN?.trim() || logOriginFor((env.CERTRAIL_ORIGIN ?? '').trim().replace(/\/+$/, ''));
  return env.SEQUENCER.get(env.SEQUENCER.idFromName(origin));
}

/** Whether a request goes to the sequencer: writes, and /healthz (the writer's state). */
export function isSequencerRequest(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return path === '/healthz';
  return !(method === 'POST' && path === '/api/v1/verify');
}

// --- the read side: any Worker instance -------------------------------------------------------------------------

/** The front never appends: write routes are forwarded to the sequencer before they reach its app. */
const NO_SEQUENCER = new Proxy(
  {},
  {
    get() {
      throw new RegistryError('unavailable', 'writes are sequenced by the log sequencer, not by this instance');
    },
  },
) as unknown as Sequencer;

/**
 * The read app of this isolate, built once per `env` (createApp costs milliseconds; requests then share it). Every
 * read of the latest checkpoint goes to D1, so a read that follows an acknowledged write sees it; a request that reads
 * it twice may see the tree grow in between, which every reader method allows (tiles of a smaller tree never change).
 */
const readApps = new WeakMap<Env, Promise<ReturnType<typeof createApp>>>();

function readApp(env: Env): Promise<ReturnType<typeof createApp>> {
  let app = readApps.get(env);
  if (!app) {
    app = buildReadApp(env);
    readApps.set(env, app);
    app.catch(() => readApps.delete(env));
  }
  return app;
}

async function buildReadApp(env: Env) {
  const config = await workerConfig(env);
  const db = openD1(env.DB);
  const store = createD1LogStore(db);
  const log = new LogReader(store, async () => {
    const checkpoint = await store.latestCheckpoint();
    if (checkpoint) return checkpoint;
    // A new deployment: the sequencer signs the empty tree when it first starts.
    await sequencerStub(env).fetch(new Request('https://sequencer.internal/healthz'));
    const started = await store.latestCheckpoint();
    if (!started) throw new RegistryError('unavailable', 'the log has not started yet');
    return started;
  });
  const registryStore = registryStoreOf(db);
  const now = Date.now;
  const registry = new Registry({
    baseUrl: config.baseUrl,
    store: registryStore,
    sequencer: NO_SEQUENCER,
    log,
    registryKey: { seed: config.registryKey.seed, publicKey: config.registryKey.publicKey },
    managedKeys: secretManagedKeyStore(undefined, undefined),
    now,
  });
  const auth = new Authenticator({ audience: config.baseUrl, store: registryStore, registryPublicKey: config.registryKey.publicKey, now });
  const views = new RegistryViews(config.baseUrl, registryStore, log);
  return createApp({ config: config.public, log, api: { registry, views, auth, now }, writeRefusal: () => null, assets: await workerAssets(env) });
}

/** Responses the app marks immutable (full tiles, entry bundles, consistency proofs) never change: cache them. */
function isImmutable(response: Response): boolean {
  return response.status === 200 && /(^|,)\s*immutable\s*(,|$)/.test(response.headers.get('cache-control') ?? '');
}

/**
 * Forwards a request to the sequencer with its body read here first, at most MAX_BATCH_BYTES + 1 bytes: every route's
 * limit is at most MAX_BATCH_BYTES, so the app answers exactly as it would to the whole body (401 before reading it,
 * 413 past its limit), and the Durable Object may answer without reading a body still streaming from the client.
 */
async function forwardToSequencer(request: Request, env: Env): Promise<Response> {
  if (!request.body) return sequencerStub(env).fetch(request);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total <= MAX_BATCH_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  if (total > MAX_BATCH_BYTES) await reader.cancel();
  const body = new Uint8Array(Math.min(total, MAX_BATCH_BYTES + 1));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, body.length - offset);
    body.set(part, offset);
    offset += part.length;
  }
  const headers = new Headers(request.headers);
  if (total > MAX_BATCH_BYTES) headers.delete('content-length');
  return sequencerStub(env).fetch(new Request(request.url, { method: request.method, headers, body }));
}

export async function handleRequest(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (isSequencerRequest(request.method, path)) return forwardToSequencer(request, env);
  let app: Awaited<ReturnType<typeof readApp>>;
  try {
    app = await readApp(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return unavailable(`the Worker is misconfigured: ${error.message}`);
    throw error;
  }
  const cacheable = request.method === 'GET' && path.startsWith('/log/');
  const cache = (globalThis as unknown as { caches: { default: EdgeCache } }).caches.default;
  if (cacheable) {
    const hit = await cache.match(request);
    if (hit) return hit;
  }
  const response = await app.fetch(request);
  if (cacheable && isImmutable(response)) ctx.waitUntil(cache.put(request, response.clone()));
  return response;
}

export default { fetch: handleRequest };
