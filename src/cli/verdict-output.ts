// How `certrail verify` and `certrail status` show a verdict to people: one unmistakable VALID / NOT VALID banner,
// the facts a relying party reads first (certificate, status, surveillance, validity), then every check with ✓ or ✗
// and its detail. The caller adds the lines that say where the verdict comes from and what was trusted.

/** A verdict as both the offline verifier and the registry's JSON express it. */
export interface ShownVerdict {
  valid: boolean;
  status: string | null;
  surveillance: string | null;
  surveillanceDue: string | null;
  validFrom: string | null;
  validUntil: string | null;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

const RULE = '='.repeat(60);

/** The lines of a verdict; `facts` are extra label/value rows shown after the standard ones. */
export function verdictLines(verdict: ShownVerdict, certificate: string, facts: Array<[string, string]>): string[] {
  const width = Math.max(12, ...facts.map(([label]) => label.length)) + 2;
  const row = (label: string, value: string) => `${label.padEnd(width)}${value}`;
  const due = verdict.surveillanceDue;
  const surveillance = verdict.surveillance === null
    ? '-'
    : due === null
      ? verdict.surveillance
      : verdict.surveillance === 'overdue'
        ? `overdue since ${due}`
        : verdict.surveillance === 'due'
          ? `due by ${due} (within 30 days)`
          : `${verdict.surveillance} (next audit due by ${due})`;
  const lines = [
    RULE,
    verdict.valid ? '  ✓ VALID' : '  ✗ NOT VALID',
    RULE,
    row('certificate', certificate),
    row('status', verdict.status ?? '-'),
    row('surveillance', surveillance),
    row('validity', verdict.validFrom && verdict.validUntil ? `${verdict.validFrom} to ${verdict.validUntil}` : '-'),
    ...facts.map(([label, value]) => row(label, value)),
    '',
    'checks:',
  ];
  const nameWidth = Math.max(...verdict.checks.map((c) => c.name.length), 8) + 2;
  for (const c of verdict.checks) lines.push(`  ${c.ok ? '✓' : '✗'} ${c.name.padEnd(nameWidth)}${c.detail}`);
  const failed = verdict.checks.filter((c) => !c.ok).map((c) => c.name);
  if (!verdict.valid && failed.length > 0) lines.push('', `failed: ${[...new Set(failed)].join(', ')}`);
  return lines;
}
