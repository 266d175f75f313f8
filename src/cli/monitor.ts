// `certrail monitor <registry URL>`: mirrors the log into a local SQLite file and audits it (src/monitor/monitor.ts).
// Exit codes: 0 no anomaly, 1 an anomaly (the report says which), 2 usage or runtime error (e.g. unreachable).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { runMonitor, type MonitorReport } from '../monitor/monitor.js';
import { createProgress, type Progress } from './progress.js';

export const MONITOR_USAGE = `certrail monitor <registry URL> [options]

Mirrors the registry's log (tiles and entries, only what is new since the last run) into a local SQLite file and
checks it: the checkpoint's log signature and witness cosignatures, consistency with every checkpoint seen before
(rollback, fork), entries against tiles, the root recomputed from all entries, every entry's signature, every
certificate's event chain and every issuer key's validity at loggedAt.

Options:
  --db FILE         the monitor's file (default data/monitor-<host>.db); it pins the log key on first use
  --log-key VKEY    the log's verifier key (default: /.well-known/certrail on the first run)
  --witness VKEY    a witness's cosignature/v1 verifier key; repeatable (default: the registry's announced policy)
  --quorum K        how many of the witnesses must cosign (default: announced, or all given --witness keys)
  --watch           keep polling; stops with exit code 1 at the first anomaly
  --interval S      seconds between polls with --watch (default 10)
  --workers N       worker threads checking entries (default one per core, at most 4; 0: none)
  --json            print the report as JSON

Exit codes: 0 no anomaly, 1 anomaly found (the evidence is kept in the file), 2 usage or runtime error.`;

function defaultDb(url: string): string {
  const host = new URL(url).host.replace(/[^A-Za-z0-9.-]/g, '_');
  return `data/monitor-${host}.db`;
}

function progressReporter(json: boolean): { onProgress(done: number, total: number): void; finish(): void } {
  let bar: Progress | null = null;
  let shown = 0;
  return {
    onProgress(done, total) {
      if (json) return;
      bar ??= createProgress('catching up', total, { unit: 'items', stream: process.stderr });
      bar.add(done - shown);
      shown = done;
    },
    finish() {
      bar?.finish();
      bar = null;
      shown = 0;
    },
  };
}

/** The human-readable report. */
export function formatReport(report: MonitorReport): string {
  const lines: string[] = [];
  lines.push(`log ${report.origin ?? '?'} at ${report.url}`);
  const c = report.checkpoint;
  if (c) {
    lines.push(
      `checkpoint ${c.size} (root ${c.root.slice(0, 16)}…) signed by the log key; cosigned by ${c.cosigners.length} of ${c.witnesses} witness(es)` +
        (c.witnesses > 0 ? `, quorum ${c.quorum}${c.cosigners.length > 0 ? ` (${c.cosigners.join(', ')})` : ''}` : ''),
    );
  }
  if (report.newEntries > 0) {
    lines.push(
      `mirrored ${report.newEntries} new entries (${report.previousSize} → ${report.size}) in ${report.seconds.toFixed(1)} s, ${report.entriesPerSecond} entries/s`,
    );
  } else {
    lines.push(`no new entries (verified size ${report.size})`);
  }
  const t = report.totals;
  lines.push(
    `mirror: ${t.entries} entries: ${t.issuers} issuer registration(s), ${t.keysAdded} key(s) added, ${t.keysRevoked} revoked, ${t.certificates} certificate(s), ${t.events} event(s)`,
  );
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  for (const a of report.anomalies) lines.push(`ANOMALY ${a.kind}: ${a.detail}`);
  if (report.moreAnomalies > 0) lines.push(`… and ${report.moreAnomalies} more anomalies`);
  lines.push(report.ok ? 'OK: no anomaly' : `${report.anomalies.length + report.moreAnomalies} anomal${report.anomalies.length + report.moreAnomalies === 1 ? 'y' : 'ies'}: the log misbehaved or serves inconsistent data`);
  return lines.join('\n');
}

export async function monitorCommand(args: string[]): Promise<number> {
  // Until a report is printed, a process that ends (say, with nothing left to wait for) must not look like success.
  process.exitCode = 2;
  try {
    return await monitor(args);
  } finally {
    process.exitCode = undefined;
  }
}

async function monitor(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      'log-key': { type: 'string' },
      witness: { type: 'string', multiple: true },
      quorum: { type: 'string' },
      watch: { type: 'boolean' },
      interval: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(MONITOR_USAGE);
    return 0;
  }
  const url = positionals[0];
  if (!url || positionals.length > 1 || !/^https?:\/\//i.test(url)) {
    console.error(`certrail monitor: give the registry's URL (http:// or https://)\n\n${MONITOR_USAGE}`);
    return 2;
  }
  const quorum = values.quorum === undefined ? undefined : Number(values.quorum);
  if (quorum !== undefined && (!Number.isInteger(quorum) || quorum < 0)) {
    console.error(`--quorum ${values.quorum}: not a non-negative integer`);
    return 2;
  }
  const interval = Number(values.interval ?? 10);
  if (!(interval > 0)) {
    console.error(`--interval ${values.interval}: not a positive number of seconds`);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
    console.error(`--workers ${values.workers}: not a number of threads (0 to 64)`);
    return 2;
  }
  const dbPath = values.db ?? defaultDb(url);
  mkdirSync(dirname(dbPath), { recursive: true });
  const json = values.json === true;
  const progress = progressReporter(json);
  const once = async (): Promise<MonitorReport> => {
    try {
      return await runMonitor({
        url,
        dbPath,
        logKey: values['log-key'],
        witnesses: values.witness,
        quorum,
        ...(workers === undefined ? {} : { workers }),
        onProgress: progress.onProgress,
      });
    } finally {
      progress.finish();
    }
  };

  let report = await once();
  console.log(json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (!values.watch || !report.ok) return report.ok ? 0 : 1;
  let stopped = false;
  process.once('SIGINT', () => {
    stopped = true;
  });
  while (!stopped) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    if (stopped) break;
    try {
      report = await once();
    } catch (error) {
      // A registry that is briefly unreachable is not an anomaly; say so and poll again.
      console.error(`${new Date().toISOString()} ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (json) console.log(JSON.stringify(report));
    else if (!report.ok || report.newEntries > 0 || report.warnings.length > 0) {
      console.log(`${new Date().toISOString()}\n${formatReport(report)}`);
    }
    if (!report.ok) return 1;
  }
  return 0;
}
