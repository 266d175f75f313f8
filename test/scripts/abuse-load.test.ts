// The abuse-load program (scripts/reliability/abuse-load.ts), short: a real server with a tight per-CB limit, a flood
// from one CB and oversized requests from another, a control client verifying meanwhile. Latency is reported, not
// asserted here (speed targets are the program's, run in full); what must hold is that the flood is limited (429, no
// more accepted than the bucket allows), oversized bodies get 413, nothing answers 5xx and the control client always
// gets its verdicts.
import { describe, expect, it } from 'vitest';
import { liveChildren } from '../../scripts/crash/loop.js';
import { formatSummary, runAbuseLoad } from '../../scripts/reliability/abuse-load.js';

describe('runAbuseLoad', () => {
  it('limits a flooding CB, refuses oversized requests without a 5xx, and keeps verifying', async () => {
    const summary = await runAbuseLoad({ durationS: 3, floodClients: 8, controlClients: 1, rateLimit: '5,10', p99Ms: 10_000, maxRssMb: 1024 });
    expect(liveChildren()).toBe(0);
    expect(summary.violations, formatSummary(summary)).toEqual([]);
    expect(summary.serverErrors).toBe(0);
    expect(summary.tooMany).toBeGreaterThan(0);
    expect(summary.answers.flood?.['429']).toBeGreaterThan(0);
    expect(summary.floodAccepted).toBeGreaterThan(0);
    expect(summary.floodAccepted).toBeLessThanOrEqual(summary.floodAllowed);
    expect(summary.tooLarge).toBeGreaterThan(0);
    expect(summary.controlRequests).toBeGreaterThan(0);
    expect(summary.rssMaxMb).toBeGreaterThan(0);
  }, 60_000);
});
