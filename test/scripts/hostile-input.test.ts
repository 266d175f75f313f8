// The hostile input program (scripts/security/hostile-input.ts): its short variant against a real server process
// finds no 5xx, no leak and no other violation in any category; and its answer check does catch what it looks for.
import { describe, expect, it } from 'vitest';
import { answerViolation } from '../../scripts/security/harness.js';
import { runHostileInput } from '../../scripts/security/hostile-input.js';

const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  status,
  contentType: 'application/problem+json',
  text: JSON.stringify({ type: '/problems/bad-request', title: 'Bad request', status, code: 'bad-request', detail: 'x', ...extra }),
});

describe('hostile input corpus', () => {
  it('answers a sample of every category with no 5xx, no leak and no violation', { timeout: 90_000 }, async () => {
    const summary = await runHostileInput({ short: true });
    expect(summary.violations).toEqual([]);
    expect(summary.serverErrors).toBe(0);
    expect(summary.leaks).toBe(0);
    expect(summary.unexpectedServerErrors).toBe(0);
    for (const category of ['json-suite', 'nesting', 'big-bodies', 'log-reads', 'traversal', 'sql', 'unicode']) {
      expect(summary.byCategory[category], category).toBeGreaterThan(0);
    }
    expect(summary.requests).toBeGreaterThan(300);
    // 64 MiB offered, refused long before the end.
    expect(summary.maxBytesBeforeRefusal).toBeLessThan(64 * 1024 * 1024);
  });

  it('flags 5xx answers, leaks and refusals that are not problems', () => {
    expect(answerViolation(problem(400))).toBeNull();
    expect(answerViolation({ status: 200, contentType: 'application/json', text: '{"ok":true}' })).toBeNull();
    expect(answerViolation(problem(500))).toMatch(/status 500/);
    expect(answerViolation({ status: 503, contentType: 'application/problem+json', text: '{}' })).toMatch(/status 503/);
    expect(answerViolation(problem(400, { detail: 'TypeError: x\n    at parse (/srv/app/src/core/json.ts:12:3)' }))).toMatch(/leak/);
    expect(answerViolation(problem(400, { detail: 'SqliteError: SQLITE_CONSTRAINT' }))).toMatch(/leak/);
    expect(answerViolation(problem(400, { detail: 'near "SELECT id FROM entries"' }))).toMatch(/leak/);
    expect(answerViolation(problem(404, { detail: 'cannot open node_modules/x/index.js' }))).toMatch(/leak/);
    expect(answerViolation({ status: 400, contentType: 'text/html', text: '<p>bad</p>' })).toMatch(/text\/html/);
    expect(answerViolation({ status: 400, contentType: 'application/problem+json', text: '{"status":400}' })).toMatch(/without code/);
    expect(answerViolation({ ...problem(400), status: 413 })).toMatch(/another status/);
  });
});
