// Shared parts of the API benchmark (scripts/bench/api.ts), its bulk builder (api-bulk.ts) and the suite (suite.ts):
// the benchmark's certificates, a fast client-side signer that produces the same bytes as signDataIntegrity, a
// lean keep-alive HTTP/1.1 load client on node:net, percentiles, the server child (start, /healthz, issuer registration) and
// its /proc readings, the machine's description, and a CPU-profile summariser.
import type { ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { REGISTRY_KEY_NAME } from '../../src/config.js';
import { certificateIdOf } from '../../src/core/credential.js';
import { dataIntegrityHash, signDataIntegrity } from '../../src/core/data-integrity.js';
import { canonicalize } from '../../src/core/jcs.js';
import type { JsonObject } from '../../src/core/json.js';
import { encodeMultikey, toMultibase } from '../../src/core/multibase.js';
import { exampleCertificate } from '../../test/support/examples.js';
import { NodeServerChild } from '../support/node-server.js';

/** The certification body every benchmark certificate belongs to. */
export const BENCH_ISSUER = 'bench-cb';
export const BENCH_KEY_ID = 'key-1';
/** The registry's public base URL in the benchmark (certificate ids and the JWT audience derive from it). */
export const BENCH_BASE_URL = 'https://bench.certrail.example';

/** Certificate numbers are BENCH-0000001, BENCH-0000002, … so the verify phase can pick any of them at random. */
export function certificateNumber(n: number): string {
  return `BENCH-${String(n).padStart(7, '0')}`;
}

/** Validity and surveillance dates shared by every certificate of a run, so that each verdict is `valid: true`. */
export interface CertificateDates {
  validFrom: string;
  validUntil: string;
  firstDueBy: string;
  /** The proof's `created`. */
  created: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function certificateDates(now: number): CertificateDates {
  return { validFrom: iso(now - YEAR_MS), validUntil: iso(now + 2 * YEAR_MS), firstDueBy: iso(now + YEAR_MS / 2), created: iso(now) };
}

/**
 * Certificate n (unsigned): the realistic example certificate of the tests (~1.9 kB signed) with its own number, id,
 * organization and a model digest of its own, valid for three years and with surveillance current.
 */
export function benchCertificate(baseUrl: string, n: number, dates: CertificateDates): JsonObject {
  const number = certificateNumber(n);
  const digest = createHash('sha256').update(`bench model ${n}`).digest('hex');
  return exampleCertificate(baseUrl, BENCH_ISSUER, number, {
    validFrom: dates.validFrom,
    validUntil: dates.validUntil,
    credentialSubject: {
      organization: { name: `Bench Organization ${n % 10_000}` },
      models: [
        { name: `model-${n}.safetensors`, digest: `sha256:${digest}`, serialization: { method: 'file', hashType: 'sha256' } },
      ],
      certificate: { surveillance: { intervalMonths: 12, firstDueBy: dates.firstDueBy } },
    },
  });
}

/** RFC 8410 PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Signs certificates as the CB's CLI would (eddsa-jcs-2022), with one imported node:crypto key instead of one
 * WebCrypto import per signature. Ed25519 is deterministic, so the output is byte for byte that of signDataIntegrity
 * with the same options; `selfCheck` proves it on a document before the benchmark relies on it.
 */
export class CertificateSigner {
  private readonly key: KeyObject;
  private readonly proofBase: JsonObject;

  constructor(
    private readonly seed: Uint8Array,
    private readonly verificationMethod: string,
    private readonly created: string,
  ) {
    this.key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    this.proofBase = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', created, verificationMethod, proofPurpose: 'assertionMethod' };
  }

  sign(document: JsonObject): JsonObject {
    const proof: JsonObject = { ...this.proofBase };
    const context = document['@context'];
    if (context !== undefined) proof['@context'] = context;
    const signature = nodeSign(null, dataIntegrityHash(document, proof), this.key);
    return { ...document, proof: { ...proof, proofValue: toMultibase(new Uint8Array(signature)) } };
  }

  async selfCheck(document: JsonObject): Promise<void> {
    const reference = await signDataIntegrity(document, { seed: this.seed, verificationMethod: this.verificationMethod, created: this.created });
    if (canonicalize(reference) !== canonicalize(this.sign(document))) throw new Error('CertificateSigner differs from signDataIntegrity');
  }
}

/** The certificate id (verify URL) of certificate n. */
export function benchCertificateId(baseUrl: string, n: number): string {
  return certificateIdOf(baseUrl, BENCH_ISSUER, certificateNumber(n));
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP load client

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** One request over `agent` (keep-alive), the whole response body read. */
export function httpRequest(agent: Agent, port: number, spec: HttpRequestSpec): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers = spec.body === undefined ? spec.headers : { ...spec.headers, 'content-length': String(Buffer.byteLength(spec.body)) };
    const req = request({ host: '127.0.0.1', port, method: spec.method, path: spec.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

export interface LoadOptions {
  /** The server's port, or several servers' ports: client k uses port[k % length]. */
  port: number | readonly number[];
  /** Concurrent clients: each keeps one request in flight on its own keep-alive connection. */
  clients: number;
  /** The i-th request (0-based); null ends the run. */
  next(i: number): HttpRequestSpec | null;
  /** Null when the response is what was expected, else why not (counted as an error). */
  check(response: HttpResponse, i: number): string | null;
  /** Stop starting requests after this many milliseconds (runs until `next` returns null otherwise). */
  durationMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** The first few error descriptions, for the log. */
  errorSamples: string[];
  seconds: number;
  /** Per request, ms, in completion order. */
  latencies: Float64Array;
  /** CPU seconds this (client) process used during the run. */
  clientCpuSeconds: number;
}

/** The bytes of one HTTP/1.1 keep-alive request. */
function requestBytes(port: number, spec: HttpRequestSpec): Buffer {
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
  if (spec.body === undefined) return Buffer.from(`${head}\r\n`, 'latin1');
  const body = Buffer.from(spec.body, 'utf8');
  return Buffer.concat([Buffer.from(`${head}content-length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses one complete HTTP/1.1 response from the front of `data` (Content-Length or chunked); null while incomplete.
 * Enough of RFC 9112 for the server under test, which always answers one request at a time on a connection.
 */
function parseResponse(data: Buffer): { response: HttpResponse; rest: Buffer } | null {
  const headerEnd = data.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = data.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  let offset = headerEnd + 4;
  if (length) {
    const end = offset + Number(length[1]);
    if (data.length < end) return null;
    return { response: { status, body: data.toString('utf8', offset, end) }, rest: data.subarray(end) };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) throw new Error(`response without a length: ${head.slice(0, 200)}`);
  const chunks: Buffer[] = [];
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString('latin1', offset, lineEnd), 16);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return null;
    if (size === 0) return { response: { status, body: Buffer.concat(chunks).toString('utf8') }, rest: data.subarray(start + 2) };
    chunks.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** One keep-alive connection that sends a request and resolves with its response, one at a time. */
class Connection {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly port: number) {}

  send(bytes: Buffer): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.open().write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    this.buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      let parsed;
      try {
        parsed = parseResponse(this.buffered);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (!parsed || !this.pending) return;
      this.buffered = parsed.rest;
      const { resolve } = this.pending;
      this.pending = null;
      resolve(parsed.response);
    });
    const lost = (error?: Error) => {
      if (this.socket === socket) this.socket = null;
      this.fail(error ?? new Error('connection closed'));
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    this.socket = socket;
    return socket;
  }

  private fail(error: Error): void {
    this.close();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }
}

/**
 * Closed-loop load: `clients` workers, each sending its next request as soon as the previous one is answered, on its
 * own keep-alive connection. The client is kept lean because it shares the machine with the server: raw HTTP/1.1 over
 * node:net (no node:http agent, request or response objects), requests serialized once, responses read by
 * Content-Length. Its own CPU time is reported (clientCpuSeconds).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let counter = 0;
  const connections: Connection[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : start + options.durationMs;
  const ports = typeof options.port === 'number' ? [options.port] : options.port;
  const worker = async (k: number): Promise<void> => {
    const port = ports[k % ports.length]!;
    const connection = new Connection(port);
    connections.push(connection);
    for (;;) {
      if (performance.now() >= deadline) return;
      const i = counter++;
      const spec = options.next(i);
      if (spec === null) return;
      const bytes = requestBytes(port, spec);
      const t0 = performance.now();
      let problem: string | null;
      try {
        const response = await connection.send(bytes);
        latencies.push(performance.now() - t0);
        problem = options.check(response, i);
      } catch (error) {
        latencies.push(performance.now() - t0);
        problem = `request failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (problem !== null) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`#${i} ${spec.method} ${spec.path}: ${problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, k) => worker(k)));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const connection of connections) connection.close();
  return { requests: latencies.length, errors, errorSamples, seconds, latencies: Float64Array.from(latencies), clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Nearest-rank percentile (p in [0, 100]) of already sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latencies: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The server child, seen from /proc

/** VmRSS and VmHWM (peak) of a process, bytes; null off Linux or once it has exited. */
export function processMemory(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, USER_HZ = 100); 0 off Linux. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm field: state is fields[0], utime is field 14 of the full line (fields[11]), stime fields[12].
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CPU profiles (node --cpu-prof) of the server child

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  /** `name (file:line)`, the file relative to the repository where it is inside it. */
  name: string;
  /** Share of all samples with this function on top of the stack. */
  self: number;
  /** Share of all samples with this function anywhere on the stack. */
  total: number;
}

/** The functions with the most self time, and the heaviest inclusive ones, of a .cpuprofile file. */
export function summarizeProfile(path: string, root: string, top = 15): { self: ProfileRow[]; total: ProfileRow[]; seconds: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const label = (node: ProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    let file = url.replace(/^file:\/\//, '');
    if (file.startsWith(`${root}/`)) file = file.slice(root.length + 1);
    file = file.replace(/^.*\/node_modules\//, '');
    return file === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    all += delta;
    let id: number | undefined = profile.samples[i];
    const seen = new Set<string>();
    let first = true;
    while (id !== undefined) {
      const node = byId.get(id);
      if (!node) break;
      const name = label(node);
      if (first) self.set(name, (self.get(name) ?? 0) + delta);
      first = false;
      if (!seen.has(name)) {
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + delta);
      }
      id = parent.get(id);
    }
  }
  const rows = (map: Map<string, number>): ProfileRow[] =>
    [...map]
      .map(([name, t]) => ({ name, self: (self.get(name) ?? 0) / all, total: (total.get(name) ?? 0) / all }))
      .sort((a, b) => (map === self ? b.self - a.self : b.total - a.total))
      .slice(0, top);
  const skip = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);
  return {
    self: rows(self),
    total: rows(new Map([...total].filter(([name]) => !skip.has(name)))),
    seconds: (profile.endTime - profile.startTime) / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The server child: `node --import tsx src/node.ts`, configured by the environment variables `npm start` reads.

export interface ServerChild {
  child: ChildProcess;
  pid: number;
  port: number;
  /** From spawn to the "listening" line on its stdout. */
  startMs: number;
  stop(): Promise<void>;
}

/** Starts the registry of the repository at `root` on the database and keys in `dir` (a new log if there is none). */
export function startServer(root: string, dir: string, profileDir: string | null): Promise<ServerChild> {
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return spawnListening(root, profile, [join(root, 'src', 'node.ts')], {
    HOST: '127.0.0.1',
    PORT: '0',
    CERTRAIL_DB: join(dir, 'certrail.db'),
    CERTRAIL_KEYS: join(dir, 'keys'),
    CERTRAIL_ORIGIN: BENCH_BASE_URL,
    CERTRAIL_DEMO: '0',
  });
}

/**
 * Spawns `node <nodeFlags> --import tsx <script and its args>` in `cwd` and waits (at most 60 s) for its "listening on
 * http://host:port" line on stdout; the start time is from spawn to that line.
 */
export async function spawnListening(cwd: string, nodeFlags: string[], script: string[], env: Record<string, string>): Promise<ServerChild> {
  const server = new NodeServerChild(script, { cwd, env, nodeFlags });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    server.listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not start within 60 s: ${server.stderrTail()}`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const startMs = performance.now() - server.spawnedAt;
  if (/writes refused/.test(server.stderrText())) throw new Error(`the server refuses writes: ${server.stderrText()}`);
  const { child, pid } = server;
  if (pid === 0) throw new Error('the server child has no pid');
  let stopping = false;
  void server.exited.then((code) => {
    if (!stopping) process.stderr.write(`the server (pid ${pid}) exited with ${code} while under test:\n${server.stderrText()}\n`);
  });
  return {
    child,
    pid,
    port,
    startMs,
    async stop() {
      stopping = true;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await server.exited;
      clearTimeout(killTimer);
    },
  };
}

/** The log size the server on `port` reports on /healthz. */
export async function healthSize(port: number): Promise<number> {
  const agent = new Agent({ keepAlive: false });
  const res = await httpRequest(agent, port, { method: 'GET', path: '/healthz', headers: {} });
  agent.destroy();
  const body = JSON.parse(res.body) as { size?: unknown; ok?: unknown };
  if (res.status !== 200 || typeof body.size !== 'number') throw new Error(`/healthz answered ${res.status}: ${res.body}`);
  return body.size;
}

export interface IssuerRegistration {
  slug: string;
  name: string;
  managedSigning: boolean;
  /** Keys the CB holds itself (its JWTs are signed with one of them). */
  keys: Array<{ keyId: string; publicKey: Uint8Array }>;
}

/** Registers a certification body with an operator token signed by the registry key the server created in `keyDir`. */
export async function registerIssuer(keyDir: string, port: number, issuer: IssuerRegistration): Promise<void> {
  const registry = await readKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
  const operator: TokenKey = { issuer: 'registry', keyId: 'registry', seed: registry.seed, publicKey: registry.publicKey };
  const agent = new Agent({ keepAlive: false });
  const body = JSON.stringify({
    slug: issuer.slug,
    name: issuer.name,
    accreditation: { body: 'DAkkS', number: 'D-ZE-00000-01-00' },
    managedSigning: issuer.managedSigning,
    keys: issuer.keys.map((k) => ({ keyId: k.keyId, publicKeyMultibase: encodeMultikey(k.publicKey) })),
  });
  const res = await httpRequest(agent, port, {
    method: 'POST',
    path: '/api/v1/issuers',
    headers: { authorization: `Bearer ${await mintToken(operator, BENCH_BASE_URL)}`, 'content-type': 'application/json' },
    body,
  });
  agent.destroy();
  if (res.status !== 201) throw new Error(`registering ${issuer.slug} failed: ${res.status} ${res.body}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The machine

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  kernel: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpu = match[1].trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return { cpu, cores: availableParallelism(), memory: `${Math.round(totalmem() / 1024 ** 3)} GB`, node: process.version, kernel: `Linux ${release()}` };
}
