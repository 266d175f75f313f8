// Draft files for `certrail issue`: JSON and YAML obey the same strict rules.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDraftFile } from '../../src/cli/issue.js';
import { tempDir } from '../support/registry.js';

describe('readDraftFile', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const write = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads YAML into the same document as the equivalent JSON, keeping dates as strings', () => {
    const yaml = write('cert.yaml', [
      'validFrom: 2026-01-15T00:00:00Z',
      'credentialSubject:',
      '  system: { name: Inspector, version: "2.3" }',
      '  models:',
      '    - name: detector.safetensors',
      '      digest: "sha256:' + 'ab'.repeat(32) + '"',
      '',
    ].join('\n'));
    const json = write('cert.json', JSON.stringify({
      validFrom: '2026-01-15T00:00:00Z',
      credentialSubject: { system: { name: 'Inspector', version: '2.3' }, models: [{ name: 'detector.safetensors', digest: `sha256:${'ab'.repeat(32)}` }] },
    }));
    expect(readDraftFile(yaml)).toEqual(readDraftFile(json));
  });

  it('refuses duplicate keys, aliases and integers beyond 2^53 in YAML', () => {
    expect(() => readDraftFile(write('dup.yaml', 'a: 1\na: 2\n'))).toThrow(/not valid YAML/);
    expect(() => readDraftFile(write('alias.yml', 'a: &x [1, 2]\nb: *x\n'))).toThrow(/not valid YAML/);
    expect(() => readDraftFile(write('big.yaml', 'n: 9007199254740993\n'))).toThrow(/not valid YAML/);
    expect(() => readDraftFile(write('dup.json', '{"a":1,"a":2}'))).toThrow(/not valid JSON/);
  });
});
