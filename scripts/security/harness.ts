// Shared parts of the security programs (scripts/security/*.ts) and the HTTP tests that use them: a registry as a real
// `certrail serve` process on loopback, raw HTTP requests (bodies as bytes, streamed or declared), the checks every
// answer must pass (never a 5xx, problems as RFC 9457 with a code, nothing leaked), the tree size, a bounded pool.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { REGISTRY_KEY_NAME } from '../../src/node.js';
import { spawnCertrail, type CertrailProcess } from '../../test/support/processes.js';
import { signAs, type CbKey, type Endpoint } from '../../test/support/client.js';
import { exampleCertificate } from '../../test/support/examples.js';
import type { JsonObject } from '../../src/core/json.js';

/** The public base URL the programs' registries run under (certificate ids and the JWT audience derive from it). */
export const SECURITY_BASE_URL = 'http://certrail.test';

/**
 * What no response body may contain: stack frames, SQL (statements or SQLite's errors), file paths of the server or
 * its dependencies.
 */
export const LEAK = /SQLITE|SELECT |INSERT |UPDATE \w+ SET|DELETE FROM|node_modules|\bat \S+ \(|\bat (?:file|node):|\n\s+at |\/work\/|\/home\/|\/tmp\/|\.ts:\d+|\.js:\d+/;

export interface Raw {
  status: number;
  contentType: string | null;
  text: string;
}

const YEAR = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The example certificate `number` of `issuer`, valid now (issued a year ago, two more to go, surveillance current),
 * signed with `signer`'s key under `issuer`'s verification method (another CB's key makes it a forgery).
 */
export function currentCertificate(target: Target, signer: CbKey, issuer: string, number: string): Promise<JsonObject> {
  const now = Date.now();
  return signAs(
    target,
    { ...signer, issuer },
    exampleCertificate(target.config.baseUrl, issuer, number, {
      validFrom: iso(now - YEAR),
      validUntil: iso(now + 2 * YEAR),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + YEAR / 2) } } },
    }),
  );
}

/** A registry reachable over HTTP: `url` to connect to, `config.baseUrl` for ids and token audiences. */
export type Target = Endpoint;

export interface RegistryProcess extends Target {
  dir: string;
  process: CertrailProcess;
  /** Resident memory of the server process (kB), from /proc. */
  rssKb(): number;
  /** Lines the server logged about unexpected errors (each one is a 500). */
  unexpectedErrors(): number;
  stop(): Promise<void>;
}

/**
 * Starts `certrail serve` (bin/certrail.js, as operators run it) on 127.0.0.1 with an ephemeral port, its database
 * and keys in `dir` (a fresh temporary folder, removed by stop(), if none is given), no demo data, and no write rate
 * limit (these programs judge each answer on its own; rate limits are the abuse-load program's subject).
 */
export async function startRegistryProcess(options: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RegistryProcess> {
  const owned = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'certrail-security-'));
  const child = spawnCertrail(['serve'], {
    HOST: '127.0.0.1',
    PORT: '0',
    CERTRAIL_ORIGIN: SECURITY_BASE_URL,
    CERTRAIL_DB: join(dir, 'certrail.db'),
    CERTRAIL_KEYS: join(dir, 'keys'),
    CERTRAIL_DEMO: '0',
    CERTRAIL_RATE_LIMIT: 'off',
    ...options.env,
  });
  let url: string;
  try {
    [, url] = (await child.waitFor(/listening on (http:\/\/\S+)/)) as [string, string];
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
  const registryKey = await readKeyFile(join(dir, 'keys', 'registry.key'), REGISTRY_KEY_NAME);
  const pid = child.process.pid!;
  return {
    url,
    config: { baseUrl: SECURITY_BASE_URL },
    registryKey: { seed: registryKey.seed, publicKey: registryKey.publicKey },
    dir,
    process: child,
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0),
    unexpectedErrors: () => child.output().split('\n').filter((line) => line.startsWith('unexpected error')).length,
    async stop() {
      await child.kill('SIGTERM');
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SendOptions {
  /** A fresh token of this key is minted for the request. */
  key?: TokenKey;
  /** Or this exact Authorization header value. */
  authorization?: string;
  body?: Uint8Array | string;
  /** Default application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** One request with fetch (Content-Length set for a body); the whole answer read as text. */
export async function send(target: Target, method: string, path: string, options: SendOptions = {}): Promise<Raw> {
  const headers: Record<string, string> = { ...options.headers };
  const contentType = options.contentType === undefined ? (options.body === undefined ? null : 'application/json') : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.key) headers.authorization = `Bearer ${await mintToken(options.key, target.config.baseUrl)}`;
  else if (options.authorization !== undefined) headers.authorization = options.authorization;
  const body = typeof options.body === 'string' || options.body === undefined ? options.body : new Uint8Array(options.body);
  const res = await fetch(`${target.url}${path}`, { method, headers, body });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/**
 * POSTs `chunks` over node:http as they come: chunked transfer encoding, or with `declaredLength` as Content-Length.
 * Stops writing once the server answered; `bytesSent` is what was written by then.
 */
export async function sendStreamed(
  target: Target,
  path: string,
  chunks: Iterable<Uint8Array | string>,
  options: { key?: TokenKey; declaredLength?: number } = {},
): Promise<Raw & { bytesSent: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.declaredLength === undefined) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = String(options.declaredLength);
  if (options.key) headers.authorization = `Bearer ${await mintToken(options.key, target.config.baseUrl)}`;
  let bytesSent = 0;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target.url}${path}`, { method: 'POST', headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = bytesSent;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, text, bytesSent: sentWhenAnswered }));
      res.on('error', reject);
    });
    // Once the server has answered it may stop reading; a write error after the answer is expected.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      for (const chunk of chunks) {
        // Yield between chunks, so an early answer is seen before more is written.
        await new Promise((r) => setImmediate(r));
        if (answered || req.destroyed) break;
        bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              req.off('drain', done).off('close', done).off('response', done);
              r();
            };
            req.on('drain', done).on('close', done).on('response', done);
          });
        }
      }
      if (!req.destroyed && !answered) req.end();
    })();
  });
}

/**
 * Null when `res` is an acceptable answer to hostile input: a 2xx/3xx/4xx, never a 5xx; a 4xx is an RFC 9457
 * problem+json whose `status` matches and which has a string `code` (except the HTTP parser's bodiless 400 for a
 * request line it cannot parse); no body leaks a stack, SQL or a path.
 */
export function answerViolation(res: Raw): string | null {
  if (res.status >= 500 || res.status < 200) return `status ${res.status}`;
  if (LEAK.test(res.text)) return `leak: ${LEAK.exec(res.text)![0]}`;
  // Node's HTTP parser refuses a malformed request line (e.g. a raw backslash) before the app sees it: 400, no body.
  const parserRefusal = res.status === 400 && res.text === '' && res.contentType === null;
  if (res.status >= 400 && !parserRefusal) {
    if (res.contentType !== 'application/problem+json') return `a ${res.status} as ${res.contentType ?? 'no content type'}`;
    try {
      const problem = JSON.parse(res.text) as { code?: unknown; status?: unknown };
      if (typeof problem.code !== 'string' || problem.status !== res.status) return 'a problem without code or with another status';
    } catch {
      return 'a problem that is not JSON';
    }
  }
  return null;
}

/** The size of the tree the registry's checkpoint names (its second line). */
export async function treeSize(target: Target): Promise<number> {
  const text = await (await fetch(`${target.url}/log/checkpoint`, { headers: { 'cache-control': 'no-cache' } })).text();
  const size = Number(text.split('\n')[1]);
  if (!Number.isSafeInteger(size)) throw new Error(`the checkpoint names no tree size: ${text.slice(0, 200)}`);
  return size;
}

/** Runs `tasks` with at most `width` in flight; results in order. */
export async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

/** A write operation of the OpenAPI document: the method and path template, its security scheme and body schema. */
export interface WriteOperation {
  method: string;
  path: string;
  operationId: string;
  /** The security scheme it requires (e.g. certificationBody, operator), or null for a public one. */
  scheme: string | null;
  /** The component name of its JSON request body schema, or null. */
  bodySchema: string | null;
  parameters: Array<{ name: string; in: string }>;
}

interface OpenApiOperation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
}

/** Every operation of the served /openapi.json whose method is not GET or HEAD, in document order. */
export async function writeOperations(target: Target): Promise<WriteOperation[]> {
  const doc = (await (await fetch(`${target.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, OpenApiOperation>> };
  return writeOperationsOf(doc);
}

export function writeOperationsOf(doc: { paths: Record<string, Record<string, OpenApiOperation>> }): WriteOperation[] {
  const out: WriteOperation[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (method === 'get' || method === 'head' || method === 'parameters') continue;
      const schemes = (op.security ?? []).flatMap((requirement) => Object.keys(requirement));
      const ref = op.requestBody?.content['application/json']?.schema?.$ref ?? null;
      out.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        scheme: schemes[0] ?? null,
        bodySchema: ref === null ? null : ref.replace('#/components/schemas/', ''),
        parameters: (op.parameters ?? []).map((p) => ({ name: p.name, in: p.in })),
      });
    }
  }
  return out;
}

/** Fills `{name}` path parameters; an unknown one throws (the caller cannot build the request). */
export function fillPath(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter {${name}} of ${template}`);
    return value;
  });
}
