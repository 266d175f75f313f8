// Configuration both entries (src/node.ts, src/worker.ts) derive the same way. Runtime-agnostic: no node:* imports.

/** The name inside the registry key (a C2SP signer-key string: keys/registry.key, or the REGISTRY_KEY secret). */
export const REGISTRY_KEY_NAME = 'certrail-registry';

/** The log origin derived from a base URL: its host and path, then `/log` (DESIGN §Formats, Checkpoint). */
export function logOriginFor(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.host}${url.pathname.replace(/\/+$/, '')}/log`;
}
