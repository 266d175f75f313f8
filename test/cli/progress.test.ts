// The progress bar draws only on a TTY and erases itself when done.
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, columns: 80, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('createProgress', () => {
  it('is silent when the stream is not a TTY', () => {
    const { stream, writes } = fakeStream(false);
    const progress = createProgress('hashing', 100, { unit: 'bytes', stream, intervalMs: 0 });
    progress.add(50);
    progress.finish();
    expect(writes).toEqual([]);
  });

  it('draws a bar on a TTY and erases it at the end', () => {
    const { stream, writes } = fakeStream(true);
    const progress = createProgress('importing', 4, { unit: 'items', stream, intervalMs: 0 });
    progress.add(1);
    progress.add(1);
    progress.finish();
    progress.add(1);
    expect(writes.at(-2)).toMatch(/importing \[#+-+\]  50%  2\/4/);
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    expect(writes).toHaveLength(3);
  });
});
