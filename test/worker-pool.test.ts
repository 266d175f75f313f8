// WorkerPool: real worker threads. Work goes to a worker; what a dying worker had in flight runs again in the calling
// thread, and the pool goes on without it.
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/worker-pool.js';

describe('WorkerPool', () => {
  const inThread: number[] = [];
  const pool = new WorkerPool<number, number>(import.meta.url, './support/doubling-worker', 1, async (n) => {
    inThread.push(threadId);
    return n * 2;
  });
  afterAll(() => pool.close());

  it('runs the work on its worker', async () => {
    expect(pool.size).toBe(1);
    expect(await Promise.all([1, 2, 3].map((n) => pool.run(n)))).toEqual([2, 4, 6]);
    expect(inThread).toEqual([]);
  });

  it('runs what a dead worker had in flight in this thread, and then everything', async () => {
    const answers = await Promise.all([pool.run(4), pool.run(-1), pool.run(5)]);
    expect(answers).toEqual([8, -2, 10]);
    expect(inThread.length).toBeGreaterThanOrEqual(1);
    expect(pool.size).toBe(0);
    expect(await pool.run(7)).toBe(14);
    expect(inThread.every((id) => id === threadId)).toBe(true);
  });

  it('rejects what its workers still had in flight when it closes, and whatever comes after', async () => {
    const closing = new WorkerPool<number, number>(import.meta.url, './support/doubling-worker', 1, async (n) => n * 2);
    expect(await closing.run(3)).toBe(6);
    // The expectation is attached before close() rejects the request, so the rejection is never unhandled.
    const unanswered = expect(closing.run(Number.NaN)).rejects.toThrow('the worker pool is closed');
    await closing.close();
    await unanswered;
    await expect(closing.run(1)).rejects.toThrow('the worker pool is closed');
  });
});
