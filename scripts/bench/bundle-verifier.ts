// The measuring child of the bundle benchmark (scripts/bench/bundle.ts), pinned to one CPU by its parent. It imports
// the SDK module it is given, by default the built dist/verify.js, i.e. exactly what `certrail/verify` users run
// (with its own pure-JS SHA-256, not the native one the Node entry installs into src/core), and nothing of the
// registry. Job on stdin (JSON), results on stdout (JSON).
import { hash } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { BundleVerdict, TrustPolicy } from '../../src/core/verify.js';

type Sdk = typeof import('../../src/core/verify.js');

export interface VerdictSummary {
  valid: boolean;
  status: string | null;
  surveillance: string | null;
  checks: boolean[];
}

export interface BenchJob {
  /** Absolute path of the SDK module to import (dist/verify.js, or an unminified build for profiles). */
  sdk: string;
  scenarios: Array<{ name: string; texts: string[]; expected: VerdictSummary[] }>;
  policy: TrustPolicy;
  now: number;
  iterations: number;
  warmup: number;
  concurrency: number;
  /** Kinds of run to do, in order. */
  runs: Array<{ scenario: number; mode: 'sequential' | 'concurrent' | 'stubbed-ed25519' | 'profile' | 'profile-stubbed-ed25519' }>;
  /** Also measure Ed25519 verification alone (WebCrypto, as the SDK uses it). */
  ed25519: boolean;
}

export interface BenchRun {
  scenario: number;
  mode: BenchJob['runs'][number]['mode'];
  verifications: number;
  seconds: number;
  /** User + system CPU seconds of the whole process (all threads). */
  cpuSeconds: number;
  /** Per-verification wall times (ms), for one-at-a-time runs. */
  latencies: number[] | null;
  concurrency: number;
  /** V8 CPU profile, for `profile` runs. */
  profile?: unknown;
}

export interface BenchResult {
  runs: BenchRun[];
  ed25519: Array<{ concurrency: number; verifications: number; seconds: number; cpuSeconds: number }>;
  runtime: { node: string; cpu: string | undefined };
}

function summaryOf(v: BundleVerdict): VerdictSummary {
  return { valid: v.valid, status: v.status, surveillance: v.surveillance, checks: v.checks.map((c) => c.ok) };
}

function same(a: VerdictSummary, b: VerdictSummary): boolean {
  return a.valid === b.valid && a.status === b.status && a.surveillance === b.surveillance
    && a.checks.length === b.checks.length && a.checks.every((ok, i) => ok === b.checks[i]);
}

/**
 * Diagnostic only: WebCrypto's verify replaced by a stub answering true, to show what a verification costs besides
 * Ed25519 (the bundles' signatures are all valid, so the verdicts stay the same, which is checked).
 */
async function withoutEd25519<T>(fn: () => Promise<T>): Promise<T> {
  const proto = Object.getPrototypeOf(globalThis.crypto.subtle) as object;
  const original = Object.getOwnPropertyDescriptor(proto, 'verify');
  Object.defineProperty(proto, 'verify', { value: async () => true, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    if (original) Object.defineProperty(proto, 'verify', original);
  }
}

async function measure(sdk: Sdk, job: BenchJob, scenario: number, inFlight: number, keepLatencies: boolean): Promise<Omit<BenchRun, 'mode'>> {
  const { texts, expected } = job.scenarios[scenario]!;
  const verifyOne = async (i: number): Promise<void> => {
    const k = i % texts.length;
    const verdict = await sdk.verifyBundle(sdk.parseBundle(JSON.parse(texts[k]!)), job.policy, { now: job.now });
    if (!same(summaryOf(verdict), expected[k]!)) throw new Error(`verification ${i} gave another verdict than expected`);
  };
  const latencies = keepLatencies ? new Array<number>(job.iterations) : null;
  const pass = async (count: number, record: boolean) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) {
          const start = performance.now();
          await verifyOne(i);
          if (record && latencies) latencies[i] = performance.now() - start;
        }
      }),
    );
  };
  await pass(job.warmup, false);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pass(job.iterations, true);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { scenario, verifications: job.iterations, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, latencies, concurrency: inFlight };
}

async function profiled<T>(fn: () => Promise<T>): Promise<{ result: T; profile: unknown }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const result = await fn();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return { result, profile };
}

/** Ed25519 verification alone through WebCrypto, as src/core/crypto.ts does it (imported key, 600-byte messages). */
async function ed25519Alone(count: number, inFlight: number): Promise<BenchResult['ed25519'][number]> {
  const s = globalThis.crypto.subtle;
  const pair = (await s.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = await s.exportKey('raw', pair.publicKey);
  const key = await s.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  const messages = Array.from({ length: 64 }, () => globalThis.crypto.getRandomValues(new Uint8Array(600)));
  const signatures = await Promise.all(messages.map((m) => s.sign({ name: 'Ed25519' }, pair.privateKey, m)));
  const run = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) {
          if (!(await s.verify({ name: 'Ed25519' }, key, signatures[i % 64]!, messages[i % 64]!))) throw new Error('Ed25519 failed');
        }
      }),
    );
  };
  await run();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { concurrency: inFlight, verifications: count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const job = JSON.parse(input) as BenchJob;
  const sdk = (await import(pathToFileURL(job.sdk).href)) as Sdk;
  // As the SDK's documentation tells Node users: native SHA-256 for the Merkle proofs.
  sdk.useSha256((data) => hash('sha256', data, 'buffer'));
  const runs: BenchRun[] = [];
  for (const r of job.runs) {
    if (r.mode === 'sequential') runs.push({ mode: r.mode, ...(await measure(sdk, job, r.scenario, 1, true)) });
    else if (r.mode === 'concurrent') runs.push({ mode: r.mode, ...(await measure(sdk, job, r.scenario, job.concurrency, false)) });
    else if (r.mode === 'stubbed-ed25519') runs.push({ mode: r.mode, ...(await withoutEd25519(() => measure(sdk, job, r.scenario, 1, true))) });
    else if (r.mode === 'profile') {
      const { result, profile } = await profiled(() => measure(sdk, job, r.scenario, 1, true));
      runs.push({ mode: r.mode, ...result, profile });
    } else {
      const { result, profile } = await withoutEd25519(() => profiled(() => measure(sdk, job, r.scenario, 1, true)));
      runs.push({ mode: r.mode, ...result, profile });
    }
  }
  const ed25519 = job.ed25519 ? [await ed25519Alone(job.iterations * 4, 1), await ed25519Alone(job.iterations * 4, job.concurrency)] : [];
  const result: BenchResult = { runs, ed25519, runtime: { node: process.version, cpu: process.env.CERTRAIL_BENCH_CPU } };
  process.stdout.write(JSON.stringify(result));
}

await main();
