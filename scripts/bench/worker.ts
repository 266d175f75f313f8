// Worker benchmark (not a test): issuance and verification throughput of the Workers entry (src/worker.ts) under
// `wrangler dev --local` on this machine: workerd, a local D1 (SQLite in workerd) and the Durable Object sequencer,
// all on loopback. These are LOCAL figures: they say what the code costs on one 2-core box with the local D1 simulator,
// not what Cloudflare's network does (no edge, no replication, no network latency to D1).
//
//   npx tsx scripts/bench/worker.ts [--issue 2000] [--clients 32] [--duration 20] [--write]
//
// Phases, on one fresh local state:
//   1. issue:  register the benchmark CB (operator token), pre-sign the certificates and pre-mint one single-use JWT
//              per request in this process (the CB's cost), then POST them over --clients keep-alive connections
//              (--warmup untimed first). Every answer must be 201. Each goes through the Worker to the Durable Object
//              sequencer and one D1 batch per pooled commit.
//   2. verify: GET random certificates' verify URLs with `Accept: application/json` over --clients connections for
//              --duration seconds; every answer must be 200 with `valid: true`. Served by the Worker from D1 (the
//              sequencer is not involved).
//   3. batch:  POST /api/v1/verify with --batch certificate ids per request, same check per item.
// --write replaces the section between <!-- worker:begin --> and <!-- worker:end --> in docs/PERFORMANCE.md.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateKeyFile } from '../../src/cli/keyfile.js';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { logOriginFor, REGISTRY_KEY_NAME } from '../../src/config.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { formatSignerKey } from '../../src/core/note.js';
import { freshState, ROOT, startWranglerDev } from '../worker/wrangler-dev.js';
import {
  BENCH_BASE_URL,
  BENCH_ISSUER,
  BENCH_KEY_ID,
  benchCertificate,
  benchCertificateId,
  certificateDates,
  CertificateSigner,
  runLoad,
  summarize,
  type LoadResult,
} from './api-support.js';
import { waitForQuiet, watchOtherLoad } from './machine-load.js';

const { values: args } = parseArgs({
  options: {
    issue: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    clients: { type: 'string', default: '32' },
    duration: { type: 'string', default: '20' },
    batch: { type: 'string', default: '25' },
    write: { type: 'boolean', default: false },
  },
});
const ISSUE = Number(args.issue);
const WARMUP = Number(args.warmup);
const CLIENTS = Number(args.clients);
const DURATION_MS = Number(args.duration) * 1000;
const BATCH = Number(args.batch);

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (n: number) => `${fmt(n, 1)} ms`;

/** CPU seconds (user + system) of every process in a process group: wrangler, workerd and their helpers (Linux). */
function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After "pid (comm) ": state ppid pgrp … utime is field 14 and stime 15 of the whole line.
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process exited meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

interface Row {
  phase: string;
  result: LoadResult;
  /** Units of work per request (certificates per batch request). */
  perRequest: number;
  /** Cores the server (wrangler, workerd) kept busy on average. */
  serverCores: number;
  otherLoad: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certrail-bench-worker-'));
  const keyDir = join(dir, 'keys');
  const logKey = await loadOrCreateKeyFile(join(keyDir, 'log.key'), logOriginFor(BENCH_BASE_URL));
  const registryKey = await loadOrCreateKeyFile(join(keyDir, 'registry.key'), REGISTRY_KEY_NAME);
  const persistTo = join(dir, 'state');
  await freshState(persistTo);
  const quiet = await waitForQuiet({ timeoutMs: 60_000, onWait: (load) => console.log(`waiting for other load (${fmt(load, 2)} cores) to settle…`) });
  const dev = await startWranglerDev({
    persistTo,
    snapshotTo: join(dir, 'src'),
    envFile: join(keyDir, 'worker.env'),
    secrets: { LOG_KEY: formatSignerKey(logKey.name, logKey.seed), REGISTRY_KEY: formatSignerKey(registryKey.name, registryKey.seed) },
    // The benchmark writes thousands of times from one CB, far past the default per-CB limit: it measures throughput.
    vars: { CERTRAIL_ORIGIN: BENCH_BASE_URL, CERTRAIL_RATE_LIMIT: 'off' },
  });
  const rows: Row[] = [];
  try {
    const port = dev.port;
    const operator: TokenKey = { issuer: 'registry', keyId: 'registry', seed: registryKey.seed, publicKey: registryKey.publicKey };
    const seed = randomBytes(32);
    const cb: TokenKey = { issuer: BENCH_ISSUER, keyId: BENCH_KEY_ID, seed, publicKey: await ed25519PublicKey(seed) };
    const registered = await fetch(`${dev.url}/api/v1/issuers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await mintToken(operator, BENCH_BASE_URL)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: BENCH_ISSUER, name: 'Bench CB', keys: [{ keyId: BENCH_KEY_ID, publicKeyMultibase: encodeMultikey(cb.publicKey) }] }),
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);

    // The CB's side: sign and mint everything before the clock starts.
    const dates = certificateDates(Date.now());
    const signer = new CertificateSigner(seed, `${BENCH_BASE_URL}/issuers/${BENCH_ISSUER}#${BENCH_KEY_ID}`, dates.created);
    await signer.selfCheck(benchCertificate(BENCH_BASE_URL, 0, dates));
    const total = WARMUP + ISSUE;
    const bodies = Array.from({ length: total }, (_, i) => JSON.stringify(signer.sign(benchCertificate(BENCH_BASE_URL, i + 1, dates))));
    const tokens = await Promise.all(Array.from({ length: total }, () => mintToken(cb, BENCH_BASE_URL, 300)));
    const issue = (offset: number, count: number) =>
      runLoad({
        port,
        clients: CLIENTS,
        next: (i) =>
          i < count
            ? { method: 'POST', path: '/api/v1/certificates', headers: { authorization: `Bearer ${tokens[offset + i]}`, 'content-type': 'application/json' }, body: bodies[offset + i] }
            : null,
        check: (res) => (res.status === 201 ? null : `${res.status} ${res.body.slice(0, 120)}`),
      });
    await issue(0, WARMUP);
    const measure = async (phase: string, perRequest: number, run: () => Promise<LoadResult>) => {
      const watch = watchOtherLoad();
      const cpu0 = groupCpuSeconds(dev.pid);
      const result = await run();
      const server = groupCpuSeconds(dev.pid) - cpu0;
      rows.push({ phase, result, perRequest, serverCores: server / result.seconds, otherLoad: watch.stop(server) });
      report(rows.at(-1)!);
    };
    await measure('issue', 1, () => issue(WARMUP, ISSUE));

    const pick = () => 1 + Math.floor(Math.random() * total);
    const verifyCheck = (body: string) => (JSON.parse(body) as { valid: boolean }).valid;
    await runLoad({ port, clients: CLIENTS, durationMs: 2000, next: () => verifyRequest(pick()), check: () => null });
    await measure('verify', 1, () =>
      runLoad({
        port,
        clients: CLIENTS,
        durationMs: DURATION_MS,
        next: () => verifyRequest(pick()),
        check: (res) => (res.status === 200 && verifyCheck(res.body) ? null : `${res.status} ${res.body.slice(0, 120)}`),
      }),
    );
    await measure('batch', BATCH, () =>
      runLoad({
        port,
        clients: Math.max(1, Math.floor(CLIENTS / 8)),
        durationMs: DURATION_MS,
        next: () => ({
          method: 'POST',
          path: '/api/v1/verify',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: Array.from({ length: BATCH }, () => benchCertificateId(BENCH_BASE_URL, pick())) }),
        }),
        check: (res) => {
          if (res.status !== 200) return `${res.status} ${res.body.slice(0, 120)}`;
          const results = (JSON.parse(res.body) as { results: Array<{ verdict: { valid: boolean } }> }).results;
          return results.length === BATCH && results.every((r) => r.verdict.valid) ? null : 'not every item valid';
        },
      }),
    );
  } finally {
    await dev.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.write) writeSection(rows, quiet);
}

function verifyRequest(n: number) {
  const path = new URL(benchCertificateId(BENCH_BASE_URL, n)).pathname;
  return { method: 'GET' as const, path, headers: { accept: 'application/json' } };
}

function report(row: Row): void {
  const s = summarize(row.result.latencies);
  console.log(
    `${row.phase}: ${fmt(row.result.requests)} requests in ${fmt(row.result.seconds, 1)} s = ${fmt(row.result.requests / row.result.seconds)}/s` +
      `${row.perRequest > 1 ? ` (${fmt((row.result.requests * row.perRequest) / row.result.seconds)} certificates/s)` : ''}, ` +
      `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, errors ${row.result.errors}${row.result.errorSamples.length ? ` ${row.result.errorSamples.join('; ')}` : ''}, ` +
      `server ${fmt(row.serverCores, 2)} cores, other load ${fmt(row.otherLoad, 2)} cores`,
  );
}

function writeSection(rows: Row[], quietLoad: number): void {
  const path = join(ROOT, 'docs', 'PERFORMANCE.md');
  const doc = readFileSync(path, 'utf8');
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const describe: Record<string, string> = {
    issue: `Issuance (\`POST /api/v1/certificates\`, client-signed, one fresh JWT each; through the Durable Object sequencer)`,
    verify: `Verification (\`GET /v/{issuer}/{number}\`, JSON verdict; from D1, no sequencer)`,
    batch: `Batch verification (\`POST /api/v1/verify\`, ${BATCH} ids per request)`,
  };
  const lines = [
    '<!-- worker:begin -->',
    '## Cloudflare Workers entry (local figures)',
    '',
    `**Local figures, not Cloudflare's network.** Measured ${new Date().toISOString().slice(0, 10)} with:`,
    '',
    '```',
    `npx tsx scripts/bench/worker.ts --issue ${ISSUE} --clients ${CLIENTS} --duration ${DURATION_MS / 1000} --write`,
    '```',
    '',
    `\`wrangler dev --local\` (wrangler 4.86.0, workerd) on this machine (${cpu}, ${cpus().length} cores, ` +
      `${fmt(totalmem() / 2 ** 30)} GB, Node ${process.version}, Linux ${release()}): the Worker, its Durable Object sequencer and ` +
      'a local D1 (SQLite inside workerd) share the 2 cores with wrangler\'s local proxy and with the load client. Every request ' +
      'crosses wrangler\'s proxy and, for D1, a loopback hop to the local D1 simulator; on Cloudflare the Worker runs at the edge ' +
      'near the client, D1 and the Durable Object are remote, and latency is dominated by the network instead. The figures show ' +
      'what the code costs per request and that the single sequencer pools parallel writes, not production throughput.',
    '',
    `${CLIENTS} keep-alive clients (closed loop; ${Math.max(1, Math.floor(CLIENTS / 8))} for batches); ${fmt(ISSUE)} timed issuances ` +
      `after ${fmt(WARMUP)} untimed; verification for ${DURATION_MS / 1000} s each over the ${fmt(WARMUP + ISSUE)} certificates. ` +
      `"Server" is the CPU of wrangler and workerd (their process group), "other load" what processes other than the server and ` +
      `the load client used meanwhile (before the run: ${fmt(quietLoad, 2)} cores): figures taken while other load was high are low.`,
    '',
    '| Phase | Requests | Requests/s | Certificates/s | Latency p50 | Latency p99 | Errors | Server CPU | Other load |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => {
      const s = summarize(row.result.latencies);
      const rps = row.result.requests / row.result.seconds;
      return `| ${describe[row.phase]} | ${fmt(row.result.requests)} | ${fmt(rps)} | ${fmt(rps * row.perRequest)} | ${ms(s.p50)} | ${ms(s.p99)} | ${row.result.errors} | ${fmt(row.serverCores, 2)} cores | ${fmt(row.otherLoad, 2)} cores |`;
    }),
    '',
    `The server kept both cores busy in every phase: these are CPU-bound figures of workerd, the local D1 simulator and wrangler's proxy on 2 cores. Errors counts answers other than the expected ones (wrangler's local proxy answers 503 "Your worker restarted mid-request" when it loses a connection to workerd under load).`,
    '<!-- worker:end -->',
  ];
  const section = lines.join('\n');
  const begin = doc.indexOf('<!-- worker:begin -->');
  const end = doc.indexOf('<!-- worker:end -->');
  const next =
    begin >= 0 && end > begin
      ? doc.slice(0, begin) + section + doc.slice(end + '<!-- worker:end -->'.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  console.log(`wrote the worker section of ${path}`);
}

if (!existsSync(join(ROOT, 'wrangler.toml'))) throw new Error('run from the project');
await main();
