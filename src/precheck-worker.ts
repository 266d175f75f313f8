// Worker thread of the server's precheck pool (src/node.ts): runs precheckCertificate (src/registry/precheck.ts) with
// Node's native SHA-256 and Ed25519, synchronously, since this thread has nothing else to do meanwhile.
import { setPriority } from 'node:os';
import { installNativeCrypto } from './native-crypto.js';
import { precheckCertificate, type PrecheckRequest } from './registry/precheck.js';
import { serveWorker } from './worker-pool.js';

/**
 * This thread's nice value. When every core is busy, the main thread (which sequences, commits and answers) should not
 * wait for a precheck: woken by each request, an equal-priority worker preempted it. Interleaved issuance runs
 * (scripts/bench/api.ts, 2 cores): 1,526, 1,692, 1,639 and 1,592/s against 1,228, 1,358, 1,518 and 1,728/s for the
 * main-thread precheck. On Linux a nice value is per thread (setpriority(2) with pid 0 is the calling thread); elsewhere
 * it would lower the whole process, so it is left alone there.
 */
const NICE = 10;
if (process.platform === 'linux') setPriority(0, NICE);

installNativeCrypto();
serveWorker((request: PrecheckRequest) => precheckCertificate(request.body, request.key));
