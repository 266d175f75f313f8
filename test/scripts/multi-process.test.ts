// Several server processes on one database file (scripts/reliability/multi-process.ts), short: 3 processes, writes
// spread across all of them, the leader SIGKILLed halfway and a follower taking over. No fork, nothing lost, nothing
// written twice, one root per tree size among everything served, reads current in every process.
import { describe, expect, it } from 'vitest';
import { runMultiProcess } from '../../scripts/reliability/multi-process.js';

describe('several server processes on one database file', () => {
  it('sequence through one elected leader, survive a leader kill and never fork the log', async () => {
    const summary = await runMultiProcess({ processes: 3, events: 500, clients: 16, kills: 1, readEvery: 10 });
    expect(summary.violations).toEqual([]);
    expect(summary.kills).toBe(1);
    expect(summary.terms).toBe(2); // the first leader, then the follower that took over
    expect(summary.acknowledged).toBe(503); // 100 certificates × 5 writes, the registration, the CB key, the managed key
    expect(summary.entries).toBe(summary.acknowledged);
    expect(summary.lost).toBe(0);
    expect(summary.unacknowledged).toBe(0);
    expect(summary.sizesServed).toBe(summary.checkpointsServed);
    expect(summary.currentReads).toBeGreaterThan(0);
    expect(summary.integrity).toBe('ok');
  }, 90_000);
});
