// A real `certrail witness` process SIGKILLed again and again during a stream of concurrent add-checkpoint calls from
// two branches of one log (same key and origin, diverging after entry 20). Every cosignature it ever returned must
// verify, no two may name different roots for one size, all must lie on one branch, and after each restart the size
// it reports must be at least the largest it had cosigned before the kill.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { openNote, parseNote, parseVerifierKey } from '../../src/core/note.js';
import { formatAddCheckpointRequest, parseTreeSizeBody, TLOG_SIZE_MEDIA_TYPE } from '../../src/core/tlog-witness.js';
import { WitnessState } from '../../src/witness/state.js';
import { MemoryLog } from '../support/memory-log.js';
import { startWitnessProcess, type WitnessProcess } from '../support/processes.js';
import { tempDir } from '../support/registry.js';

const FORK_AT = 20;
const KILLS = 6;

describe('a witness killed with SIGKILL during a stream of add-checkpoint calls', () => {
  const dir = tempDir('certrail-witness-crash-');
  let witness: WitnessProcess | null = null;
  afterAll(async () => {
    await witness?.kill('SIGKILL');
    dir.remove();
  });

  it('never cosigns two roots for one size, never leaves its branch, never goes backwards', async () => {
    const main = await MemoryLog.create('crash.test/log');
    main.append(FORK_AT);
    const fork = main.fork().append(1, 'fork');
    main.append(1);
    const branches = { main, fork };

    witness = await startWitnessProcess({ dir: dir.path, name: 'crash.test/witness', logs: [main.vkey] });
    const port = witness.port;
    const verifier = parseVerifierKey(witness.vkey);
    /** Every cosignature returned: size, root and branch. */
    const cosigned: Array<{ size: number; root: string; branch: 'main' | 'fork' }> = [];
    let known = 0;
    let stop = false;
    let requests = 0;

    const worker = async (id: number) => {
      let n = id;
      while (!stop) {
        const name = n++ % 3 === 0 ? 'fork' : 'main';
        const log = branches[name];
        log.append(1 + (n % 4), name);
        const size = log.size;
        const old = Math.min(known, size);
        const checkpoint = await log.checkpoint(size);
        const body = formatAddCheckpointRequest({ oldSize: old, proof: log.proof(old, size), checkpoint });
        let res: Response;
        try {
          res = await fetch(`http://127.0.0.1:${port}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(5000) });
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // the witness is down: try again shortly
          continue;
        }
        requests++;
        const text = await res.text();
        if (res.status === 200) {
          const line = text.split('\n')[0]!;
          await openNote(`${parseNote(checkpoint).text}\n${line}\n`, [verifier]); // throws unless valid
          cosigned.push({ size, root: toHex(log.root(size)), branch: name });
          known = Math.max(known, size);
        } else if (res.status === 409 && res.headers.get('content-type') === TLOG_SIZE_MEDIA_TYPE) {
          known = parseTreeSizeBody(text)!;
        } else {
          expect([409, 422]).toContain(res.status);
        }
      }
    };

    const workers = [0, 1, 2, 3].map(worker);
    const floors: Array<{ before: number; after: number }> = [];
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 250 + ((kill * 137) % 300)));
      const before = Math.max(0, ...cosigned.map((c) => c.size));
      await witness.kill('SIGKILL');
      witness = await startWitnessProcess({ dir: dir.path, name: 'crash.test/witness', logs: [main.vkey], port });
      const info = (await (await fetch(`${witness.url}/`)).json()) as { logs: Array<{ size: number }> };
      floors.push({ before, after: info.logs[0]!.size });
    }
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);

    expect(requests).toBeGreaterThan(50);
    expect(cosigned.length).toBeGreaterThan(10);
    // The losing branch is refused, checked deterministically whatever the stream's timing gave.
    const winnerName = cosigned.find((c) => c.size > FORK_AT)!.branch;
    const loserName = winnerName === 'main' ? 'fork' : 'main';
    const loser = branches[loserName];
    const witnessSize = ((await (await fetch(`${witness.url}/`)).json()) as { logs: Array<{ size: number }> }).logs[0]!.size;
    while (loser.size <= witnessSize) loser.append(1, loserName);
    const attempt = await fetch(`${witness.url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: witnessSize, proof: loser.proof(witnessSize, loser.size), checkpoint: await loser.checkpoint(loser.size) }),
    });
    expect([409, 422]).toContain(attempt.status);
    expect(attempt.headers.get('content-type')).not.toBe(TLOG_SIZE_MEDIA_TYPE);
    // Never backwards across a restart.
    for (const f of floors) expect(f.after).toBeGreaterThanOrEqual(f.before);
    // One root per size, one branch beyond the fork point.
    const roots = new Map<number, string>();
    for (const c of cosigned) {
      expect(roots.get(c.size) ?? c.root).toBe(c.root);
      roots.set(c.size, c.root);
    }
    expect(new Set(cosigned.filter((c) => c.size > FORK_AT).map((c) => c.branch)).size).toBe(1);
    // The state file agrees: its checkpoint is the largest cosigned one (or a later one whose answer was lost).
    await witness.kill('SIGKILL');
    witness = null;
    const state = WitnessState.open(join(dir.path, 'witness.db'));
    const latest = state.latest(main.origin)!;
    state.close();
    const winner = branches[cosigned.find((c) => c.size > FORK_AT)!.branch];
    expect(latest.size).toBeGreaterThanOrEqual(Math.max(...cosigned.map((c) => c.size)));
    expect(toHex(latest.root)).toBe(toHex(winner.root(latest.size)));
  }, 60_000);
});
