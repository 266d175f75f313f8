// The CSV column set of `certrail import`, one certificate per row, mapped to the certificate draft shape
// (certificateDraftSchema). The mapping only arranges cells; the schema (applied by the caller) judges the values.
//
// Columns (header row required, any order; unknown columns are refused so a misspelt one is never ignored):
//   required  number, organization, system, model_name, model_digest, scope, standards, valid_from, valid_until,
//             surveillance_first_due
//   optional  organization_ids, system_version, model_method, surveillance_interval_months (default 12),
//             accreditation_body, accreditation_number, accreditation_scope, evidence_name, evidence_digest
// List cells are separated by ";": standards, model_name / model_digest / model_method (the n-th of each describe
// the n-th model; one model_method applies to all, default "files"), evidence_name / evidence_digest, and
// organization_ids as SCHEME:VALUE (e.g. LEI:5299000J2N45DDNE4Y28). An empty optional cell is absent.
// Dates: RFC 3339 date-times, or a plain date YYYY-MM-DD meaning 00:00:00Z, except for valid_until where a plain
// date means the end of that day, 23:59:59Z. Line breaks inside a cell are kept as LF (CRLF is converted).
import type { JsonObject, JsonValue } from '../core/json.js';

export const REQUIRED_COLUMNS = [
  'number',
  'organization',
  'system',
  'model_name',
  'model_digest',
  'scope',
  'standards',
  'valid_from',
  'valid_until',
  'surveillance_first_due',
] as const;
export const OPTIONAL_COLUMNS = [
  'organization_ids',
  'system_version',
  'model_method',
  'surveillance_interval_months',
  'accreditation_body',
  'accreditation_number',
  'accreditation_scope',
  'evidence_name',
  'evidence_digest',
] as const;

export class CertificateCsvError extends Error {}

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks the header: every required column present, no unknown or repeated one. */
export function checkCsvHeader(header: readonly string[]): void {
  const known = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);
  const seen = new Set<string>();
  for (const column of header) {
    if (!known.has(column)) {
      throw new CertificateCsvError(`unknown column ${JSON.stringify(column)} (columns: ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(', ')})`);
    }
    if (seen.has(column)) throw new CertificateCsvError(`column ${column} appears twice`);
    seen.add(column);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) throw new CertificateCsvError(`missing column(s): ${missing.join(', ')}`);
}

function list(cell: string | undefined): string[] {
  return (cell ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
}

function dateTime(cell: string, endOfDay: boolean): string {
  const value = cell.trim();
  return PLAIN_DATE.test(value) ? `${value}T${endOfDay ? '23:59:59' : '00:00:00'}Z` : value;
}

/** The certificate draft of one data row (`header` already checked). Throws CertificateCsvError for list mismatches. */
export function draftOfCsvRow(header: readonly string[], fields: readonly string[]): JsonObject {
  const row = new Map<string, string>();
  header.forEach((column, i) => {
    // A line break inside a quoted cell may have been saved as CRLF; documents hold LF only.
    const value = fields[i]!.replace(/\r\n?/g, '\n').trim();
    if (value !== '') row.set(column, value);
  });
  const cell = (column: string) => row.get(column);

  const names = list(cell('model_name'));
  const digests = list(cell('model_digest'));
  const methods = list(cell('model_method'));
  if (names.length !== digests.length) {
    throw new CertificateCsvError(`model_name lists ${names.length} model(s) but model_digest ${digests.length}`);
  }
  if (methods.length > 1 && methods.length !== names.length) {
    throw new CertificateCsvError(`model_method lists ${methods.length} methods for ${names.length} model(s)`);
  }
  const models: JsonValue[] = names.map((name, i) => ({
    name,
    digest: digests[i]!,
    serialization: { method: methods.length > 1 ? methods[i]! : (methods[0] ?? 'files'), hashType: 'sha256' },
  }));

  const organization: JsonObject = { name: cell('organization') ?? '' };
  const ids = list(cell('organization_ids'));
  if (ids.length > 0) {
    organization.identifiers = ids.map((id) => {
      const colon = id.indexOf(':');
      if (colon <= 0) throw new CertificateCsvError(`organization_ids: ${JSON.stringify(id)} is not SCHEME:VALUE`);
      return { scheme: id.slice(0, colon).trim(), value: id.slice(colon + 1).trim() };
    });
  }

  const system: JsonObject = { name: cell('system') ?? '' };
  if (cell('system_version') !== undefined) system.version = cell('system_version')!;

  const intervalText = cell('surveillance_interval_months') ?? '12';
  const interval = /^[0-9]{1,3}$/.test(intervalText) ? Number(intervalText) : Number.NaN;
  if (Number.isNaN(interval)) throw new CertificateCsvError(`surveillance_interval_months: ${JSON.stringify(intervalText)} is not a whole number`);

  const certificate: JsonObject = {
    number: cell('number') ?? '',
    scope: cell('scope') ?? '',
    standards: list(cell('standards')).map((id) => ({ id })),
    surveillance: { intervalMonths: interval, firstDueBy: dateTime(cell('surveillance_first_due') ?? '', false) },
  };
  if (cell('accreditation_body') !== undefined) {
    const accreditation: JsonObject = { body: cell('accreditation_body')! };
    if (cell('accreditation_number') !== undefined) accreditation.number = cell('accreditation_number')!;
    if (cell('accreditation_scope') !== undefined) accreditation.scope = cell('accreditation_scope')!;
    certificate.accreditation = accreditation;
  } else if (cell('accreditation_number') !== undefined || cell('accreditation_scope') !== undefined) {
    throw new CertificateCsvError('accreditation_number and accreditation_scope need accreditation_body');
  }
  const evidenceNames = list(cell('evidence_name'));
  const evidenceDigests = list(cell('evidence_digest'));
  if (evidenceNames.length !== evidenceDigests.length) {
    throw new CertificateCsvError(`evidence_name lists ${evidenceNames.length} item(s) but evidence_digest ${evidenceDigests.length}`);
  }
  if (evidenceNames.length > 0) certificate.evidence = evidenceNames.map((name, i) => ({ name, digest: evidenceDigests[i]! }));

  return {
    validFrom: dateTime(cell('valid_from') ?? '', false),
    validUntil: dateTime(cell('valid_until') ?? '', true),
    credentialSubject: { type: 'CertifiedAISystem', organization, system, models, certificate },
  };
}
