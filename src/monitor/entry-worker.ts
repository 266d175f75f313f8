// Worker thread of the monitor's analysis pool (src/monitor/pool.ts): analyzes entry bundles (src/monitor/analyze.ts).
import { hash } from 'node:crypto';
import { useSha256 } from '../core/crypto.js';
import { serveWorker } from '../worker-pool.js';
import { analyzeBundle } from './analyze.js';

useSha256((data) => hash('sha256', data, 'buffer'));
serveWorker(analyzeBundle);
