// The key compromise drill (scripts/security/key-compromise.ts), short: certificates logged under a key at or after
// its logged compromise time are invalid on every surface (API, batch, verify page in Chromium, SDK, CLI, monitor),
// those logged before it, and all under the other key, stay valid.
import { describe, expect, it } from 'vitest';
import { runDrill, SURFACES } from '../../scripts/security/key-compromise.js';

describe('key compromise drill', () => {
  it('invalidates exactly the certificates logged under the key from the compromise time on, everywhere', { timeout: 90_000 }, async () => {
    const summary = await runDrill({ perGroup: 2 });
    expect(summary.violations).toEqual([]);
    expect(summary.certificates).toBe(8);
    expect(summary.compromised).toBe(2);
    for (const surface of SURFACES) expect(summary.checks[surface], surface).toBeGreaterThan(0);
    expect(summary.checks.monitor).toBe(16);
  });
});
