// Node entry of the witness: its key file, its own SQLite state file and an HTTP server (@hono/node-server).
import { serve } from '@hono/node-server';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { createKeyFile, type SignerKey } from '../cli/keyfile.js';
import { parseSignerKey, SIG_TYPE_COSIGNATURE_V1 } from '../core/note.js';
import { createWitnessApp } from './app.js';
import { WitnessState } from './state.js';
import { Witness } from './witness.js';

export interface WitnessServerOptions {
  host: string;
  port: number;
  /** The witness's state file (never the registry's database). */
  dbPath: string;
  /** The witness's signer key file (a C2SP signer key of type 0x04), created on first start. */
  keyPath: string;
  /** The key name for a new key; when given for an existing key it must match. */
  name?: string | undefined;
  /** Verifier keys of the logs to cosign (origin = key name). */
  logs: readonly string[];
}

/** The default witness name of a new key: a schema-less identifier, as tlog-cosignature recommends. */
export function defaultWitnessName(): string {
  return `${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost'}/certrail-witness`;
}

/** Loads the witness key, or creates it (mode 0600) on first start. It must be a cosignature/v1 key. */
export async function loadOrCreateWitnessKey(path: string, name?: string): Promise<SignerKey> {
  if (!existsSync(path)) return createKeyFile(path, name ?? defaultWitnessName(), SIG_TYPE_COSIGNATURE_V1);
  if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} must not be readable by group or others (chmod 600)`);
  const key = await parseSignerKey(readFileSync(path, 'utf8').trim());
  if (key.type !== SIG_TYPE_COSIGNATURE_V1) throw new Error(`${path} is not a cosignature/v1 (type 0x04) key`);
  if (name !== undefined && key.name !== name) throw new Error(`${path} holds the key of "${key.name}", not "${name}"`);
  return key;
}

export async function startWitnessServer(options: WitnessServerOptions) {
  const key = await loadOrCreateWitnessKey(options.keyPath, options.name);
  mkdirSync(dirname(options.dbPath), { recursive: true });
  const state = WitnessState.open(options.dbPath);
  let witness: Witness;
  try {
    witness = await Witness.create({ key: { name: key.name, seed: key.seed }, logs: options.logs, state });
  } catch (error) {
    state.close();
    throw error;
  }
  const app = createWitnessApp(witness);
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    witness,
    state,
    vkey: key.vkey,
    port,
    url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      state.close();
    },
  };
}
