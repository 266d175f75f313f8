// A worker for test/worker-pool.test.ts: doubles a number, and for a negative one dies of an uncaught error instead
// of answering.
import { serveWorker } from '../../src/worker-pool.js';

serveWorker(async (n: number) => {
  if (n >= 0) return n * 2;
  setTimeout(() => {
    throw new Error('this worker dies on purpose');
  });
  return new Promise<number>(() => {});
});
