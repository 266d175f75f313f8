// A worker for test/worker-pool.test.ts: doubles a number; for NaN it never answers, and for a negative number it dies
// of an uncaught error instead of answering.
import { serveWorker } from '../../src/worker-pool.js';

serveWorker(async (n: number) => {
  if (n >= 0) return n * 2;
  if (Number.isNaN(n)) return new Promise<number>(() => {});
  setTimeout(() => {
    throw new Error('this worker dies on purpose');
  });
  return new Promise<number>(() => {});
});
