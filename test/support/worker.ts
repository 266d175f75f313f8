// Test support: the Workers entry served by `wrangler dev --local` on loopback (workerd, a fresh local D1, the
// Durable Object sequencer), with the same surface the HTTP tests use from a Node test server: url, config,
// registryKey, sequencer.append (through the test-only route of test/worker/entry.ts) and close. Keys live in
// `dir/keys` like the Node server's, so a restart on the same dir finds the same keys and the same D1 state.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateKeyFile, type SignerKey } from '../../src/cli/keyfile.js';
import { logOriginFor, REGISTRY_KEY_NAME } from '../../src/config.js';
import { fromHex, toBase64, toHex } from '../../src/core/bytes.js';
import { randomBytes } from '../../src/core/crypto.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { formatSignerKey } from '../../src/core/note.js';
import type { RegistryConfig } from '../../src/http/app.js';
import { freshState, ROOT, startWranglerDev } from '../../scripts/worker/wrangler-dev.js';

export const TEST_ENTRY = join(ROOT, 'test', 'worker', 'entry.ts');

export interface WorkerServerOptions {
  baseUrl?: string;
  logOrigin?: string;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Extra plain variables for the Worker. */
  vars?: Record<string, string>;
}

export interface WorkerTestServer {
  url: string;
  dir: string;
  port: number;
  config: RegistryConfig;
  registryKey: SignerKey;
  logKey: SignerKey;
  /** Raw appends through the Durable Object's sequencer, pooled into one request per tick. */
  sequencer: { append(entry: Uint8Array): Promise<{ index: number }> };
  output(): string;
  close(): Promise<void>;
}

/** The master secret of derived managed keys, kept in dir/keys like the other keys. */
function managedMaster(keyDir: string): string {
  const path = join(keyDir, 'managed-master.hex');
  if (!existsSync(path)) writeFileSync(path, toHex(randomBytes(32)), { mode: 0o600 });
  return toHex(fromHex(readFileSync(path, 'utf8').trim()));
}

export async function startWorkerServer(dir: string, options: WorkerServerOptions = {}): Promise<WorkerTestServer> {
  const baseUrl = options.baseUrl ?? 'http://certrail.test';
  const logOrigin = options.logOrigin ?? logOriginFor(baseUrl);
  const keyDir = join(dir, 'keys');
  const logKey = await loadOrCreateKeyFile(join(keyDir, 'log.key'), logOrigin);
  const registryKey = await loadOrCreateKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
  const persistTo = join(dir, 'wrangler-state');
  if (!existsSync(persistTo)) await freshState(persistTo);
  const vars: Record<string, string> = { CERTRAIL_ORIGIN: baseUrl, CERTRAIL_LOG_ORIGIN: logOrigin, ...options.vars };
  if (options.maxBatch !== undefined) vars.CERTRAIL_MAX_BATCH = String(options.maxBatch);
  if (options.maxDelayMs !== undefined) vars.CERTRAIL_MAX_DELAY_MS = String(options.maxDelayMs);
  const dev = await startWranglerDev({
    entry: TEST_ENTRY,
    snapshotTo: join(dir, 'worker-src'),
    persistTo,
    envFile: join(keyDir, 'worker.env'),
    secrets: {
      LOG_KEY: formatSignerKey(logKey.name, logKey.seed),
      REGISTRY_KEY: formatSignerKey(registryKey.name, registryKey.seed),
      MANAGED_KEY_MASTER: managedMaster(keyDir),
    },
    vars,
  });

  let pending: Array<{ entry: Uint8Array; resolve(v: { index: number }): void; reject(e: unknown): void }> = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const res = await fetch(`${dev.url}/__test/append`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entries: batch.map((p) => toBase64(p.entry)) }),
      });
      if (res.status !== 200) throw new Error(`append: ${res.status} ${await res.text()}`);
      const { indices } = (await res.json()) as { indices: number[] };
      batch.forEach((p, i) => p.resolve({ index: indices[i]! }));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };

  return {
    url: dev.url,
    dir,
    port: dev.port,
    config: { baseUrl, logOrigin, logVerifierKey: logKey.vkey, registryKey: encodeMultikey(registryKey.publicKey) },
    registryKey,
    logKey,
    sequencer: {
      append(entry) {
        return new Promise((resolve, reject) => {
          if (pending.length === 0) setTimeout(() => void flush(), 0);
          pending.push({ entry, resolve, reject });
        });
      },
    },
    output: dev.output,
    close: dev.close,
  };
}
