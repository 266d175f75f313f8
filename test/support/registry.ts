// Test support: a real registry on a real SQLite file in a fresh temporary folder, served over loopback HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeServer, logOriginFor, type NodeOptions } from '../../src/node.js';

export function tempDir(prefix = 'certrail-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export type TestServer = Awaited<ReturnType<typeof startNodeServer>> & { url: string; dir: string };

/**
 * Starts a registry on 127.0.0.1 with an ephemeral port, its database and keys in `dir`. With
 * CERTRAIL_TEST_TARGET=worker (`npm run test:worker`) it is the Workers entry under `wrangler dev` instead
 * (test/support/worker.ts), which offers the HTTP surface only: url, config, registryKey, sequencer.append, close.
 */
export async function startTestServer(dir: string, overrides: Partial<NodeOptions> = {}): Promise<TestServer> {
  const baseUrl = 'http://certrail.test';
  if (process.env.CERTRAIL_TEST_TARGET === 'worker') {
    const { startWorkerServer } = await import('./worker.js');
    const worker = await startWorkerServer(dir, { baseUrl, ...overrides });
    return worker as unknown as TestServer;
  }
  const server = await startNodeServer({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'certrail.db'),
    keyDir: join(dir, 'keys'),
    baseUrl,
    logOrigin: logOriginFor(baseUrl),
    maxDelayMs: 1,
    ...overrides,
  });
  return { ...server, url: `http://127.0.0.1:${server.port}`, dir };
}
