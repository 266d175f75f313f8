// The RFC 4180 reader behind `certrail import`, and the mapping of its columns to certificate drafts.
import { describe, expect, it } from 'vitest';
import { checkCsvHeader, draftOfCsvRow } from '../../src/cli/certificate-csv.js';
import { parseCsv } from '../../src/cli/csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF or LF, and a BOM', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\n\n2,"two\nlines",\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 4, fields: ['2', 'two\nlines', ''] },
    ]);
    expect(parseCsv('a,b\n1,2')).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['1', '2'] }]);
  });

  it('refuses malformed CSV with the line', () => {
    expect(() => parseCsv('a,b\n1,x"y"\n')).toThrow(/line 2: a quote inside an unquoted field/);
    expect(() => parseCsv('a,b\n1,"x"y\n')).toThrow(/line 2: text after the closing quote/);
    expect(() => parseCsv('a,b\n1,"open\n')).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/line 2: 3 fields, the header has 2/);
  });
});

describe('certificate CSV columns', () => {
  const header = ['number', 'organization', 'system', 'model_name', 'model_digest', 'scope', 'standards', 'valid_from', 'valid_until', 'surveillance_first_due'];

  it('maps a minimal row, with plain dates widened to date-times', () => {
    checkCsvHeader(header);
    const draft = draftOfCsvRow(header, ['N-1', 'Org', 'Sys', 'm', `sha256:${'0'.repeat(64)}`, 'Scope.', 'ISO/IEC 42001:2023', '2025-01-01', '2027-12-31', '2026-01-01T00:00:00Z']);
    expect(draft).toEqual({
      validFrom: '2025-01-01T00:00:00Z',
      validUntil: '2027-12-31T23:59:59Z',
      credentialSubject: {
        type: 'CertifiedAISystem',
        organization: { name: 'Org' },
        system: { name: 'Sys' },
        models: [{ name: 'm', digest: `sha256:${'0'.repeat(64)}`, serialization: { method: 'files', hashType: 'sha256' } }],
        certificate: {
          number: 'N-1',
          scope: 'Scope.',
          standards: [{ id: 'ISO/IEC 42001:2023' }],
          surveillance: { intervalMonths: 12, firstDueBy: '2026-01-01T00:00:00Z' },
        },
      },
    });
  });

  it('refuses unknown, repeated and missing columns, and mismatched lists', () => {
    expect(() => checkCsvHeader([...header, 'standard'])).toThrow(/unknown column "standard"/);
    expect(() => checkCsvHeader([...header, 'scope'])).toThrow(/column scope appears twice/);
    expect(() => checkCsvHeader(header.slice(1))).toThrow(/missing column\(s\): number/);
    const row = ['N-1', 'Org', 'Sys', 'a;b', `sha256:${'0'.repeat(64)}`, 'S', 'X', '2025-01-01', '2027-01-01', '2026-01-01'];
    expect(() => draftOfCsvRow(header, row)).toThrow(/model_name lists 2 model\(s\) but model_digest 1/);
  });
});
