// The storage-fault program (scripts/reliability/faults.ts), short: a real server process through each fault, with
// fewer writes and a shorter lock. The write lock needs nothing special and always runs; disk-full (tmpfs) and
// read-only (chattr +i) need root and are skipped, with the reason, only where mount or chattr is not permitted.
import { describe, expect, it } from 'vitest';
import { faultRefusal, runFaults, type FaultName } from '../../scripts/reliability/faults.js';

async function expectClean(fault: FaultName) {
  const summary = await runFaults({ faults: [fault], writes: 6, lockSeconds: 3 });
  const [result] = summary.results;
  expect(summary.skipped).toEqual([]);
  expect(result?.violations).toEqual([]);
  expect(result?.refused).toBe(10); // 6 issuances and 4 suspensions, every one 503 unavailable
  expect(result?.readFailures).toBe(0);
  expect(result?.integrity).toBe('ok');
}

describe('storage faults under a running server', () => {
  it('write lock held by another process: writes 503, reads answer, the same process recovers', async () => {
    await expectClean('write-lock');
  }, 30_000);

  for (const fault of ['disk-full', 'read-only'] as const) {
    const refusal = faultRefusal(fault);
    it.skipIf(refusal !== null)(`${fault}: writes 503, reads answer, the same process recovers${refusal ? ` (skipped: ${refusal})` : ''}`, async () => {
      await expectClean(fault);
    }, 30_000);
  }
});
