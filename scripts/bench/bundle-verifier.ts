// The measuring child of the bundle benchmark (scripts/bench/bundle.ts), pinned to one CPU by its parent. It imports
// the SDK module it is given, by default the built dist/verify.js, i.e. exactly what `certrail/verify` users run,
// and plugs Node's native SHA-256 and Ed25519 verification into that module's hooks as its documentation tells Node
// users to (src/native-crypto.ts, the functions the Node entry installs into src/core), and nothing of the registry.
// Job on stdin (JSON), results on stdout (JSON).
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { BundleVerdict, TrustPolicy } from '../../src/core/verify.js';
import { sha256Native, verifyEd25519Native } from '../../src/native-crypto.js';

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
  ed25519: Array<{ path: 'node' | 'webcrypto'; concurrency: number; verifications: number; seconds: number; cpuSeconds: number }>;
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
 * Diagnostic only: the Ed25519 verifier replaced by a stub answering true, to show what a verification costs besides
 * Ed25519 (the bundles' signatures are all valid, so the verdicts stay the same, which is checked).
 */
async function withoutEd25519<T>(sdk: Sdk, fn: () => Promise<T>): Promise<T> {
  sdk.useEd25519Verify(() => true);
  try {
    return await fn();
  } finally {
    sdk.useEd25519Verify(verifyEd25519Native);
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

/**
 * Ed25519 verification alone, as the SDK does it with the Node hook (crypto.verify with a cached KeyObject) and, for
 * comparison, through WebCrypto (an imported key), on 64-byte messages (what eddsa-jcs-2022 signs).
 */
async function ed25519Alone(count: number, inFlight: number, path: 'node' | 'webcrypto'): Promise<BenchResult['ed25519'][number]> {
  const pair = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  const messages = Array.from({ length: 64 }, () => globalThis.crypto.getRandomValues(new Uint8Array(64)));
  const signatures = messages.map((m) => new Uint8Array(sign(null, m, pair.privateKey)));
  const s = globalThis.crypto.subtle;
  const key = await s.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  if (!verify(null, messages[0]!, pair.publicKey, signatures[0]!)) throw new Error('Ed25519 setup failed');
  const once = path === 'node'
    ? async (i: number) => verifyEd25519Native(raw, messages[i % 64]!, signatures[i % 64]!)
    : (i: number) => s.verify({ name: 'Ed25519' }, key, signatures[i % 64]!, messages[i % 64]!);
  const run = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) {
          if (!(await once(i))) throw new Error('Ed25519 failed');
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
  return { path, concurrency: inFlight, verifications: count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const job = JSON.parse(input) as BenchJob;
  const sdk = (await import(pathToFileURL(job.sdk).href)) as Sdk;
  // As the SDK's documentation tells Node users: native SHA-256 for the Merkle proofs, native Ed25519 verification.
  sdk.useSha256(sha256Native);
  // An SDK build from before the hook existed (--sdk) verifies with WebCrypto.
  sdk.useEd25519Verify?.(verifyEd25519Native);
  const runs: BenchRun[] = [];
  for (const r of job.runs) {
    if (r.mode.endsWith('stubbed-ed25519') && !sdk.useEd25519Verify) continue; // nothing to stub in such a build
    if (r.mode === 'sequential') runs.push({ mode: r.mode, ...(await measure(sdk, job, r.scenario, 1, true)) });
    else if (r.mode === 'concurrent') runs.push({ mode: r.mode, ...(await measure(sdk, job, r.scenario, job.concurrency, false)) });
    else if (r.mode === 'stubbed-ed25519') runs.push({ mode: r.mode, ...(await withoutEd25519(sdk, () => measure(sdk, job, r.scenario, 1, true))) });
    else if (r.mode === 'profile') {
      const { result, profile } = await profiled(() => measure(sdk, job, r.scenario, 1, true));
      runs.push({ mode: r.mode, ...result, profile });
    } else {
      const { result, profile } = await withoutEd25519(sdk, () => profiled(() => measure(sdk, job, r.scenario, 1, true)));
      runs.push({ mode: r.mode, ...result, profile });
    }
  }
  const ed25519 = job.ed25519
    ? [await ed25519Alone(job.iterations * 4, 1, 'node'), await ed25519Alone(job.iterations * 4, 1, 'webcrypto'), await ed25519Alone(job.iterations * 4, job.concurrency, 'webcrypto')]
    : [];
  const result: BenchResult = { runs, ed25519, runtime: { node: process.version, cpu: process.env.CERTRAIL_BENCH_CPU } };
  process.stdout.write(JSON.stringify(result));
}

await main();
