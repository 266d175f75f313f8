// Node entry: a better-sqlite3 file and @hono/node-server. It only builds the services and calls createApp.
import './thread-pool.js'; // first: sizes libuv's thread pool before anything starts it
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileManagedKeyStore, loadOrCreateKeyFile } from './cli/keyfile.js';
import { logOriginFor, REGISTRY_KEY_NAME } from './config.js';
import { seedDemoOnStart } from './demo.js';
import { encodeMultikey } from './core/multibase.js';
import { Authenticator } from './http/auth.js';
import { Registry } from './registry/registry.js';
import { RegistryViews } from './registry/views.js';
import type { AnySQLiteDatabase } from './store/log-store.js';
import { RegistryStore } from './store/registry-store.js';
import { createApp, type RegistryConfig } from './http/app.js';
import { parseRateLimit, type RateLimit } from './http/rate-limit.js';
import { ElectedSequencer, isWriteRequest } from './log/leader.js';
import { LogReader } from './log/reader.js';
import { Sequencer } from './log/sequencer.js';
import { defaultWitnessQuorum, parseWitnessList, Witnessing, type WitnessEndpoint } from './log/witnessing.js';
import { createSqliteLogStore, dataVersion, openSqlite, trySequencerLock } from './store/sqlite.js';
import { nodeAssets } from './node-assets.js';
import { installNativeCrypto } from './native-crypto.js';

// Native SHA-256 and Ed25519 verification for src/core (Merkle hashing, signatures; see src/native-crypto.ts), the
// signatures on libuv's thread pool so that the server's main thread only queues them.
installNativeCrypto({ threadPool: true });

// Shared with the Workers entry (src/worker.ts); re-exported for the CLI, scripts and tests that import them from here.
export { logOriginFor, REGISTRY_KEY_NAME };

export interface NodeOptions {
  dbPath: string;
  keyDir: string;
  baseUrl: string;
  logOrigin: string;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Witnesses asked to cosign every checkpoint (CERTRAIL_WITNESSES). */
  witnesses?: WitnessEndpoint[];
  /** The quorum published at /.well-known/certrail (CERTRAIL_WITNESS_QUORUM; default a majority of the witnesses). */
  witnessQuorum?: number;
  /** Per add-checkpoint request (default 5 s). */
  witnessTimeoutMs?: number;
  /** The first retry delay after a witness failed (default 1 s, doubling up to 30 s). */
  witnessRetryMs?: number;
  /** Per-CB write limit (CERTRAIL_RATE_LIMIT; optionsFromEnv defaults it to DEFAULT_RATE_LIMIT); absent or null: none. */
  rateLimit?: RateLimit | null;
}

/** Reads the environment variables documented in the README. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): NodeOptions & { host: string; port: number } {
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 8787);
  const baseUrl = (env.CERTRAIL_ORIGIN ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  return {
    host,
    port,
    baseUrl,
    logOrigin: env.CERTRAIL_LOG_ORIGIN ?? logOriginFor(baseUrl),
    dbPath: env.CERTRAIL_DB ?? 'data/certrail.db',
    keyDir: env.CERTRAIL_KEYS ?? 'keys',
    ...witnessOptionsFromEnv(env),
    rateLimit: parseRateLimit(env.CERTRAIL_RATE_LIMIT),
  };
}

/** CERTRAIL_WITNESSES (`url1=vkey1,url2=vkey2`) and CERTRAIL_WITNESS_QUORUM; throws on a malformed value. */
export function witnessOptionsFromEnv(env: NodeJS.ProcessEnv): Pick<NodeOptions, 'witnesses' | 'witnessQuorum'> {
  const witnesses = parseWitnessList(env.CERTRAIL_WITNESSES ?? '');
  const quorumText = env.CERTRAIL_WITNESS_QUORUM;
  if (quorumText === undefined || quorumText === '') return { witnesses };
  const witnessQuorum = Number(quorumText);
  if (!Number.isInteger(witnessQuorum) || witnessQuorum < 0 || witnessQuorum > witnesses.length) {
    throw new Error(`CERTRAIL_WITNESS_QUORUM=${quorumText}: must be an integer from 0 to the number of witnesses (${witnesses.length})`);
  }
  return { witnesses, witnessQuorum };
}

export async function createNodeRegistry(options: NodeOptions) {
  mkdirSync(dirname(options.dbPath), { recursive: true });
  const handle = openSqlite(options.dbPath);
  const store = createSqliteLogStore(handle);
  const logKey = await loadOrCreateKeyFile(join(options.keyDir, 'log.key'), options.logOrigin);
  const registryKey = await loadOrCreateKeyFile(join(options.keyDir, 'registry.key'), REGISTRY_KEY_NAME);
  const registryStore = new RegistryStore(handle.db as unknown as AnySQLiteDatabase);
  const now = Date.now;
  const auth = new Authenticator({ audience: options.baseUrl, store: registryStore, registryPublicKey: registryKey.publicKey, now });
  // Several processes may serve one database file: the one holding its sequencer lock sequences, the others follow
  // (src/log/leader.ts). A new leader reloads the token ids the previous one burnt, so a token stays single-use.
  const sequencer = await ElectedSequencer.start({
    dbPath: options.dbPath,
    store,
    tryLock: () => trySequencerLock(options.dbPath),
    dataVersion: dataVersion(handle),
    openSequencer: () =>
      Sequencer.open({ store, signer: logKey, origin: options.logOrigin, maxBatch: options.maxBatch, maxDelayMs: options.maxDelayMs }),
    onLead: () => auth.loadUsedTokens(),
  });
  // Issuer and key rows change only with a committed log entry, so the committed size (current across processes) keys them.
  registryStore.memoizeIssuersBy(async () => (await sequencer.latest()).size);
  const config: RegistryConfig = {
    baseUrl: options.baseUrl,
    logOrigin: options.logOrigin,
    logVerifierKey: logKey.vkey,
    registryKey: encodeMultikey(registryKey.publicKey),
    witnesses: options.witnesses ?? [],
    witnessQuorum: options.witnessQuorum ?? defaultWitnessQuorum(options.witnesses?.length ?? 0),
    rateLimit: options.rateLimit ?? null,
  };
  // Witnesses cosign in the background (never blocking appends); readers serve the latest checkpoint with the
  // cosignatures held for exactly it. Consistency proofs for witnesses come from the sequencer's own tree.
  const proofs = new LogReader(store, () => sequencer.latest());
  const witnessing =
    options.witnesses && options.witnesses.length > 0
      ? new Witnessing(
          {
            witnesses: options.witnesses,
            prove: (from, to) => proofs.consistencyProof(from, to),
            timeoutMs: options.witnessTimeoutMs,
            retryMs: options.witnessRetryMs,
          },
          sequencer.checkpoint,
        )
      : null;
  if (witnessing) sequencer.onCheckpoint((checkpoint) => witnessing.notify(checkpoint));
  const log = witnessing ? new LogReader(store, async () => witnessing.served(await sequencer.latest())) : proofs;
  const registry = new Registry({
    baseUrl: options.baseUrl,
    store: registryStore,
    sequencer,
    log,
    registryKey: { seed: registryKey.seed, publicKey: registryKey.publicKey },
    managedKeys: fileManagedKeyStore(join(options.keyDir, 'managed')),
    now,
  });
  const views = new RegistryViews(options.baseUrl, registryStore, log);
  const assets = await nodeAssets();
  const app = createApp({
    config,
    log,
    api: { registry, views, auth, now },
    // A follower forwards writes (startNodeServer), so only the leader's own refusal counts.
    writeRefusal: () => (sequencer.leading ? sequencer.refused : null),
    assets,
    clientAddress: (c) => getConnInfo(c).remote.address,
  });
  return {
    app,
    config,
    sequencer,
    log,
    registry,
    views,
    /** The registry key, for operator tokens minted by the CLI and tests on this machine. */
    registryKey,
    /** Null without configured witnesses. */
    witnessing,
    async close() {
      await sequencer.close();
      witnessing?.close();
      handle.sqlite.close();
    },
  };
}

export async function startNodeServer(options: NodeOptions & { host: string; port: number }) {
  const registry = await createNodeRegistry(options);
  const { app, sequencer } = registry;
  // A follower forwards writes to the sequencing process, which it finds by the URL each leader advertises.
  const fetch = (request: Request, env: unknown) =>
    sequencer.leading || !isWriteRequest(request) ? app.fetch(request, env) : sequencer.forward(request);
  const server = serve({ fetch, hostname: options.host, port: options.port });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  sequencer.advertise(`http://${loopbackHost(options.host)}:${port}`);
  return {
    ...registry,
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
    },
  };
}

/** Where another process on this machine reaches a server listening on `host`. */
function loopbackHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === 'localhost') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * On an empty registry, seeds the demo certification body and certificates (unless CERTRAIL_DEMO=0) and prints
 * their verify URLs; a failure is reported and does not stop the server.
 */
export async function startDemo(
  server: Pick<Awaited<ReturnType<typeof createNodeRegistry>>, 'registry' | 'views' | 'config' | 'sequencer'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  try {
    const lines = await seedDemoOnStart(
      { registry: server.registry, views: server.views, baseUrl: server.config.baseUrl, writeRefusal: server.sequencer.refused },
      env,
    );
    for (const line of lines) console.log(line);
  } catch (error) {
    console.error(`demo data not seeded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = optionsFromEnv();
  const server = await startNodeServer(options);
  if (!server.sequencer.leading) console.error('following: another process sequences this log; writes are forwarded to it');
  else if (server.sequencer.refused) console.error(`writes refused: ${server.sequencer.refused}`);
  await startDemo(server);
  console.log(`Certrail listening on http://${options.host}:${server.port} (base URL ${options.baseUrl}, log ${options.logOrigin})`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
