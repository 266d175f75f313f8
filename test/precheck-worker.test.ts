// The server's precheck pool (src/node.ts): a real worker thread running src/precheck-worker.ts, which answers as the
// in-thread precheck does and runs at a lower priority than the main thread (Linux: per thread).
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { utf8 } from '../src/core/bytes.js';
import { ed25519PublicKey, randomBytes } from '../src/core/crypto.js';
import { signDataIntegrity } from '../src/core/data-integrity.js';
import { defaultPrecheckWorkers, optionsFromEnv } from '../src/node.js';
import { precheckCertificate, type Precheck, type PrecheckRequest } from '../src/registry/precheck.js';
import { WorkerPool } from '../src/worker-pool.js';
import { EXAMPLE_BASE_URL, exampleCertificate } from './support/examples.js';

const NODE_ENTRY = new URL('../src/node.ts', import.meta.url).href;

/** The nice values of this process's threads other than the main one, from /proc (Linux). */
function workerThreadNices(): number[] {
  return readdirSync('/proc/self/task')
    .filter((tid) => Number(tid) !== process.pid)
    .map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
}

describe('precheck worker', () => {
  const pool = new WorkerPool<PrecheckRequest, Precheck>(NODE_ENTRY, './precheck-worker', 1, (r) => precheckCertificate(r.body, r.key));
  afterAll(() => pool.close());

  it('answers on its thread what the in-thread precheck answers', async () => {
    expect(pool.size).toBe(1);
    const seed = randomBytes(32);
    const key = { keyId: 'key-1', publicKey: await ed25519PublicKey(seed) };
    const credential = await signDataIntegrity(exampleCertificate(EXAMPLE_BASE_URL, 'acme-cert', 'AI-2026-0001'), {
      seed,
      verificationMethod: `${EXAMPLE_BASE_URL}/issuers/acme-cert#key-1`,
    });
    const bodies = [JSON.stringify(credential), JSON.stringify({ ...credential, id: 7 }), '{"a":1,"a":2}', '{}'].map(utf8);
    for (const body of bodies) {
      const answer = await pool.run({ body, key });
      expect(answer).toEqual(await precheckCertificate(body, key));
    }
    expect(await pool.run({ body: bodies[0]!, key })).toMatchObject({ kind: 'certificate', signature: { ok: true } });
  });

  it.runIf(process.platform === 'linux')('runs niced while the main thread keeps its priority', async () => {
    await pool.run({ body: utf8('{}'), key: null });
    expect(getPriority()).toBe(0);
    expect(workerThreadNices()).toContain(10);
  });
});

describe('CERTRAIL_PRECHECK_WORKERS', () => {
  it('defaults to the cores the main thread leaves, takes 0 to 64, and refuses anything else', () => {
    expect(optionsFromEnv({}).precheckWorkers).toBe(defaultPrecheckWorkers());
    expect(optionsFromEnv({ CERTRAIL_PRECHECK_WORKERS: '0' }).precheckWorkers).toBe(0);
    expect(optionsFromEnv({ CERTRAIL_PRECHECK_WORKERS: '3' }).precheckWorkers).toBe(3);
    for (const bad of ['-1', '65', '1.5', 'two']) {
      expect(() => optionsFromEnv({ CERTRAIL_PRECHECK_WORKERS: bad }), bad).toThrow(/CERTRAIL_PRECHECK_WORKERS/);
    }
  });
});
