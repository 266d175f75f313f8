// `npm run dev:worker`: the Workers entry (src/worker.ts) locally and offline under `wrangler dev --local`, with a local
// D1 and the Durable Object sequencer, seeded with the demo data on first start.
//
// - Keys: the same files as `npm start` (keys/log.key, keys/registry.key, created if missing), passed to the Worker as
//   its secrets LOG_KEY and REGISTRY_KEY through an env file (.wrangler/certrail-dev.env, mode 0600). Managed keys
//   of the demo CB are derived from MANAGED_KEY_MASTER, kept in keys/managed-master.hex.
// - State: .wrangler/certrail-dev (local D1, Durable Objects, cache); migrations are applied on first start.
// - Environment: PORT (default 8787), CERTRAIL_ORIGIN (default http://127.0.0.1:PORT), CERTRAIL_KEYS (default keys),
//   CERTRAIL_DEMO=0 to start empty.
// wrangler watches the sources and reloads the Worker on every change, as usual for `wrangler dev`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadOrCreateKeyFile } from '../src/cli/keyfile.js';
import { logOriginFor, REGISTRY_KEY_NAME } from '../src/config.js';
import { toHex } from '../src/core/bytes.js';
import { randomBytes } from '../src/core/crypto.js';
import { formatSignerKey } from '../src/core/note.js';
import { applyMigrations, ROOT, startWranglerDev } from './worker/wrangler-dev.js';

const port = Number(process.env.PORT ?? 8787);
const baseUrl = (process.env.CERTRAIL_ORIGIN ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
const logOrigin = process.env.CERTRAIL_LOG_ORIGIN ?? logOriginFor(baseUrl);
const keyDir = resolve(ROOT, process.env.CERTRAIL_KEYS ?? 'keys');
const state = join(ROOT, '.wrangler', 'certrail-dev');

const logKey = await loadOrCreateKeyFile(join(keyDir, 'log.key'), logOrigin);
const registryKey = await loadOrCreateKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
const masterPath = join(keyDir, 'managed-master.hex');
if (!existsSync(masterPath)) writeFileSync(masterPath, `${toHex(randomBytes(32))}\n`, { mode: 0o600 });

// Idempotent: wrangler applies only the migrations this state has not seen yet.
await applyMigrations(state);
const dev = await startWranglerDev({
  persistTo: state,
  port,
  envFile: join(ROOT, '.wrangler', 'certrail-dev.env'),
  secrets: {
    LOG_KEY: formatSignerKey(logKey.name, logKey.seed),
    REGISTRY_KEY: formatSignerKey(registryKey.name, registryKey.seed),
    MANAGED_KEY_MASTER: readFileSync(masterPath, 'utf8').trim(),
  },
  vars: { CERTRAIL_ORIGIN: baseUrl, CERTRAIL_LOG_ORIGIN: logOrigin, CERTRAIL_DEMO: process.env.CERTRAIL_DEMO === '0' ? '0' : '1' },
  inheritOutput: true,
});
console.log(`Certrail (Workers, local) on ${dev.url} (base URL ${baseUrl}, log ${logOrigin}); Ctrl-C stops it`);
const stop = () => void dev.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await dev.exited;
