// Key compromise drill against a real `certrail serve` process: a certification body issues certificates under its
// key K (and its other key L), then, after a compromise time T, more under both; the operator revokes K with the
// compromise time T through the CLI (`certrail issuer key revoke --compromised-at T`). Then every surface must agree,
// for every certificate: those logged under K at or after T are invalid, those logged before T (and all under L) stay
// valid (DESIGN §Trust model: validity is judged by the log's loggedAt, never by a time the issuer claims):
//
// - api: the JSON verdict at the verify URL and in a batch (POST /api/v1/verify);
// - page: the verify page in real Chromium, which verifies the offline bundle itself (its in-browser verdict);
// - sdk: `certrail/verify` built as shipped (scripts/build/sdk.ts) and imported, verifyBundle on each offline bundle;
// - cli: `certrail verify <verify URL> --json` for the first certificate under K before and after T;
// - monitor: src/monitor over HTTP, both a mirror made before the revocation (then brought up to date) and a fresh one:
//   each must report exactly the certificates under K from T on as `key-compromised`, and nothing else.
//
//   npx tsx scripts/security/key-compromise.ts [--per-group 10] [--short] [--json]
//
// --short issues 2 certificates per group (for test/scripts/key-compromise.test.ts). Prints one summary line; exits 1
// on any surface that disagrees.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import type { TrustPolicy, Bundle, BundleVerdict } from '../../src/core/verify.js';
import { runMonitor, type MonitorReport } from '../../src/monitor/monitor.js';
import { newCbKey, registerCb, type CbKey } from '../../test/support/client.js';
import { launchChromium } from '../../test/web/support.js';
import { buildPage } from '../build/page.js';
import { buildSdk } from '../build/sdk.js';
import { currentCertificate, send, startRegistryProcess, type RegistryProcess } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ISSUER = 'drill-cert';

export const SURFACES = ['api', 'batch', 'page', 'sdk', 'cli', 'monitor'] as const;
export type Surface = (typeof SURFACES)[number];

interface Drilled {
  number: string;
  key: 'K' | 'L';
  /** Logged at or after T under K: must be invalid everywhere. */
  compromised: boolean;
  index: number;
  loggedAt: number;
}

export interface DrillSummary {
  certificates: number;
  compromised: number;
  compromiseTime: string;
  /** Verdicts checked per surface. */
  checks: Record<Surface, number>;
  violations: string[];
  elapsedMs: number;
}

async function issue(server: RegistryProcess, key: CbKey, number: string): Promise<{ index: number; loggedAt: number }> {
  const credential = await currentCertificate(server, key, ISSUER, number);
  const res = await send(server, 'POST', '/api/v1/certificates', { key, body: JSON.stringify(credential) });
  if (res.status !== 201) throw new Error(`issuing ${number}: ${res.status} ${res.text}`);
  const receipt = JSON.parse(res.text) as { index: number; loggedAt: number };
  return { index: receipt.index, loggedAt: receipt.loggedAt };
}

/** Runs the certrail command (bin/certrail.js, as operators do); resolves with its exit code and output. */
function certrail(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'certrail.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The monitor's `key-compromised` findings, as certificate indices, and any other anomaly. */
function monitorFindings(report: MonitorReport): { flagged: Set<number>; others: string[] } {
  const flagged = new Set<number>();
  const others: string[] = [];
  for (const a of report.anomalies) {
    if (a.kind === 'key-compromised' && a.index !== undefined) flagged.add(a.index);
    else others.push(`${a.kind}: ${a.detail}`);
  }
  return { flagged, others };
}

export async function runDrill(options: { perGroup?: number; log?: (line: string) => void } = {}): Promise<DrillSummary> {
  const started = performance.now();
  const perGroup = options.perGroup ?? 10;
  const log = options.log ?? (() => {});
  const checks = Object.fromEntries(SURFACES.map((s) => [s, 0])) as Record<Surface, number>;
  const violations: string[] = [];
  const expectVerdict = (surface: Surface, cert: Drilled, valid: boolean | null, detail = '') => {
    checks[surface]++;
    if (valid === !cert.compromised) return;
    violations.push(`${surface}: ${cert.number} (${cert.key}, logged ${new Date(cert.loggedAt).toISOString()}) is ${valid === null ? 'unreadable' : valid ? 'valid' : 'invalid'}, expected ${cert.compromised ? 'invalid' : 'valid'} ${detail}`.trim());
  };

  // The page's scripts must exist before the server loads its assets; the SDK is built as shipped, into the drill's folder.
  await buildPage();
  const server = await startRegistryProcess();
  let browser: Browser | null = null;
  try {
    const sdkBuild = await buildSdk({ outfile: join(server.dir, 'sdk', 'verify.js') });
    const sdk = (await import(pathToFileURL(sdkBuild.outfile).href)) as typeof import('../../src/core/verify.js');

    const K = await newCbKey(ISSUER, 'key-1');
    const L = await newCbKey(ISSUER, 'key-2');
    const registered = await registerCb(server, ISSUER, [K, L]);
    if (registered.status !== 201) throw new Error(`registering ${ISSUER}: ${registered.status}`);
    const certs: Drilled[] = [];
    const issueGroup = async (label: string, key: CbKey, name: 'K' | 'L', compromised: boolean) => {
      for (let i = 1; i <= perGroup; i++) {
        const number = `KC-${label}-${i}`;
        certs.push({ number, key: name, compromised, ...(await issue(server, key, number)) });
      }
    };
    await issueGroup('K-BEFORE', K, 'K', false);
    await issueGroup('L-BEFORE', L, 'L', false);
    // T: the next whole second (RFC 3339 compromise times here have whole seconds); the later group is logged after it.
    const T = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await new Promise((r) => setTimeout(r, T - Date.now() + 20));
    await issueGroup('K-AFTER', K, 'K', true);
    await issueGroup('L-AFTER', L, 'L', false);
    for (const c of certs) if (c.compromised !== (c.key === 'K' && c.loggedAt >= T)) throw new Error(`${c.number} was logged on the wrong side of T`);

    // A monitor mirrors the log before anyone knows of the compromise: nothing to report yet.
    const monitorDb = join(server.dir, 'monitor-early.db');
    const early = await runMonitor({ url: server.url, dbPath: monitorDb, workers: 0 });
    if (!early.ok) violations.push(`monitor before the revocation: ${early.anomalies.map((a) => a.kind).join(', ')}`);

    // The operator revokes K with the compromise time, through the CLI.
    const revoke = await certrail(
      ['issuer', 'key', 'revoke', ISSUER, 'key-1', '--reason', 'Key material leaked.', '--compromised-at', iso(T), '--registry', server.url, '--registry-key', join(server.dir, 'keys', 'registry.key')],
      {},
    );
    if (revoke.code !== 0) throw new Error(`certrail issuer key revoke: exit ${revoke.code}: ${revoke.stderr}`);
    log(`revoked key-1 of ${ISSUER} compromised at ${iso(T)}; ${certs.length} certificates, ${certs.filter((c) => c.compromised).length} under K from T on`);
    const verifyUrl = (c: Drilled) => `${server.config.baseUrl}/v/${ISSUER}/${c.number}`;

    // API: the verdict at the verify URL, and in one batch.
    for (const c of certs) {
      const res = await send(server, 'GET', `/v/${ISSUER}/${c.number}`, { headers: { accept: 'application/json' } });
      const verdict = JSON.parse(res.text) as { valid?: boolean };
      expectVerdict('api', c, typeof verdict.valid === 'boolean' ? verdict.valid : null, res.status === 200 ? '' : `(${res.status})`);
    }
    const batch = await send(server, 'POST', '/api/v1/verify', { body: JSON.stringify({ items: certs.map(verifyUrl) }) });
    const results = (JSON.parse(batch.text) as { results: Array<{ verdict: { valid: boolean } }> }).results;
    certs.forEach((c, i) => expectVerdict('batch', c, results[i]?.verdict.valid ?? null));

    // SDK: each offline bundle, with the trust policy the registry announces.
    const wellKnown = JSON.parse((await send(server, 'GET', '/.well-known/certrail')).text) as { logVerifierKey: string; registryKey: string };
    const policy: TrustPolicy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey };
    for (const c of certs) {
      const bundle: Bundle = sdk.parseBundle(JSON.parse((await send(server, 'GET', `/api/v1/certificates/${ISSUER}/${c.number}/bundle`)).text));
      const verdict: BundleVerdict = await sdk.verifyBundle(bundle, policy, { now: Date.now() });
      const keyCheck = verdict.checks.find((k) => k.name === 'issuer-key');
      expectVerdict('sdk', c, verdict.valid, keyCheck?.ok === false ? `(${keyCheck.detail})` : '');
    }

    // CLI: the first certificate under K before T and after T, side by side.
    const cliCerts = certs.filter((x) => x.key === 'K' && x.number.endsWith('-1'));
    const cliRuns = await Promise.all(cliCerts.map((c) => certrail(['verify', verifyUrl(c), '--json', '--registry', server.url], {})));
    cliCerts.forEach((c, i) => {
      const out = cliRuns[i]!;
      let valid: boolean | null = null;
      try {
        valid = (JSON.parse(out.stdout) as { valid: boolean }).valid;
      } catch {
        // unreadable: reported below
      }
      expectVerdict('cli', c, valid, valid === null ? `(exit ${out.code}: ${out.stderr.slice(0, 200)})` : '');
    });

    // The verify page in Chromium: the verdict it computed in the browser from the bundle.
    browser = await launchChromium();
    const page = await browser.newPage();
    for (const c of certs) {
      await page.goto(`${server.url}/v/${ISSUER}/${c.number}`);
      await page.waitForSelector('#main[data-checked="browser"]', { timeout: 15_000 });
      const state = await page.locator('#verdict').getAttribute('data-state');
      const source = await page.locator('#verdict').getAttribute('data-source');
      const warnings = await page.locator('#verdict .verdict__warning').count();
      expectVerdict('page', c, source === 'browser' ? state === 'valid' : null, `(state ${state}, source ${source}${warnings ? ', browser and registry disagree' : ''})`);
    }

    // Monitors: the early mirror brought up to date, and a fresh one.
    for (const [name, dbPath] of [['updated', monitorDb], ['fresh', join(server.dir, 'monitor-fresh.db')]] as const) {
      const report = await runMonitor({ url: server.url, dbPath, workers: 0 });
      const { flagged, others } = monitorFindings(report);
      for (const c of certs) expectVerdict('monitor', c, !flagged.has(c.index), `(${name} mirror)`);
      for (const other of others) violations.push(`monitor (${name} mirror) also reported ${other}`);
    }
    if (server.unexpectedErrors() > 0) violations.push(`the server logged ${server.unexpectedErrors()} unexpected errors`);
    return {
      certificates: certs.length,
      compromised: certs.filter((c) => c.compromised).length,
      compromiseTime: iso(T),
      checks,
      violations,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await browser?.close();
    await server.stop();
  }
}

export function summaryLine(s: DrillSummary): string {
  const checks = SURFACES.map((k) => `${k} ${s.checks[k]}`).join(', ');
  return (
    `key-compromise: ${s.certificates} certificates (${s.compromised} under the key from T=${s.compromiseTime} on); ` +
    `verdicts checked: ${checks}; violations ${s.violations.length}; ${(s.elapsedMs / 1000).toFixed(1)} s`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { 'per-group': { type: 'string', default: '10' }, short: { type: 'boolean' }, json: { type: 'boolean' } } });
  const summary = await runDrill({ perGroup: values.short ? 2 : Number(values['per-group']), log: (line) => console.error(line) });
  for (const v of summary.violations.slice(0, 50)) console.error(`VIOLATION ${v}`);
  console.log(values.json ? JSON.stringify(summary) : summaryLine(summary));
  process.exit(summary.violations.length === 0 ? 0 : 1);
}
