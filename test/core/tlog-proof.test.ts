import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegistryError } from '../../src/core/errors.js';
import { formatTlogProof, parseTlogProof, type TlogProof } from '../../src/core/tlog-proof.js';

function expectBad(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).code).toBe('bad-request');
    return;
  }
  throw new Error('expected a RegistryError');
}

// The example of c2sp.org/tlog-proof (signatures elided there, so only their shape is realistic).
const SPEC_EXAMPLE = `c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
— witness1.example mJirIklj[...]qY9v2B/5bg==
— witness2.example TnKKVHLX[...]xwYwrSjgow==
— witness3.example S4X82uH5[...]3oEcROGLFQ==
`;

const CHECKPOINT = `certrail.example.org/log
3
qKc2Ic8Hv0KhYpOe4VdLCXCF0XF2lWRPzOPW1PJ6dO4=

— certrail.example.org/log AAAAAK6d0hrZrxXVh1MPHtGmnrhIDWIxQe0Dwh3SxmNoJFovJtGfvCpFGl5FAY1xRtvexbyG7EvuMaf5hIfMPZswmAk=
`;

function hash(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill);
}

describe('tlog-proof (c2sp.org/tlog-proof@v1 "Format")', () => {
  it('parses and re-formats the spec example byte for byte', () => {
    const p = parseTlogProof(SPEC_EXAMPLE);
    expect(p.index).toBe(73894);
    expect(p.proof).toHaveLength(5);
    expect(p.extra).toBeDefined();
    expect(p.checkpoint.startsWith('example.com/fancylog\n109482\n')).toBe(true);
    expect(p.checkpoint.endsWith('3oEcROGLFQ==\n')).toBe(true);
    expect(formatTlogProof(p)).toBe(SPEC_EXAMPLE);
  });

  it('formats the exact layout', () => {
    const text = formatTlogProof({ index: 2, proof: [hash(1), hash(2)], checkpoint: CHECKPOINT });
    expect(text).toBe(
      'c2sp.org/tlog-proof@v1\nindex 2\n' +
        'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n\n' +
        CHECKPOINT,
    );
    expect(formatTlogProof({ index: 0, proof: [], checkpoint: CHECKPOINT })).toBe(
      'c2sp.org/tlog-proof@v1\nindex 0\n\n' + CHECKPOINT,
    );
    expect(formatTlogProof({ index: 0, proof: [], checkpoint: CHECKPOINT, extra: new Uint8Array([104, 105]) })).toBe(
      'c2sp.org/tlog-proof@v1\nextra aGk=\nindex 0\n\n' + CHECKPOINT,
    );
    // Empty extra data is no extra data: the line is omitted.
    expect(parseTlogProof(formatTlogProof({ index: 0, proof: [], checkpoint: CHECKPOINT, extra: new Uint8Array(0) }))).toEqual({
      index: 0,
      proof: [],
      checkpoint: CHECKPOINT,
    });
  });

  it('round-trips random proofs', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 64 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 200 }), { nil: undefined }),
        (index, proof, extra) => {
          const p: TlogProof = { index, proof, checkpoint: CHECKPOINT };
          if (extra !== undefined) p.extra = extra;
          const text = formatTlogProof(p);
          expect(parseTlogProof(text)).toEqual(p);
          expect(formatTlogProof(parseTlogProof(text))).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects malformed proofs', () => {
    const good = formatTlogProof({ index: 7, proof: [hash(1)], checkpoint: CHECKPOINT });
    const h = 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=';
    const bad = [
      '',
      CHECKPOINT,
      good.replace('c2sp.org/tlog-proof@v1', 'c2sp.org/tlog-proof@v2'),
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1 \n'),
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1\r\n'),
      '\n' + good,
      good.replace(/\n/g, '\r\n'),
      good.replace('index 7', 'index 07'),
      good.replace('index 7', 'index -7'),
      good.replace('index 7', 'index +7'),
      good.replace('index 7', 'index 7.0'),
      good.replace('index 7', 'index 1e3'),
      good.replace('index 7', 'index  7'),
      good.replace('index 7', 'index 7 '),
      good.replace('index 7', 'index '),
      good.replace('index 7', 'index'),
      good.replace('index 7', 'Index 7'),
      good.replace('index 7', 'index 9007199254740992'), // 2^53
      good.replace('index 7\n', ''), // no index
      good.replace('index 7\n', 'index 7\nindex 7\n'),
      good.replace('index 7\n', 'index 7\nextra aGk=\n'), // extra after index
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1\nextra \n'), // empty extra
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1\nextra aGk\n'), // unpadded
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1\nextra aGl=\n'), // non-zero pad bits
      good.replace('c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v1\nextra aGk=\nextra aGk=\n'),
      good.replace(h, h.slice(0, -4) + 'AQE'), // unpadded hash
      good.replace(h, 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=='), // 31 bytes
      good.replace(h, h + 'AAAA'), // 35 bytes
      good.replace(h, h.slice(0, -2) + 'F='), // non-zero pad bits
      good.replace(h, ' ' + h),
      good.replace(h, h + ' '),
      good.replace(h, h.replace('A', '-')), // base64url
      good.replace(`${h}\n\n`, `${h}\n`), // no blank line
      good.replace(`${h}\n\n`, `${h}\n\n\n`), // checkpoint starts with a blank line
      good.slice(0, good.indexOf('\n\n') + 2), // no checkpoint
      good.slice(0, -1), // checkpoint without its final newline
      good + '\n',
      good.replace('\n\n— ', '\n— '), // note without its blank line
      good.replace('\n— ', '\n- '), // not an em dash
      good + 'trailing junk\n',
      good.replace('certrail.example.org/log\n3', 'certrail.example.org/log\r\n3'),
      good.replace('certrail.example.org/log\n3', 'certrail.\ud800example.org/log\n3'),
      formatTlogProof({ index: 7, proof: [], checkpoint: CHECKPOINT }).replace(
        'index 7\n',
        'index 7\n' + `${h}\n`.repeat(65),
      ),
    ];
    for (const text of bad) expectBad(() => parseTlogProof(text));
    expect(parseTlogProof(good).index).toBe(7);
  });

  it('refuses to format what it could not parse', () => {
    expectBad(() => formatTlogProof({ index: -1, proof: [], checkpoint: CHECKPOINT }));
    expectBad(() => formatTlogProof({ index: 2 ** 53, proof: [], checkpoint: CHECKPOINT }));
    expectBad(() => formatTlogProof({ index: 0, proof: [new Uint8Array(31)], checkpoint: CHECKPOINT }));
    expectBad(() => formatTlogProof({ index: 0, proof: Array.from({ length: 65 }, () => hash(0)), checkpoint: CHECKPOINT }));
    expectBad(() => formatTlogProof({ index: 0, proof: [], checkpoint: '' }));
    expectBad(() => formatTlogProof({ index: 0, proof: [], checkpoint: CHECKPOINT.slice(0, -1) }));
    expectBad(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'a\nb\nc\n' }));
    expectBad(() => formatTlogProof({ index: 0, proof: [], checkpoint: '\n' + CHECKPOINT }));
  });
});
