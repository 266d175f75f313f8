// The HTTP crash program (scripts/reliability/crash-http.ts): a short run of the real kill loop against the registry
// server, and proof that its registry entry rules catch what a broken idempotency or a lost write would leave: the
// same document logged twice, an acknowledged index holding another document.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveChildren } from '../../scripts/crash/loop.js';
import { verifyLog } from '../../scripts/crash/verify-log.js';
import { runCrashHttp } from '../../scripts/reliability/crash-http.js';
import { receiptAcknowledgement, registryEntryRules } from '../../scripts/reliability/registry-entries.js';
import { loadOrCreateKeyFile } from '../../src/cli/keyfile.js';
import { toHex } from '../../src/core/bytes.js';
import { encodeEntry } from '../../src/core/entry.js';
import { leafHash } from '../../src/core/merkle.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from '../support/registry.js';

const ORIGIN = 'certrail.rules.test/log';

describe('registry entry rules', () => {
  const dir = tempDir('certrail-crash-http-rules-');
  const dbPath = join(dir.path, 'certrail.db');
  const documents = [{ n: 1 }, { n: 2 }, { n: 1 }]; // the third logs the first document again
  const receipts: Array<{ index: number; leafHash: string; kind: string; checkpoint: string }> = [];
  const served: string[] = [];
  let vkey = '';

  beforeAll(async () => {
    const handle = openSqlite(dbPath);
    const key = await loadOrCreateKeyFile(join(dir.path, 'log.key'), ORIGIN);
    vkey = key.vkey;
    const sequencer = await Sequencer.open({ store: createSqliteLogStore(handle), signer: key, origin: ORIGIN, maxDelayMs: 1 });
    for (const [i, body] of documents.entries()) {
      const entry = encodeEntry('certificate.event', 1_700_000_000_000 + i, body);
      const { index, checkpoint } = await sequencer.append(entry);
      receipts.push({ index, leafHash: toHex(leafHash(entry)), kind: 'certificate.event', checkpoint: checkpoint.note });
      served.push(checkpoint.note);
    }
    await sequencer.flush();
    handle.sqlite.close();
  });
  afterAll(() => dir.remove());

  const check = (acks: ReturnType<typeof receiptAcknowledgement>[]) =>
    verifyLog({ dbPath, vkey, acks, rules: registryEntryRules(), served, integrityCheck: true });

  it('flags a document logged twice, and holds acknowledgements to the document sent', async () => {
    const report = await check(receipts.slice(0, 2).map((r, i) => receiptAcknowledgement(r, `write ${i}`, documents[i]!)));
    expect(report.violations).toEqual(['entry 2 logs the same document as entry 0']);
    expect(report.lost).toBe(0);
    expect(report.integrity).toBe('ok');
  });

  it('counts an acknowledged index holding another document as lost', async () => {
    const wrongBody = receiptAcknowledgement(receipts[1]!, 'write 1', { n: 3 });
    const wrongLeaf = receiptAcknowledgement({ ...receipts[0]!, leafHash: receipts[1]!.leafHash }, 'write 0', null);
    const report = await check([wrongBody, wrongLeaf]);
    expect(report.lost).toBe(2);
    expect(report.violations).toContain('acknowledged entry 1 (write 1) is stored with other bytes');
    expect(report.violations).toContain('acknowledged entry 0 (write 0) is stored with other bytes');
  });
});

describe('runCrashHttp', () => {
  it('survives 10 SIGKILLs of the registry server: no write lost, retries and replays get the original receipts', async () => {
    const lines: string[] = [];
    const summary = await runCrashHttp({ kills: 10, clients: 16, minMs: 150, maxMs: 500, log: (l) => lines.push(l) });
    expect(liveChildren()).toBe(0);
    expect(summary.violations).toEqual([]);
    expect(summary.kills).toBe(10);
    expect(summary.lost).toBe(0);
    expect(summary.integrity).toBe('ok');
    expect(summary.acknowledged).toBeGreaterThan(50);
    expect(summary.entries).toBeGreaterThanOrEqual(summary.acknowledged);
    expect(summary.retried).toBeGreaterThan(0);
    expect(summary.replays).toBeGreaterThan(0);
    expect(summary.replaysMatched).toBe(summary.replays);
    expect(summary.httpProofs).toBeGreaterThan(0);
    expect(lines.filter((l) => /^kill \d+\/10 /.test(l))).toHaveLength(10);
  }, 120_000);
});
