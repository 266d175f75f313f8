// Worker thread of the monitor's analysis pool (src/monitor/pool.ts): analyzes entry bundles (src/monitor/analyze.ts).
import { hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { useSha256 } from '../core/crypto.js';
import { analyzeBundle, type AnalyzeRequest } from './analyze.js';

useSha256((data) => hash('sha256', data, 'buffer'));

const port = parentPort;
if (port) {
  port.on('message', (message: { id: number; request: AnalyzeRequest }) => {
    analyzeBundle(message.request).then(
      (result) => port.postMessage({ id: message.id, result }),
      (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
