// Bundle verification benchmark (not a test): offline bundles verified per second on one core with the SDK
// (`certrail/verify`, the built dist/verify.js), against the target of at least 1,000/s.
//
//   npx tsx scripts/bench/bundle.ts [--write]          (npm run bench:bundle)
//
// Setup (unpinned): a real registry (SQLite, in a temporary folder) with the demo data; demo certificate DEMO-0002
// gets four more status events (five in all), then the log is padded with --log-size filler entries so that inclusion
// proofs have the depth of a production-sized log. Bundles are taken from the registry as GET …/bundle serves them,
// and the checkpoint is cosigned by --witnesses test witnesses that the policy requires (quorum = all of them).
// `buildSdk()` then builds dist/verify.js.
//
// Measurement: a plain Node child process (scripts/bench/bundle-verifier.ts, compiled by esbuild) pinned with `taskset -c <--cpu>` to one CPU, so
// that it and any libuv threads share one core, imports dist/verify.js, plugs in Node's native SHA-256 and Ed25519
// verification through the SDK's hooks (useSha256, useEd25519Verify) and takes each bundle text through JSON.parse →
// parseBundle → verifyBundle to its verdict, which must equal the expected one: one at a time (latency median/p99,
// throughput), then --concurrency in flight (throughput). Then diagnostics: the same with the Ed25519 verifier stubbed
// out (what everything else costs), Ed25519 alone (node:crypto and WebCrypto), and with --profile V8 CPU profiles of
// an unminified build.
//
// Options: --iterations 2000, --warmup 300, --log-size 100000, --witnesses 2, --concurrency 16, --cpu 0, --profile,
// --sdk PATH (measure another build of the SDK, e.g. an experiment), --write (replace the SDK section of
// docs/PERFORMANCE.md between its markers, keeping the hand-written notes after `<!-- sdk:notes -->`),
// --quiet-threshold 0.15 and --max-wait 600 (wait up to that many seconds until other processes use less than that
// many cores), --no-wait.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from '../../src/core/crypto.js';
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { addSignatures, cosignatureSigner, parseNote } from '../../src/core/note.js';
import { parseBundle, verifyBundle, type TrustPolicy } from '../../src/core/verify.js';
import { DEMO_ISSUER, seedDemo } from '../../src/demo.js';
import { createNodeRegistry, logOriginFor } from '../../src/node.js';
import { MANAGED_KEY_ID, type Actor } from '../../src/registry/registry.js';
import { buildSdk } from '../build/sdk.js';
import { summarize, summarizeProfile, type LatencySummary, type ProfileRow } from './api-support.js';
import type { BenchJob, BenchResult, BenchRun, VerdictSummary } from './bundle-verifier.js';
import { waitForQuiet, watchOtherLoad } from './machine-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BASE_URL = 'https://certrail.example.org';
const TARGET_PER_SECOND = 1000;
const DAY = 24 * 3600 * 1000;

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '300' },
    'log-size': { type: 'string', default: '100000' },
    witnesses: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    cpu: { type: 'string', default: '0' },
    sdk: { type: 'string' },
    profile: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    'quiet-threshold': { type: 'string', default: '0.15' },
    'max-wait': { type: 'string', default: '600' },
    'no-wait': { type: 'boolean', default: false },
  },
  strict: true,
});

function positiveInt(name: string, text: string | undefined, min = 1): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${String(text)}`);
  return n;
}

const ITERATIONS = positiveInt('iterations', opts.iterations);
const WARMUP = positiveInt('warmup', opts.warmup, 0);
const LOG_SIZE = positiveInt('log-size', opts['log-size'], 0);
const WITNESSES = positiveInt('witnesses', opts.witnesses, 0);
const CONCURRENCY = positiveInt('concurrency', opts.concurrency);
const CPU = positiveInt('cpu', opts.cpu, 0);

// ---------------------------------------------------------------------------------------------------------------
// Setup: a registry, the demo, more events, a padded log

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
let jti = 0;
const actor = (): Actor => ({ issuer: DEMO_ISSUER, keyId: MANAGED_KEY_ID, jti: `bench-${process.pid}-${jti++}`, expiresAt: Date.now() + 300_000 });

interface Scenario {
  name: string;
  /** Bundle texts as served, verified round-robin. */
  texts: string[];
  /** Entries per bundle, e.g. `8` or `3–8`. */
  entries: string;
  expected: VerdictSummary[];
}

interface Setup {
  scenarios: Scenario[];
  policy: TrustPolicy;
  logSize: number;
  now: number;
}

async function setUp(dir: string): Promise<Setup> {
  const registry = await createNodeRegistry({
    dbPath: join(dir, 'certrail.db'),
    keyDir: join(dir, 'keys'),
    baseUrl: BASE_URL,
    logOrigin: logOriginFor(BASE_URL),
    maxBatch: 1024,
    maxDelayMs: 2,
  });
  try {
    const demo = await seedDemo({ registry: registry.registry, views: registry.views, baseUrl: BASE_URL });
    if (!demo) throw new Error('the demo was not seeded');
    // DEMO-0002 (active, one passed surveillance audit) gets a scope change, a suspension, a reinstatement and
    // another audit: five events, each signed, chained and proven.
    const now = Date.now();
    const drafts: JsonObject[] = [
      { kind: 'scope-changed', effective: iso(now), scope: 'Development and operation of the RouteWise forecasting, fleet planning and pricing models.' },
      { kind: 'suspended', effective: iso(now), reason: 'Major nonconformity in model change management (clause 8.1).' },
      { kind: 'reinstated', effective: iso(now), reason: 'Corrective actions verified in a special audit.' },
      { kind: 'surveillance-audit', effective: iso(now), audit: { outcome: 'passed', date: iso(now - DAY), nextDueBy: iso(now + 300 * DAY), auditor: 'A. Bench (lead auditor)' } },
    ];
    for (const draft of drafts) await registry.registry.recordEvent(actor(), DEMO_ISSUER, 'DEMO-0002', draft);
    // Filler entries, the size of certificate events, so that the proofs are as deep as in a log of LOG_SIZE entries.
    const filler = new TextEncoder().encode(JSON.stringify({ v: 1, kind: 'bench.filler', body: { pad: 'x'.repeat(160) } }));
    for (let done = 0; done < LOG_SIZE; ) {
      const n = Math.min(4096, LOG_SIZE - done);
      await Promise.all(Array.from({ length: n }, () => registry.sequencer.append(filler)));
      done += n;
    }
    await registry.sequencer.flush();

    // Witnesses cosign the checkpoint; the policy requires all of them.
    const witnesses = await Promise.all(
      Array.from({ length: WITNESSES }, (_, i) => cosignatureSigner(`witness-${i + 1}.example`, randomBytes(32), () => Math.floor(Date.now() / 1000))),
    );
    const policy: TrustPolicy = {
      log: registry.config.logVerifierKey,
      registryKey: registry.config.registryKey,
      witnesses: witnesses.map((w) => w.vkey),
      quorum: WITNESSES,
    };
    const bundleText = async (number: string): Promise<string> => {
      const bundle = await registry.views.bundle(DEMO_ISSUER, number);
      if (!bundle) throw new Error(`no bundle for ${number}`);
      if (witnesses.length > 0) bundle.checkpoint = await addSignatures(bundle.checkpoint, witnesses);
      return JSON.stringify(bundle);
    };
    const verifyAt = Date.now();
    const scenario = async (name: string, numbers: string[]): Promise<Scenario> => {
      const texts = await Promise.all(numbers.map(bundleText));
      const bundles = texts.map((t) => parseBundle(JSON.parse(t) as JsonValue));
      const counts = bundles.map((b) => b.entries.length);
      const verdicts = await Promise.all(bundles.map((b) => verifyBundle(b, policy, { now: verifyAt })));
      const expected = verdicts.map((v) => ({ valid: v.valid, status: v.status, surveillance: v.surveillance, checks: v.checks.map((c) => c.ok) }));
      const low = Math.min(...counts);
      const high = Math.max(...counts);
      return { name, texts, entries: low === high ? `${low}` : `${low}–${high}`, expected };
    };
    const headline = await scenario('DEMO-0002, 5 status events', ['DEMO-0002']);
    if (!headline.expected[0]!.valid) throw new Error('the headline bundle does not verify');
    const mix = await scenario('demo mix: the 8 demo certificates, every status, 0–5 events', demo.map((c) => c.number));
    const checkpoint = (JSON.parse(headline.texts[0]!) as { checkpoint: string }).checkpoint;
    return { scenarios: [headline, mix], policy, logSize: Number(parseNote(checkpoint).text.split('\n')[1]), now: verifyAt };
  } finally {
    await registry.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The pinned child

/**
 * Runs the measuring child in plain Node: bundle-verifier.ts is compiled by esbuild first (not run through tsx, whose
 * loader would also re-transform the SDK module the child imports).
 */
async function runChild(job: BenchJob, scratch: string): Promise<{ result: BenchResult; otherLoad: number }> {
  const script = join(scratch, 'bundle-verifier.mjs');
  if (!existsSync(script)) await buildSdk({ entry: join(HERE, 'bundle-verifier.ts'), outfile: script, minify: false });
  const args = [script];
  const pinned = spawnSync('taskset', ['-V']).status === 0;
  if (!pinned) console.error('taskset is not available: measuring unpinned (libuv threads may use another core)');
  const child = pinned ? spawn('taskset', ['-c', String(CPU), process.execPath, ...args]) : spawn(process.execPath, args);
  const load = watchOtherLoad();
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(JSON.stringify(job));
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      // The child's own CPU time is excluded from "other load" through its reported CPU seconds.
      if (code !== 0) return reject(new Error(`the measuring child exited with ${code}:\n${err}`));
      const result = JSON.parse(out) as BenchResult;
      const own = result.runs.reduce((a, r) => a + r.cpuSeconds, 0) + result.ed25519.reduce((a, r) => a + r.cpuSeconds, 0);
      resolvePromise({ result, otherLoad: load.stop(own) });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => `${fmt(n, 3)} ms`;
const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

interface Measured {
  run: BenchRun;
  perSecond: number;
  cpuMs: number;
  latency: LatencySummary | null;
}

function measured(run: BenchRun): Measured {
  return {
    run,
    perSecond: run.verifications / run.seconds,
    cpuMs: (run.cpuSeconds * 1000) / run.verifications,
    latency: run.latencies ? summarize(Float64Array.from(run.latencies)) : null,
  };
}

interface ProfileFrame {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

/**
 * Summarises a CPU profile of the unminified SDK build, first mapping every frame in the bundle back to its source
 * file and line through the build's source map, so that rows name src/core/jcs.ts rather than verify.js:1234.
 */
function profileRows(profile: unknown, bundle: string): { self: ProfileRow[]; total: ProfileRow[] } {
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as SourceMapPayload);
  const bundleUrl = pathToFileURL(bundle).href;
  for (const node of (profile as { nodes: ProfileFrame[] }).nodes) {
    const frame = node.callFrame;
    if (frame.url !== bundleUrl && frame.url !== bundle) continue;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) continue;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(bundle), entry.originalSource);
    node.callFrame = { ...frame, url: pathToFileURL(source).href, lineNumber: entry.originalLine };
  }
  const file = join(dirname(bundle), 'bundle.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  return summarizeProfile(file, ROOT, 12);
}

function report(setup: Setup, result: BenchResult, otherLoad: number, unminifiedBundle: string, sdkLabel: string): string {
  const signatures = 1 + WITNESSES + 2 + 1 + 5;
  const runs = result.runs.map(measured);
  const find = (scenario: number, mode: BenchRun['mode']) => runs.find((r) => r.run.scenario === scenario && r.run.mode === mode);
  const headline = find(0, 'sequential')!;
  const headlineConcurrent = find(0, 'concurrent')!;
  const mix = find(1, 'sequential')!;
  const mixConcurrent = find(1, 'concurrent')!;
  const stubbed = find(0, 'stubbed-ed25519');
  const [edNode, edSeq, edPar] = result.ed25519.map((e) => ({ perSecond: e.verifications / e.seconds, cpuUs: (e.cpuSeconds * 1e6) / e.verifications, concurrency: e.concurrency }));
  const lines = [
    '## Bundle verification (SDK)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with:`,
    '',
    '```',
    `npx tsx scripts/bench/bundle.ts --iterations ${ITERATIONS} --warmup ${WARMUP} --log-size ${LOG_SIZE} --witnesses ${WITNESSES} --concurrency ${CONCURRENCY}${opts.profile ? ' --profile' : ''} --write`,
    '```',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GB RAM, Node ${result.runtime.node}, Linux ${release()}. The measuring process is pinned to CPU ${CPU} with \`taskset\`, so it and its libuv threads share one core. Other processes kept ${otherLoad.toFixed(2)} cores busy on average while it measured.`,
    '',
    `What is measured: ${sdkLabel}, imported in a plain Node process, taking a bundle as served by \`GET /api/v1/certificates/{issuer}/{number}/bundle\` (JSON text) through \`JSON.parse\`, \`parseBundle\` and \`verifyBundle\` to its verdict, which must equal the expected one; ${fmt(WARMUP)} warm-up verifications precede each run. The log holds ${fmt(setup.logSize)} entries (demo data plus filler), so inclusion proofs have ${Math.ceil(Math.log2(Math.max(2, setup.logSize)))} hashes; the checkpoint carries ${WITNESSES} witness cosignature(s) and the policy requires ${setup.policy.quorum}. The headline bundle, DEMO-0002 with five status events, holds 8 entries (the issuer's registration and key, the issuance, five events): one verification checks ${signatures} Ed25519 signatures (log checkpoint, ${WITNESSES} witnesses, 2 registry-signed issuer entries, the certificate, 5 events), 8 inclusion proofs, 7 JCS canonicalizations with their schema parses and the event chain.`,
    '',
    '### Target',
    '',
    '| Measure | Result | Target | |',
    '|---|---:|---:|---|',
    ...[mix, mixConcurrent, headline, headlineConcurrent].flatMap((r) => {
      const how = r.run.concurrency === 1 ? 'one at a time' : `${r.run.concurrency} in flight`;
      const perCpuSecond = 1000 / r.cpuMs;
      const verdict = (n: number) => (n >= TARGET_PER_SECOND ? 'pass' : '**FAIL**');
      return [
        `| Bundles verified per second on one core, ${how} (${setup.scenarios[r.run.scenario]!.name}), wall clock | ${fmt(r.perSecond)} | ≥ ${fmt(TARGET_PER_SECOND)} | ${verdict(r.perSecond)} |`,
        `| The same per second of CPU time (1 / CPU per verification) | ${fmt(perCpuSecond)} | ≥ ${fmt(TARGET_PER_SECOND)} | ${verdict(perCpuSecond)} |`,
      ];
    }),
    '',
    'The demo mix is what relying parties verify (the bundles of the 8 demo certificates in turn: every status, 0–5 events); the 5-event headline bundle is the heaviest demo bundle, shown for its ceiling. The wall-clock rate counts time the pinned core spent on other processes too; the CPU-time rate is what one core gives when it is all the verifier\'s.',
    '',
    '### Runs',
    '',
    '| Bundles | Entries per bundle | In flight | Verifications | Bundles/s | Median | p99 | CPU per verification |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...runs
      .filter((r) => r.run.mode === 'sequential' || r.run.mode === 'concurrent')
      .map((r) => {
        const s = setup.scenarios[r.run.scenario]!;
        return `| ${s.name} | ${s.entries} | ${r.run.concurrency} | ${fmt(r.run.verifications)} | ${fmt(r.perSecond)} | ${r.latency ? ms(r.latency.p50) : '–'} | ${r.latency ? ms(r.latency.p99) : '–'} | ${ms(r.cpuMs)} |`;
      }),
    '',
    '"CPU per verification" is the user + system CPU time of the whole measuring process (all its threads) divided by the verifications.',
  ];
  if (stubbed && edNode && edSeq && edPar) {
    lines.push(
      '',
      '### Where the time goes',
      '',
      '| Measure (same pinned core) | Result |',
      '|---|---:|',
      `| Ed25519 verify alone as the SDK runs it in Node (node:crypto verify, cached KeyObject, 64-byte message) | ${fmt(edNode.perSecond)}/s, ${fmt(edNode.cpuUs)} µs CPU each |`,
      `| Ed25519 verify alone through WebCrypto (imported key), one at a time | ${fmt(edSeq.perSecond)}/s, ${fmt(edSeq.cpuUs)} µs CPU each |`,
      `| Ed25519 verify alone through WebCrypto, ${edPar.concurrency} in flight | ${fmt(edPar.perSecond)}/s, ${fmt(edPar.cpuUs)} µs CPU each |`,
      `| Ceiling of the headline bundle from its ${signatures} signatures alone (node:crypto) | ${fmt(edNode.perSecond / signatures)} bundles/s |`,
      `| Headline bundle with the Ed25519 verifier stubbed out (diagnostic, not a verification): everything else | ${fmt(stubbed.perSecond)} bundles/s, median ${ms(stubbed.latency!.p50)}, ${ms(stubbed.cpuMs)} CPU each |`,
    );
  }
  for (const mode of ['profile', 'profile-stubbed-ed25519'] as const) {
    const run = result.runs.find((r) => r.mode === mode);
    if (!run?.profile) continue;
    const rows = profileRows(run.profile, unminifiedBundle);
    lines.push(
      '',
      mode === 'profile'
        ? `### Profile: ${setup.scenarios[0]!.name}, one at a time`
        : `### Profile: the same with Ed25519 stubbed out (everything else)`,
      '',
      'V8 sampling profiler (node:inspector) on the main thread, over an unminified build of the same SDK bundle. Self time, share of all samples:',
      '',
      '| Function | Self | Total |',
      '|---|---:|---:|',
      ...rows.self.map((r) => `| \`${r.name}\` | ${pct(r.self)} | ${pct(r.total)} |`),
      '',
      'Heaviest inclusive:',
      '',
      '| Function | Total |',
      '|---|---:|',
      ...rows.total.map((r) => `| \`${r.name}\` | ${pct(r.total)} |`),
    );
  }
  return lines.join('\n');
}

const BEGIN = '<!-- sdk:begin -->';
const END = '<!-- sdk:end -->';
const NOTES = '<!-- sdk:notes -->';
const DOC = join(ROOT, 'docs', 'PERFORMANCE.md');

/** Hand-written analysis kept after the measured part (from `<!-- sdk:notes -->` to the end marker). */
function existingNotes(doc: string): string {
  const start = doc.indexOf(NOTES);
  const end = doc.indexOf(END);
  return start >= 0 && end > start ? doc.slice(start, end).trimEnd() : '';
}

/** Replaces the text between the SDK markers of docs/PERFORMANCE.md (read right before writing), or appends it. */
function writeSection(section: string): void {
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Performance\n';
  const notes = existingNotes(doc);
  const body = `${BEGIN}\n${section}\n${notes ? `\n${notes}\n` : ''}${END}`;
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  const next = start >= 0 && end > start ? doc.slice(0, start) + body + doc.slice(end + END.length) : `${doc.replace(/\n*$/, '\n\n')}${body}\n`;
  writeFileSync(DOC, next);
  console.error(`wrote the SDK section of ${relative(process.cwd(), DOC)}`);
}

// ---------------------------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'certrail-bench-bundle-'));
try {
  console.error(`setting up: demo data, ${fmt(LOG_SIZE)} filler entries…`);
  const setup = await setUp(dir);
  const sdk = opts.sdk ? resolve(opts.sdk) : (await buildSdk()).outfile;
  const sdkLabel = opts.sdk ? `the SDK module \`${relative(ROOT, sdk)}\`` : 'the SDK as users get it (`certrail/verify` = dist/verify.js, built by `buildSdk()`)';
  const unminified = opts.profile ? (await buildSdk({ minify: false, outfile: join(dir, 'verify.js') })).outfile : null;
  if (!opts['no-wait']) {
    const threshold = Number(opts['quiet-threshold']);
    const load = await waitForQuiet({
      threshold,
      timeoutMs: positiveInt('max-wait', opts['max-wait'], 0) * 1000,
      onWait: (l) => console.error(`waiting for the machine to go quiet (other processes use ${l.toFixed(2)} cores)…`),
    });
    if (load >= threshold) console.error(`measuring anyway: other processes still use ${load.toFixed(2)} cores`);
  }
  const job = (runs: BenchJob['runs'], module: string, ed25519: boolean): BenchJob => ({
    sdk: module,
    scenarios: setup.scenarios.map((s) => ({ name: s.name, texts: s.texts, expected: s.expected })),
    policy: setup.policy,
    now: setup.now,
    iterations: ITERATIONS,
    warmup: WARMUP,
    concurrency: CONCURRENCY,
    runs,
    ed25519,
  });
  console.error('measuring…');
  const main = await runChild(
    job(
      [
        { scenario: 0, mode: 'sequential' },
        { scenario: 0, mode: 'concurrent' },
        { scenario: 1, mode: 'sequential' },
        { scenario: 1, mode: 'concurrent' },
        { scenario: 0, mode: 'stubbed-ed25519' },
      ],
      sdk,
      true,
    ),
    dir,
  );
  if (unminified) {
    console.error('profiling…');
    const profiles = await runChild(job([{ scenario: 0, mode: 'profile' }, { scenario: 0, mode: 'profile-stubbed-ed25519' }], unminified, false), dir);
    main.result.runs.push(...profiles.result.runs);
  }
  const section = report(setup, main.result, main.otherLoad, unminified ?? '', sdkLabel);
  console.log(section);
  if (opts.write) writeSection(section);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
