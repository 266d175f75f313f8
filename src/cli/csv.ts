// A strict RFC 4180 CSV reader: comma-separated fields, CRLF or LF record ends, fields in double quotes may hold
// commas, line breaks and doubled quotes (""). A leading UTF-8 byte order mark (as spreadsheets write it) is dropped.
// Anything else is refused with its line number rather than guessed: a quote inside an unquoted field, text after a
// closing quote, an unterminated quoted field, or a record with another number of fields than the header.

export interface CsvRecord {
  /** The 1-based line on which the record starts. */
  line: number;
  fields: string[];
}

export class CsvError extends Error {}

/** Parses `text` into records; blank lines (outside quotes) are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field was quoted and its closing quote was seen
  let i = text.startsWith('\uFEFF') ? 1 : 0;

  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };

  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          wasQuoted = true;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (wasQuoted) {
      throw new CsvError(`line ${line}: text after the closing quote of a field`);
    } else if (c === '"') {
      if (field !== '') throw new CsvError(`line ${line}: a quote inside an unquoted field (quote the whole field and double inner quotes)`);
      quoted = true;
    } else {
      field += c;
    }
  }
  if (quoted) throw new CsvError(`line ${recordLine}: a quoted field is not closed`);
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();

  const width = records[0]?.fields.length ?? 0;
  for (const r of records) {
    if (r.fields.length !== width) throw new CsvError(`line ${r.line}: ${r.fields.length} fields, the header has ${width}`);
  }
  return records;
}
