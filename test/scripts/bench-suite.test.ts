// The benchmark suite (scripts/bench/suite.ts), as a smoke run on a tiny log: `npm run bench` in a real process with
// its own dataset cache and report file in a temporary folder. Speed is not asserted (targets are the suite's, run in
// full); what must hold is that every path is measured without errors, every figure is a finite number, every
// ratio to its limit is computed, the run's issuances are taken back from the cached dataset, and docs/PERFORMANCE.md
// is left alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PATHS, SUITE_BEGIN, SUITE_END } from '../../scripts/bench/report.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'PERFORMANCE.md');
const dir = mkdtempSync(join(tmpdir(), 'certrail-bench-suite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rows of the markdown table that follows `heading`, as cells. */
function tableAfter(report: string, heading: string): string[][] {
  const start = report.indexOf(`### ${heading}\n`);
  if (start < 0) return [];
  const lines = report.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}

const number = (cell: string): number => Number(cell.replace(/[,×]|\s*(ms|MB).*$/g, ''));

describe('npm run bench (smoke run)', () => {
  it('measures every path on a tiny log and writes finite figures and ratios to the given file only', () => {
    const doc = readFileSync(DOC, 'utf8');
    const out = join(dir, 'PERFORMANCE.md');
    const args = ['--quick', '--sizes', '300', '--seconds', '0.5', '--limit-seconds', '0.2', '--clients', '4', '--issue', '20', '--bundles', '10', '--proofs', '20', '--naive-sizes', '100,200'];
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench', 'suite.ts'), ...args, '--cache', join(dir, 'cache'), '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    expect(run.stdout).toMatch(/bench: 10 measurements of 10 paths at 1 sizes \(\d[\d,]* entries\) in \d+ s .*; 0 errors/);
    expect(readFileSync(DOC, 'utf8')).toBe(doc);

    const report = readFileSync(out, 'utf8');
    expect(report).toContain(SUITE_BEGIN);
    expect(report).toContain(SUITE_END);
    expect(report).toContain(`npm run bench -- ${args.join(' ')}`);
    for (const spec of Object.values(PATHS)) {
      const rows = tableAfter(report, spec.title);
      expect(rows, spec.title).toHaveLength(1);
      const row = rows[0]!;
      const ratio = row[row.length - 2]!;
      expect(ratio, `${spec.title}: ratio`).toMatch(/^[\d,.]+×$/);
      expect(Number.isFinite(number(ratio)) && number(ratio) > 0, `${spec.title}: ratio ${ratio}`).toBe(true);
      // Every numeric cell (entries, operations, rate, latencies, limit, result) is a finite number.
      const figures = row.filter((c) => /^[\d,.]+( ms| MB.*|×)?$/.test(c));
      expect(figures.length, `${spec.title}: ${row.join(' | ')}`).toBeGreaterThanOrEqual(4);
      for (const cell of figures) expect(Number.isFinite(number(cell)), `${spec.title}: ${cell}`).toBe(true);
      if (row.length > 7) expect(row[3], `${spec.title}: errors`).toBe('0');
    }
    const limits = tableAfter(report, 'Limits measured in this run');
    expect(limits).toHaveLength(7);
    for (const [, result] of limits) expect(result).toMatch(/^\d[\d,.]*/);
    // The verify path is also read against its ceiling: the same route answering a constant verdict.
    const ceiling = /constant verdict of the same shape and size \(no lookup\) serves ([\d,]+) req\/s, ([\d.]+)× of hello-world .*Ours reaches ([\d.]+)× of that ceiling\./.exec(report);
    expect(ceiling, 'the verify ceiling sentence').not.toBeNull();
    for (const figure of ceiling!.slice(1)) expect(number(figure)).toBeGreaterThan(0);
    // The run's issuances were taken back: the cached dataset is again the 300-entry log it was built as.
    const [key] = readdirSync(join(dir, 'cache'));
    const datasetDir = join(dir, 'cache', key!, '300');
    const dataset = JSON.parse(readFileSync(join(datasetDir, 'dataset.json'), 'utf8')) as { certificates: number; next: number; managedNext: number };
    expect(dataset).toMatchObject({ next: dataset.certificates + 1, managedNext: 1 });
    const db = new Database(join(datasetDir, 'certrail.db'), { readonly: true });
    expect(db.prepare('SELECT max(size) AS size FROM log_checkpoints').get()).toEqual({ size: 300 });
    db.close();
    const naive = tableAfter(report, 'The naive approach beside ours: merkletreejs');
    expect(naive.map((r) => r[0])).toEqual(['100', '200', '300']);
    expect(naive[2]![1]).toContain('(extrapolated)');
  }, 180_000);
});
