// Abuse load: one certification body floods the registry with writes far above its rate limit and a second one sends
// oversized requests (a 1 MiB body, a 64 MiB chunked body, a 64 KiB header, a 64 KiB URL), from a child process
// (scripts/reliability/abuse-flood.ts), while a control client here keeps verifying known certificates
// (GET /v/{issuer}/{number}, Accept: application/json). The server is the real one (src/node.ts, a SQLite file in a
// temporary folder) with the per-CB rate limit of a deployment (CERTRAIL_RATE_LIMIT, default 100/s, bursts of 1000).
//
//   npx tsx scripts/reliability/abuse-load.ts [--duration 20] [--flood-clients 16] [--control-clients 2]
//        [--rate-limit 100,1000] [--p99-ms 100] [--max-rss-mb 400] [--dir PATH] [--keep]
//
// Reports the control client's p50/p99 latency, the answers by kind and status (429 past the limit, 413 for the
// bodies, 431 for the header and URL), and the server's RSS sampled every 100 ms (its maximum, next to the RSS before
// the load). Violations (exit 1): any 5xx; a control answer other than 200 with a verdict; control p99 above --p99-ms;
// max RSS above --max-rss-mb; no 429 or no 413; more flood writes accepted than the bucket allows
// (burst + rate × duration); the server dying.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readKeyFile } from '../../src/cli/keyfile.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { REGISTRY_KEY_NAME } from '../../src/config.js';
import { toHex } from '../../src/core/bytes.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { parseRateLimit } from '../../src/http/rate-limit.js';
import { exampleCertificate } from '../../test/support/examples.js';
import { killChildren, runProgram, trackChild, withTimeout } from '../crash/loop.js';
import type { FloodArgs, FloodReport } from './abuse-flood.js';
import { ServerProcess } from './server-process.js';

const FLOOD = fileURLToPath(new URL('./abuse-flood.ts', import.meta.url));
const BASE_URL = 'http://certrail.abuse';
const CONTROL_CERTIFICATES = 10;
const YEAR_MS = 365 * 24 * 3600 * 1000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface AbuseLoadOptions {
  /** Seconds of load (default 20). */
  durationS?: number;
  /** Flooding connections (default 16). */
  floodClients?: number;
  /** Control loops, one request in flight each (default 2). */
  controlClients?: number;
  /** CERTRAIL_RATE_LIMIT of the server (default: unset, so the server's default). */
  rateLimit?: string;
  /** Control p99 above this is a violation (default 100 ms). */
  p99Ms?: number;
  /** Server RSS above this is a violation (default 400 MB). */
  maxRssMb?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface AbuseLoadSummary {
  durationS: number;
  /** kind → status → count (status 0: cut without an answer). */
  answers: Record<string, Record<string, number>>;
  floodRequests: number;
  floodAccepted: number;
  /** Flood writes the bucket allows at most: burst + rate × elapsed seconds. */
  floodAllowed: number;
  tooMany: number;
  tooLarge: number;
  serverErrors: number;
  controlRequests: number;
  controlP50Ms: number;
  controlP99Ms: number;
  controlMaxMs: number;
  rssBeforeMb: number;
  rssMaxMb: number;
  violations: string[];
  dir: string;
  elapsedMs: number;
}

function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function newKey(issuer: string): Promise<TokenKey & { seedHex: string }> {
  const seed = randomBytes(32);
  return { issuer, keyId: 'key-1', seed, publicKey: await ed25519PublicKey(seed), seedHex: toHex(seed) };
}

/** Runs the flood child for the load's duration; resolves with its report. */
function runFlood(args: FloodArgs): Promise<FloodReport> {
  const child = fork(FLOOD, [JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as FloodReport);
      else reject(new Error(`the flood process exited with ${code}: ${stderr.trim().slice(-1000)}`));
    });
  });
}

export async function runAbuseLoad(options: AbuseLoadOptions = {}): Promise<AbuseLoadSummary> {
  const durationS = options.durationS ?? 20;
  const floodClients = options.floodClients ?? 16;
  const controlClients = options.controlClients ?? 2;
  const p99Target = options.p99Ms ?? 100;
  const maxRssMb = options.maxRssMb ?? 400;
  const limit = parseRateLimit(options.rateLimit);
  if (!limit) throw new Error('abuse-load measures the rate limit: --rate-limit cannot be off');
  const log = options.log ?? (() => undefined);
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'certrail-abuse-'));
  const started = performance.now();
  const violations: string[] = [];
  const server = new ServerProcess(dir, BASE_URL, options.rateLimit === undefined ? {} : { CERTRAIL_RATE_LIMIT: options.rateLimit });
  try {
    const port = await withTimeout(server.listening, 60_000, 'server startup');
    const base = `http://127.0.0.1:${port}`;
    const registryKey = await readKeyFile(join(dir, 'keys', 'registry.key'), REGISTRY_KEY_NAME);
    const operator: TokenKey = { issuer: 'registry', keyId: 'registry', seed: registryKey.seed, publicKey: registryKey.publicKey };
    const floodCb = await newKey('flood-cb');
    const heavyCb = await newKey('heavy-cb');
    const controlCb = await newKey('control-cb');
    /** A setup write, as a well-behaved client sends it: after a 429 it waits Retry-After seconds and retries. */
    const post = async (key: TokenKey, path: string, body: unknown): Promise<void> => {
      for (;;) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await mintToken(key, BASE_URL)}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status === 201) return;
        if (res.status !== 429) throw new Error(`setup: POST ${path} answered ${res.status}: ${text}`);
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      }
    };
    for (const cb of [floodCb, heavyCb, controlCb]) {
      await post(operator, '/api/v1/issuers', {
        slug: cb.issuer,
        name: `${cb.issuer} GmbH`,
        keys: [{ keyId: cb.keyId, publicKeyMultibase: encodeMultikey(cb.publicKey) }],
      });
    }
    const now = Date.now();
    const controlUrls: string[] = [];
    for (let i = 0; i < CONTROL_CERTIFICATES; i++) {
      const number = `CONTROL-${i}`;
      const certificate = await signDataIntegrity(
        exampleCertificate(BASE_URL, controlCb.issuer, number, {
          validFrom: iso(now - YEAR_MS),
          validUntil: iso(now + YEAR_MS),
          credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + YEAR_MS / 2) } } },
        }),
        { seed: controlCb.seed, verificationMethod: `${BASE_URL}/issuers/${controlCb.issuer}#key-1`, created: iso(now) },
      );
      await post(controlCb, '/api/v1/certificates', certificate);
      controlUrls.push(`${base}/v/${controlCb.issuer}/${number}`);
    }

    // Memory: sampled before and during the load.
    const rssBefore = rssMb(server.pid) ?? 0;
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      const rss = rssMb(server.pid);
      if (rss !== null) rssMax = Math.max(rssMax, rss);
    }, 100);

    log(`abuse-load: ${durationS} s, ${floodClients} flooding connections, rate limit ${limit.perSecond}/s burst ${limit.burst}, dir ${dir}`);
    const floodStarted = performance.now();
    const floodDone = runFlood({
      port,
      baseUrl: BASE_URL,
      durationMs: durationS * 1000,
      concurrency: floodClients,
      flood: { slug: floodCb.issuer, keyId: floodCb.keyId, seedHex: floodCb.seedHex },
      heavy: { slug: heavyCb.issuer, keyId: heavyCb.keyId, seedHex: heavyCb.seedHex },
    });
    let flooding = true;
    const floodReport = floodDone.finally(() => {
      flooding = false;
    });

    // The control client: verifications one at a time per loop, for as long as the flood runs.
    const latencies: number[] = [];
    let controlErrors = 0;
    const control = async (loop: number) => {
      for (let i = loop; flooding; i += controlClients) {
        const t0 = performance.now();
        try {
          const res = await fetch(controlUrls[i % controlUrls.length]!, { headers: { accept: 'application/json' } });
          const body = (await res.json()) as { number?: unknown; status?: unknown };
          latencies.push(performance.now() - t0);
          if (res.status !== 200 || body.number !== `CONTROL-${i % controlUrls.length}` || body.status !== 'active') {
            if (controlErrors++ < 5) violations.push(`control verification answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
          }
        } catch (error) {
          if (controlErrors++ < 5) violations.push(`control verification failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    const [report] = await Promise.all([floodReport, ...Array.from({ length: controlClients }, (_, i) => control(i))]);
    clearInterval(sampler);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    if (server.hasExited) violations.push(`the server died: ${server.stderrTail()}`);

    const answers = report.answers;
    const total = (predicate: (status: number) => boolean, kinds = Object.keys(answers)) =>
      kinds.reduce((sum, kind) => sum + Object.entries(answers[kind] ?? {}).reduce((s, [status, n]) => s + (predicate(Number(status)) ? n : 0), 0), 0);
    const serverErrors = total((s) => s >= 500);
    const tooMany = total((s) => s === 429);
    const tooLarge = total((s) => s === 413);
    const floodRequests = total(() => true, ['flood']);
    const floodAccepted = total((s) => s === 201, ['flood']);
    const floodAllowed = Math.floor(limit.burst + limit.perSecond * floodSeconds);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = percentile(sorted, 99);
    if (serverErrors > 0) violations.push(`${serverErrors} answers with a 5xx status`);
    if (tooMany === 0) violations.push('no 429: the flood was never limited');
    if (tooLarge === 0) violations.push('no 413: no oversized body was refused as such');
    if (floodAccepted > floodAllowed) violations.push(`${floodAccepted} flood writes accepted; the bucket allows ${floodAllowed}`);
    if (p99 > p99Target) violations.push(`control p99 ${p99.toFixed(1)} ms is above ${p99Target} ms`);
    if (rssMax > maxRssMb) violations.push(`server RSS reached ${rssMax.toFixed(0)} MB, above ${maxRssMb} MB`);
    if (sorted.length === 0) violations.push('the control client made no verification');
    const stderr = server.stderrTail(3);
    if (/unexpected error/.test(stderr)) violations.push(`the server logged: ${stderr}`);
    await server.stop();
    return {
      durationS,
      answers,
      floodRequests,
      floodAccepted,
      floodAllowed,
      tooMany,
      tooLarge,
      serverErrors,
      controlRequests: sorted.length,
      controlP50Ms: percentile(sorted, 50),
      controlP99Ms: p99,
      controlMaxMs: sorted[sorted.length - 1] ?? 0,
      rssBeforeMb: rssBefore,
      rssMaxMb: rssMax,
      violations,
      dir,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    server.kill();
    await server.exited;
    killChildren();
    if (temporary && !options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSummary(s: AbuseLoadSummary): string {
  const kinds = Object.entries(s.answers)
    .map(([kind, byStatus]) => `${kind}{${Object.entries(byStatus).map(([status, n]) => `${status === '0' ? 'cut' : status}:${n}`).join(',')}}`)
    .join(' ');
  return (
    `abuse-load summary: duration=${s.durationS}s flood-requests=${s.floodRequests} flood-accepted=${s.floodAccepted} ` +
    `(bucket allows ${s.floodAllowed}) 429=${s.tooMany} 413=${s.tooLarge} 5xx=${s.serverErrors} ` +
    `control-requests=${s.controlRequests} control-p50=${s.controlP50Ms.toFixed(1)}ms control-p99=${s.controlP99Ms.toFixed(1)}ms ` +
    `control-max=${s.controlMaxMs.toFixed(1)}ms server-rss-before=${s.rssBeforeMb.toFixed(0)}MB ` +
    `server-rss-max=${s.rssMaxMb.toFixed(0)}MB violations=${s.violations.length} answers: ${kinds}`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '20' },
      'flood-clients': { type: 'string', default: '16' },
      'control-clients': { type: 'string', default: '2' },
      'rate-limit': { type: 'string' },
      'p99-ms': { type: 'string', default: '100' },
      'max-rss-mb': { type: 'string', default: '400' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const summary = await runAbuseLoad({
    durationS: Number(values.duration),
    floodClients: Number(values['flood-clients']),
    controlClients: Number(values['control-clients']),
    rateLimit: values['rate-limit'],
    p99Ms: Number(values['p99-ms']),
    maxRssMb: Number(values['max-rss-mb']),
    dir: values.dir,
    keep: values.keep,
    log: (line) => console.log(line),
  });
  for (const v of summary.violations) console.error(`VIOLATION ${v}`);
  console.log(formatSummary(summary));
  process.exit(summary.violations.length > 0 ? 1 : 0);
}

runProgram(import.meta.url, main);
