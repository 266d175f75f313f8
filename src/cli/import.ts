// `certrail import <file.csv | file.jsonl> --key FILE`: a certification body brings its existing certificates into the
// registry in bulk. Every certificate is validated and signed here, then submitted with up to --batch requests in
// flight (the registry's sequencer pools concurrent writes into one commit).
//
// Resumable without duplicates, after a failed row, a kill or a crash:
//  - the state file (JSON Lines, appended after each logged certificate) lists the numbers done and their content
//    hashes; a rerun skips them without asking the registry;
//  - a certificate logged whose answer was lost (so it is not in the state file) is found again: the registry refuses
//    the number (409) and, when the logged certificate has the same content, it counts as done;
//  - each request carries Idempotency-Key cert-<number>-<content hash>, so an in-process retry after a lost answer
//    gets the original receipt.
// A row whose content changed after it was logged is reported as failed: a logged certificate cannot be edited
// (record an event instead).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { asJsonObject, type UnsignedCertificate } from '../core/credential.js';
import { isJsonObject, parseJsonStrict, type JsonValue } from '../core/json.js';
import { messageOf, parseCommand, processIo, runCommand, type Io } from './args.js';
import { checkCsvHeader, draftOfCsvRow, OPTIONAL_COLUMNS, REQUIRED_COLUMNS } from './certificate-csv.js';
import { contentHash, openCbSession, readCbKeyFile, type CbSession } from './cb-session.js';
import { parseCsv } from './csv.js';
import { UsageError } from './issuer.js';
import { ProblemError } from './registry-client.js';
import { completeForSession, issueCertificate } from './issue.js';
import { createProgress } from './progress.js';
import { RegistryClient, registryUrlFor, UnreachableError } from './registry-client.js';

export const IMPORT_HELP = `certrail import <file.csv | file.jsonl> --key FILE [options]: issue a CB's existing certificates in bulk

  file.jsonl        one certificate draft (the JSON that certrail issue takes) per line
  file.csv          one certificate per row, with a header row naming these columns:
                      required: ${REQUIRED_COLUMNS.join(', ')}
                      optional: ${OPTIONAL_COLUMNS.join(', ')}
                    lists are separated by ";" (standards, model_name/model_digest/model_method, evidence_name/
                    evidence_digest, organization_ids as SCHEME:VALUE); a plain date YYYY-MM-DD is 00:00:00Z
                    (valid_until: 23:59:59Z). docs/CLI.md has the details and an example
  --key FILE        the certification body's key (keys/SLUG.key)
  --batch N         at most N requests in flight (default 100)
  --state FILE      the resume state (default <file>.certrail-state): numbers already logged are skipped
  --registry URL    the registry (default: $CERTRAIL_URL, else http://$HOST:$PORT)
  --json            print the summary as JSON
  -h, --help        this help

Interrupted or partly failed? Fix what failed and run the same command again: nothing is logged twice.

Exit codes: 0 every certificate issued or already logged, 1 some rows failed (the others are logged), 2 usage error,
unreadable file, unreachable registry, a rejected key or any other error that stops the import.`;

const DEFAULT_BATCH = 100;
const STATE_VERSION = 1;

interface Row {
  line: number;
  value: JsonValue | null;
  /** Why the row could not be read into a draft. */
  error: string | null;
}

interface Failure {
  line: number;
  number: string | null;
  reason: string;
}

interface Summary {
  registry: string;
  file: string;
  state: string;
  total: number;
  issued: number;
  skipped: { state: number; alreadyLogged: number };
  failed: Failure[];
  aborted: string | null;
}

/** Reads the rows of a CSV or JSONL file into draft values (row-level problems are kept, not thrown). */
export function readImportRows(path: string): Row[] {
  const text = readFileSync(path, 'utf8');
  if (/\.csv$/i.test(path)) {
    const records = parseCsv(text);
    const [header, ...data] = records;
    if (header === undefined) return [];
    const columns = header.fields.map((c) => c.trim());
    checkCsvHeader(columns);
    return data.map((r) => {
      try {
        return { line: r.line, value: draftOfCsvRow(columns, r.fields), error: null };
      } catch (error) {
        return { line: r.line, value: null, error: messageOf(error) };
      }
    });
  }
  if (/\.(jsonl|ndjson)$/i.test(path)) {
    const rows: Row[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push({ line: i + 1, value: parseJsonStrict(line), error: null });
      } catch (error) {
        rows.push({ line: i + 1, value: null, error: `not valid JSON: ${messageOf(error)}` });
      }
    });
    return rows;
  }
  throw new UsageError(`${path}: import reads .csv or .jsonl files\n\n${IMPORT_HELP}`);
}

interface StateEntry {
  hash: string;
  index: number;
}

/**
 * The resume state: a header line binding the file to one registry and issuer, then one line per logged certificate.
 * Lines are appended whole after each success; a torn last line (a crash mid-write) is ignored on reading.
 */
class ImportState {
  readonly done = new Map<string, StateEntry>();

  private constructor(readonly path: string) {}

  static open(path: string, registry: string, issuer: string): ImportState {
    const state = new ImportState(path);
    if (!existsSync(path)) {
      writeFileSync(path, `${JSON.stringify({ certrailImport: STATE_VERSION, registry, issuer })}\n`, { flag: 'wx' });
      return state;
    }
    const text = readFileSync(path, 'utf8');
    const torn = text !== '' && !text.endsWith('\n');
    const lines = text.split('\n');
    if (!torn) lines.pop(); // the empty string after the last newline
    lines.forEach((line, i) => {
      let value: JsonValue;
      try {
        value = parseJsonStrict(line);
      } catch {
        if (torn && i === lines.length - 1 && i > 0) return; // a line cut short by a crash: that certificate is redone
        throw new Error(`${path} line ${i + 1} is not a state line; is this the right --state file?`);
      }
      if (!isJsonObject(value)) throw new Error(`${path} line ${i + 1} is not a state line`);
      if (i === 0) {
        if (value.certrailImport !== STATE_VERSION || value.registry !== registry || value.issuer !== issuer) {
          throw new Error(`${path} is the state of an import into ${String(value.registry)} by ${String(value.issuer)}, not ${registry} by ${issuer}`);
        }
        return;
      }
      if (typeof value.number !== 'string' || typeof value.hash !== 'string' || typeof value.index !== 'number') {
        throw new Error(`${path} line ${i + 1} is not a state line`);
      }
      state.done.set(value.number, { hash: value.hash, index: value.index });
    });
    if (torn) appendFileSync(path, '\n'); // the next record starts on a line of its own
    return state;
  }

  record(number: string, entry: StateEntry): void {
    this.done.set(number, entry);
    appendFileSync(this.path, `${JSON.stringify({ number, ...entry })}\n`);
  }
}

/** Errors after which no further row can succeed: stop scheduling and report. */
function isFatal(error: unknown): boolean {
  if (error instanceof UnreachableError) return true;
  return error instanceof ProblemError && (error.status === 401 || error.status >= 500);
}

interface Job {
  line: number;
  number: string;
  hash: string;
  unsigned: UnsignedCertificate;
}

async function importCertificates(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      key: { type: 'string' },
      batch: { type: 'string' },
      state: { type: 'string' },
      registry: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    IMPORT_HELP,
  );
  if (values.help) {
    io.out(IMPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one <file.csv | file.jsonl>\n\n${IMPORT_HELP}`);
  if (!values.key) throw new UsageError(`--key FILE is required (the certification body's key)\n\n${IMPORT_HELP}`);
  const batch = values.batch === undefined ? DEFAULT_BATCH : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000) throw new UsageError(`--batch ${values.batch}: 1 to 1000\n\n${IMPORT_HELP}`);
  const file = positionals[0]!;
  const statePath = values.state ?? `${file}.certrail-state`;

  const rows = readImportRows(file);
  const key = await readCbKeyFile(values.key);
  const session = await openCbSession(new RegistryClient(registryUrlFor(values.registry, io.env, null)), key);
  const state = ImportState.open(statePath, session.wellKnown.baseUrl, key.issuer);
  const summary: Summary = {
    registry: session.client.url,
    file,
    state: statePath,
    total: rows.length,
    issued: 0,
    skipped: { state: 0, alreadyLogged: 0 },
    failed: [],
    aborted: null,
  };

  // Validate, complete and de-duplicate every row before anything is sent.
  const jobs: Job[] = [];
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (row.error !== null || row.value === null) {
      summary.failed.push({ line: row.line, number: null, reason: row.error ?? 'empty row' });
      continue;
    }
    const numberHint = draftNumber(row.value);
    let unsigned: UnsignedCertificate;
    try {
      unsigned = completeForSession(session, row.value);
    } catch (error) {
      summary.failed.push({ line: row.line, number: numberHint, reason: messageOf(error) });
      continue;
    }
    const number = unsigned.credentialSubject.certificate.number;
    const earlier = firstLine.get(number);
    if (earlier !== undefined) {
      summary.failed.push({ line: row.line, number, reason: `number ${number} repeats line ${earlier}` });
      continue;
    }
    firstLine.set(number, row.line);
    const hash = contentHash(asJsonObject(unsigned));
    const done = state.done.get(number);
    if (done !== undefined) {
      if (done.hash === hash) summary.skipped.state++;
      else summary.failed.push({ line: row.line, number, reason: `changed since it was logged (entry ${done.index}); a logged certificate cannot be edited, record an event instead` });
      continue;
    }
    jobs.push({ line: row.line, number, hash, unsigned });
  }

  const progress = createProgress(`importing ${jobs.length}`, jobs.length, { unit: 'items', stream: io.progress });
  let next = 0;
  const worker = async () => {
    while (summary.aborted === null && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        const result = await issueCertificate(session, job.unsigned);
        const index = result.outcome === 'issued' ? result.receipt.index : result.index;
        state.record(job.number, { hash: job.hash, index });
        if (result.outcome === 'issued') summary.issued++;
        else summary.skipped.alreadyLogged++;
      } catch (error) {
        if (isFatal(error)) summary.aborted ??= messageOf(error);
        else summary.failed.push({ line: job.line, number: job.number, reason: messageOf(error) });
      }
      progress.add(1);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(batch, jobs.length) }, worker));
  } finally {
    progress.finish();
  }
  summary.failed.sort((a, b) => a.line - b.line);
  report(io, summary, values.json === true, session);
  if (summary.aborted !== null) return 2;
  return summary.failed.length === 0 ? 0 : 1;
}

function draftNumber(value: JsonValue): string | null {
  if (!isJsonObject(value) || !isJsonObject(value.credentialSubject)) return null;
  const certificate = value.credentialSubject.certificate;
  return isJsonObject(certificate) && typeof certificate.number === 'string' ? certificate.number : null;
}

function report(io: Io, summary: Summary, json: boolean, session: CbSession): void {
  if (json) {
    io.out(JSON.stringify(summary, null, 2));
  } else {
    const skipped = summary.skipped.state + summary.skipped.alreadyLogged;
    io.out(`import of ${summary.file} into ${summary.registry} as ${session.key.issuer} (${summary.total} row(s))`);
    io.out(`  issued:   ${summary.issued}`);
    io.out(`  skipped:  ${skipped} (${summary.skipped.state} done in an earlier run, ${summary.skipped.alreadyLogged} already logged with the same content)`);
    io.out(`  failed:   ${summary.failed.length}`);
    for (const f of summary.failed) io.out(`    line ${f.line}${f.number ? ` (${f.number})` : ''}: ${f.reason}`);
    io.out(`  state:    ${summary.state}`);
    if (summary.failed.length > 0 || summary.aborted !== null) io.out('Fix what failed and run the same command again; logged certificates are skipped.');
  }
  if (summary.aborted !== null) io.err(`certrail import: stopped: ${summary.aborted}`);
}

/** Runs `certrail import <args>`; returns the exit code. */
export function importCommand(args: string[], io: Io = processIo()): Promise<number> {
  return runCommand('import', args, io, () => importCertificates(args, io));
}
