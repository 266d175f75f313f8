// Markdown of the benchmark suite (scripts/bench/suite.ts) for docs/PERFORMANCE.md: one table per path with its
// result at each log size, the target it is held to (met or missed), and the physical limit measured in the same
// run with the ratio to it. The suite's section sits between SUITE_BEGIN and SUITE_END; everything else in the file
// (the individual benchmarks' sections, written by their own --write, and the hand-written notes) is kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Machine } from './api-support.js';
import type { Dataset } from './bulk-load.js';
import type { Limits } from './limits.js';
import type { NaiveComparison } from './naive.js';

export const SUITE_BEGIN = '<!-- suite:begin -->';
export const SUITE_END = '<!-- suite:end -->';

export type PathName = 'issue-signed' | 'issue-managed' | 'verify' | 'batch' | 'model' | 'bundle' | 'tiles' | 'proof' | 'startup' | 'rss';

/** One path measured at one log size. Times are ms; `value` is the single figure of start-up (ms) and RSS (bytes). */
export interface Measurement {
  path: PathName;
  /** Entries in the log when the path was measured. */
  size: number;
  /** The dataset's nominal size (the column it is reported under). */
  nominal: number;
  operations: number;
  errors: number;
  /** Operations per second (certificates per second for batches; per CPU second of the pinned core for bundles). */
  rate: number | null;
  medianMs: number | null;
  p99Ms: number | null;
  value: number | null;
  /** CPU ms of the server per operation, when a server served it. */
  serverCpuMs: number | null;
  /** Cores other processes kept busy meanwhile. */
  otherCores: number;
}

export interface SuiteResults {
  date: string;
  command: string;
  machine: Machine;
  disk: string;
  clients: number;
  seconds: number;
  quick: boolean;
  /** Wall seconds of the whole run, and of building datasets within it. */
  totalSeconds: number;
  buildSeconds: number;
  /** Certificates per dataset at most (the rest of the log is filler). */
  maxCertificates: number;
  datasets: Array<{ dataset: Dataset; cached: boolean; size: number }>;
  limits: Limits;
  measurements: Measurement[];
  naive: NaiveComparison;
  /** Other processes' load over the whole run (cores), sampled per phase. */
  otherCores: number;
}

interface Target {
  text: string;
  /** Sizes it applies to (undefined: all). */
  at?: number;
  met(m: Measurement, r: SuiteResults): boolean;
}

interface Limit {
  name: string;
  /** The limit in the path's unit. */
  value(r: SuiteResults, m: Measurement): number;
  /** "rate": ours / limit, the share of the limit reached; "cost": ours / limit, how many times the floor it costs. */
  kind: 'rate' | 'cost';
}

interface PathSpec {
  title: string;
  what: string;
  unit: string;
  targets: Target[];
  limit: Limit;
  /** A sentence after the table: what else the path's figures are to be read against. */
  note?(r: SuiteResults, rows: readonly Measurement[]): string;
}

const M1 = 1_000_000;
const M10 = 10_000_000;
const MB = 1024 * 1024;
const ed25519AllCores = (r: SuiteResults) => r.limits.ed25519Verify.perCpuSecond * r.machine.cores;
const ISSUANCE_TARGETS: Target[] = [
  { text: '≥ 3,000/s', met: (m) => (m.rate ?? 0) >= 3000 },
  { text: 'p99 < 300 ms', met: (m) => (m.p99Ms ?? Infinity) < 300 },
];
const hello: Limit = { name: 'bare Hono hello-world, same stack and load client (req/s)', value: (r) => r.limits.hello.requestsPerSecond, kind: 'rate' };

export const PATHS: Record<PathName, PathSpec> = {
  'issue-signed': {
    title: 'Issuance over HTTP, client-signed',
    what: '`POST /api/v1/certificates` with a certificate the CB signed (eddsa-jcs-2022) and a fresh single-use EdDSA JWT; each answer must be 201 with a receipt.',
    unit: 'issuances/s',
    targets: ISSUANCE_TARGETS,
    limit: { name: 'Ed25519 verifications on all cores ÷ 2 per issuance (JWT, certificate)', value: (r) => ed25519AllCores(r) / 2, kind: 'rate' },
  },
  'issue-managed': {
    title: 'Issuance over HTTP, managed signing',
    what: '`POST /api/v1/certificates` with an unsigned draft of `bench-managed`, which the registry signs with the CB\'s managed key; 201 with a receipt.',
    unit: 'issuances/s',
    targets: ISSUANCE_TARGETS,
    limit: { name: 'Ed25519 operations on all cores ÷ 2 per issuance (JWT check, signature)', value: (r) => ed25519AllCores(r) / 2, kind: 'rate' },
  },
  verify: {
    title: 'Verification, `GET /v/{issuer}/{number}` (JSON)',
    what: 'Random certificates of the log, `Accept: application/json`; each answer must be 200 with `valid: true` and status `active`.',
    unit: 'verifications/s',
    targets: [
      { text: '≥ 8,000/s at 1M', at: M1, met: (m) => (m.rate ?? 0) >= 8000 },
      { text: 'p99 < 30 ms at 1M', at: M1, met: (m) => (m.p99Ms ?? Infinity) < 30 },
      { text: 'within 2× of hello-world', met: (m, r) => (m.rate ?? 0) * 2 >= r.limits.hello.requestsPerSecond },
    ],
    limit: hello,
    note: (r, rows) => {
      const ceiling = r.limits.hello.constantVerdict;
      const shares = rows.map((m) => `${fixed((m.rate ?? Number.NaN) / ceiling.requestsPerSecond, 2)}×`).join(', ');
      return (
        `The ceiling of this path on this stack: the hello-world server answering the same route with a constant verdict of the same shape and size ` +
        `(no lookup) serves ${int(ceiling.requestsPerSecond)} req/s, ${fixed(ceiling.requestsPerSecond / r.limits.hello.requestsPerSecond, 2)}× of hello-world ` +
        `(${msText(ceiling.serverCpuMs)} of server CPU each against ${msText(r.limits.hello.serverCpuMs)}). Ours reaches ${shares} of that ceiling.`
      );
    },
  },
  batch: {
    title: 'Batch verification, `POST /api/v1/verify` (1000 ids per request)',
    what: '1000 random certificate ids per request; every result must be `valid: true`. Rate and latency are per request; the rate column counts certificates.',
    unit: 'certificates/s',
    targets: [{ text: '≥ 20,000 certificates/s', met: (m) => (m.rate ?? 0) >= 20_000 }],
    limit: { name: 'Ed25519 verifications on all cores, as if every certificate\'s signature were verified on every request (above 1×: the registry reuses what it verified before)', value: ed25519AllCores, kind: 'rate' },
  },
  model: {
    title: 'Model-digest lookup, `GET /api/v1/models/{digest}/certificates`',
    what: 'The digest of a random certificate\'s model; the answer must be 200 and list that certificate.',
    unit: 'lookups/s',
    targets: [],
    limit: hello,
  },
  bundle: {
    title: 'Offline bundle verification (SDK)',
    what: 'Bundles served by `GET …/bundle` for random certificates, verified one at a time by the built SDK (dist/verify.js) in a child pinned to one CPU (scripts/bench/bundle-verifier.ts); every verdict must equal the expected one. The rate is per CPU second of that core.',
    unit: 'bundles/s per core',
    targets: [{ text: '≥ 1,500/s per core', met: (m) => (m.rate ?? 0) >= 1500 }],
    limit: { name: 'native Ed25519 verifications per core ÷ signatures per bundle', value: (r, m) => r.limits.ed25519Verify.perCpuSecond / (m.value ?? 1), kind: 'rate' },
  },
  tiles: {
    title: 'Tile and checkpoint serving, `GET /log/…`',
    what: 'A mix of 50 % level-0 hash tiles, 10 % level-1 tiles, 30 % entry bundles and 10 % checkpoints, at random positions; each answer must be 200. An entry bundle of certificates is ~500 kB (256 × ~1.9 kB), of filler entries ~50 kB, so the rate follows the log\'s mix (all certificates at 10k, one in ten at 10M).',
    unit: 'requests/s',
    targets: [],
    limit: hello,
  },
  proof: {
    title: 'Inclusion-proof generation',
    what: '`LogReader.inclusionProof(i, size)` in process, on its own SQLite connection to the dataset (as a serving process has it), random i; a sample is checked against the checkpoint root.',
    unit: 'proofs/s',
    targets: [{ text: 'median < 1 ms at 10M', at: M10, met: (m) => (m.medianMs ?? Infinity) < 1 }],
    limit: { name: 'floor: ⌈log2 size⌉ SHA-256 of 64 bytes (ms)', value: (r, m) => (Math.ceil(Math.log2(m.size)) / r.limits.sha256Of64.perCpuSecond) * 1000, kind: 'cost' },
  },
  startup: {
    title: 'Start-up',
    what: 'Spawn of `node --import tsx src/node.ts` (as `npm start`) on the dataset until it prints that it listens.',
    unit: 'ms',
    targets: [{ text: '< 2 s at 10M', at: M10, met: (m) => (m.value ?? Infinity) < 2000 }],
    limit: { name: 'hello-world spawn → listening (ms)', value: (r) => r.limits.hello.startMs, kind: 'cost' },
  },
  rss: {
    title: 'Server RSS',
    what: 'Resident set of the server after every HTTP path above (VmRSS; VmHWM peak beside it).',
    unit: 'MB',
    targets: [{ text: '< 256 MB at 10M', at: M10, met: (m) => (m.value ?? Infinity) < 256 * MB }],
    limit: { name: 'hello-world RSS after its loads (MB)', value: (r) => (r.limits.hello.rss ?? Number.NaN) / MB, kind: 'cost' },
  },
};

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number | null, digits: number): string => (n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const msText = (n: number | null): string => (n === null ? '–' : n < 1 ? `${fixed(n, 3)} ms` : `${fixed(n, 1)} ms`);
const sizeText = (n: number): string => (n >= M1 && n % M1 === 0 ? `${n / M1}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : int(n));

/** The figure a path is compared with its limit by: the rate, or the single value (ms, MB). */
export function headline(m: Measurement): number {
  if (m.path === 'rss') return (m.value ?? Number.NaN) / MB;
  if (m.path === 'startup') return m.value ?? Number.NaN;
  if (m.path === 'proof') return m.medianMs ?? Number.NaN;
  return m.rate ?? Number.NaN;
}

export function ratioToLimit(m: Measurement, r: SuiteResults): number {
  return headline(m) / PATHS[m.path].limit.value(r, m);
}

/** Verdicts of the targets that apply to `m`: met, missed, or null when the target is for another size. */
export function verdicts(m: Measurement, r: SuiteResults): Array<{ text: string; met: boolean | null }> {
  return PATHS[m.path].targets.map((t) => ({ text: t.text, met: t.at !== undefined && t.at !== m.nominal ? null : m.errors === 0 && t.met(m, r) }));
}

function pathTable(name: PathName, r: SuiteResults): string[] {
  const spec = PATHS[name];
  const rows = r.measurements.filter((m) => m.path === name);
  if (rows.length === 0) return [];
  const lines = [`### ${spec.title}`, '', spec.what, ''];
  const single = name === 'startup' || name === 'rss';
  lines.push(
    single
      ? '| Log size | Entries | Result | Targets | Limit | Ratio to limit | Other cores |'
      : `| Log size | Entries | Operations | Errors | ${spec.unit} | Median | p99 | Server CPU per op | Targets | Limit | Ratio to limit | Other cores |`,
  );
  lines.push(single ? '|---|---:|---:|---|---:|---:|---:|' : '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const m of rows) {
    const targets = verdicts(m, r)
      .map((v) => (v.met === null ? `${v.text}: –` : `${v.text}: ${v.met ? 'met' : '**missed**'}`))
      .join('; ') || '–';
    const limit = spec.limit.value(r, m);
    const ratio = ratioToLimit(m, r);
    const limitText = spec.limit.kind === 'rate' ? int(limit) : fixed(limit, limit < 10 ? 4 : 1);
    const ratioText = `${ratio >= 0.1 || !Number.isFinite(ratio) ? fixed(ratio, ratio < 10 ? 2 : 0) : ratio.toPrecision(2)}×`;
    if (single) {
      const result = name === 'rss' ? `${fixed((m.value ?? Number.NaN) / MB, 1)} MB (peak ${fixed((m.p99Ms ?? Number.NaN) / MB, 1)} MB)` : msText(m.value);
      lines.push(`| ${sizeText(m.nominal)} | ${int(m.size)} | ${result} | ${targets} | ${limitText} | ${ratioText} | ${fixed(m.otherCores, 2)} |`);
    } else {
      lines.push(
        `| ${sizeText(m.nominal)} | ${int(m.size)} | ${int(m.operations)} | ${m.errors} | ${m.rate === null ? '–' : int(m.rate)} | ${msText(m.medianMs)} | ${msText(m.p99Ms)} | ` +
          `${msText(m.serverCpuMs)} | ${targets} | ${limitText} | ${ratioText} | ${fixed(m.otherCores, 2)} |`,
      );
    }
  }
  lines.push('', `Limit: ${spec.limit.name}; ratio = ours ÷ limit (${spec.limit.kind === 'rate' ? 'the share of the limit reached' : 'how many times the floor it costs'}).`, '');
  if (spec.note) lines.push(spec.note(r, rows), '');
  return lines;
}

function limitsTable(r: SuiteResults): string[] {
  const l = r.limits;
  const rate = (x: { perSecond: number; perCpuSecond: number }) => `${int(x.perCpuSecond)} per CPU second (${int(x.perSecond)} per wall second)`;
  return [
    '### Limits measured in this run',
    '',
    '| Limit | Result |',
    '|---|---:|',
    `| Ed25519 verifications per core (node:crypto, 600-byte messages) | ${rate(l.ed25519Verify)} |`,
    `| SHA-256 per core, 64-byte inputs | ${rate(l.sha256Of64)} |`,
    `| SHA-256 per core, 1 KiB inputs | ${rate(l.sha256Of1k)} |`,
    `| SQLite commits/s, WAL + synchronous=FULL, one row each, on the dataset disk | ${int(l.sqliteCommits.perSecond)} (median ${msText(l.sqliteCommits.latency.p50)}, p99 ${msText(l.sqliteCommits.latency.p99)}) |`,
    `| Bare Hono hello-world on @hono/node-server, ${r.clients} connections, same load client | ${int(l.hello.requestsPerSecond)} req/s (median ${msText(l.hello.latency.p50)}, p99 ${msText(l.hello.latency.p99)}, ${msText(l.hello.serverCpuMs)} server CPU each, ${l.hello.errors} errors; other cores ${fixed(l.hello.otherCores, 2)}) |`,
    `| The same server answering \`GET /v/{issuer}/{number}\` with a constant ${int(l.hello.constantVerdict.bytes)}-byte verdict (the verify route's headers, no lookup) | ${int(l.hello.constantVerdict.requestsPerSecond)} req/s (median ${msText(l.hello.constantVerdict.latency.p50)}, p99 ${msText(l.hello.constantVerdict.latency.p99)}, ${msText(l.hello.constantVerdict.serverCpuMs)} server CPU each, ${l.hello.constantVerdict.errors} errors; other cores ${fixed(l.hello.constantVerdict.otherCores, 2)}) |`,
    `| Hello-world start-up (spawn → listening, \`node --import tsx\`) and RSS after its loads | ${msText(l.hello.startMs)}, ${fixed((l.hello.rss ?? Number.NaN) / MB, 1)} MB |`,
    '',
  ];
}

function naiveTable(r: SuiteResults): string[] {
  const proofs = new Map(r.measurements.filter((m) => m.path === 'proof').map((m) => [m.nominal, m.medianMs]));
  const lines = [
    '### The naive approach beside ours: merkletreejs',
    '',
    'merkletreejs recomputes every layer when a leaf is added (`addLeaf`), and a stateless server has to rebuild the tree from all leaves ' +
      'to answer a proof (`new MerkleTree(leaves)` + `getProof`); both grow linearly with the log. Ours appends in O(1) amortized (the ' +
      'TileBuilder keeps only the right edge; measured in memory, like merkletreejs, as one append plus the new root) and proves from ' +
      'O(log n) stored tiles (the proof-generation median above, from SQLite). Same SHA-256 (node:crypto) on both sides. Extrapolated ' +
      'figures are linear extrapolations from the largest measured size, because measuring them would take minutes per operation.',
    '',
    '| Leaves | merkletreejs append | Our append | merkletreejs rebuild + proof | Our proof (from SQLite) |',
    '|---:|---:|---:|---:|---:|',
  ];
  for (const c of r.naive.naive) {
    const mark = c.extrapolated ? ' (extrapolated)' : '';
    const ours = r.naive.oursAppendMs.get(c.size);
    lines.push(`| ${int(c.size)} | ${msText(c.appendMs)}${mark} | ${msText(ours ?? null)} | ${msText(c.proofMs)}${mark} | ${msText(proofs.get(c.size) ?? null)} |`);
  }
  lines.push('');
  return lines;
}

export function renderSuite(r: SuiteResults): string {
  const m = r.machine;
  const lines = [
    '## Benchmark suite',
    '',
    `Generated by \`npm run bench\` (scripts/bench/suite.ts) on ${r.date}${r.quick ? ' — **a `--quick` smoke run: tiny logs and short phases, not the targets\' sizes**' : ''}. Command:`,
    '',
    '```',
    r.command,
    '```',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, Node ${m.node}, ${m.kernel}; datasets on ${r.disk}. The server (\`node --import tsx src/node.ts\`, as \`npm start\`) ` +
      `and the load client (scripts/bench/api-support.ts, ${r.clients} keep-alive connections, closed loop; 4 for batches) are separate processes sharing the cores. ` +
      `Each dataset's database file is read once before its measurements, so that it starts in the OS page cache as a serving registry's does. ` +
      `Each load phase runs ${r.seconds} s after a warm-up. The machine is shared: "Other cores" is how many cores other processes kept busy during each ` +
      `measurement (from /proc/stat; ${fixed(r.otherCores, 2)} on average over the run); above about 0.3 the wall-clock figures understate the code.`,
    '',
    `Suite time: ${int(r.totalSeconds)} s, of which ${int(r.buildSeconds)} s building datasets${r.buildSeconds === 0 ? ' (every dataset came from the cache: this is the steady-state time)' : `: ${int(r.totalSeconds - r.buildSeconds)} s without (the steady-state time, once the datasets are cached)`}.`,
    '',
    '| Dataset | Entries | Certificates | Built | Build time |',
    '|---|---:|---:|---|---:|',
    ...r.datasets.map(({ dataset: d, cached, size }) =>
      `| ${sizeText(d.nominal)} | ${int(size)} | ${int(d.certificates)} + issued by the suite | ${cached ? `cached (${d.built.date})` : 'this run'} | ` +
        `${int(d.built.seconds)} s (${d.built.from ? `a copy of the ${sizeText(Number(d.built.from))} dataset` : `registration ${int(d.built.registrationSeconds)} s, certificates ${int(d.built.certificateSeconds)} s`}, filler ${int(d.built.fillerSeconds)} s) |`,
    ),
    '',
    `A first run, with an empty cache, builds every dataset first: ${int(r.datasets.reduce((a, d) => a + d.dataset.built.seconds, 0))} s for these (the build times above, measured while the machine was shared).`,
    '',
    'Datasets (scripts/bench/bulk-load.ts) are cached under `.bench-cache/<key>/<size>/`, the key hashing the schema and the builders\' source. ' +
      `Certificates are at most ${int(r.maxCertificates)} per dataset (signing and sequencing them runs at a few thousand per second on this machine, ` +
      "so more would take most of an hour to build); the rest of the log is ~200-byte filler entries bulk-loaded through the log's own TileBuilder, LogStore and signed " +
      'checkpoints. Verification, batches, lookups and bundles draw from the certificates; proofs and tiles from the whole log. A dataset of up to ' +
      '1 GiB is put back as it was after the run\'s issuances; a larger one (10M) keeps them, growing by under 0.1 % per run.',
    '',
    ...limitsTable(r),
  ];
  for (const name of Object.keys(PATHS) as PathName[]) lines.push(...pathTable(name, r));
  lines.push(...naiveTable(r));
  lines.push(
    'The sections below are written by the individual benchmarks (`npx tsx scripts/bench/<name>.ts --write`) and carry their own dates, commands ' +
      'and hand-written findings (profiles, fixes); where they and this section differ, this section is the later measurement.',
  );
  return lines.join('\n');
}

/** Replaces the suite's section of the file (or inserts it before the first `## ` heading), keeping the rest. */
export function writeSuiteSection(path: string, body: string): void {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n';
  const section = `${SUITE_BEGIN}\n${body.trimEnd()}\n${SUITE_END}`;
  const begin = text.indexOf(SUITE_BEGIN);
  const end = text.indexOf(SUITE_END);
  if (begin >= 0 && end > begin) {
    text = `${text.slice(0, begin)}${section}${text.slice(end + SUITE_END.length)}`;
  } else {
    const heading = text.search(/^## /m);
    text = heading < 0 ? `${text.trimEnd()}\n\n${section}\n` : `${text.slice(0, heading)}${section}\n\n${text.slice(heading)}`;
  }
  writeFileSync(path, text);
}
