// Child process of scripts/crash-log.ts: opens the registry on a database file, serves it on 127.0.0.1 (ephemeral
// port), and appends a continuous stream of crash entries with many appends in flight until it is killed.
//
//   node --import tsx scripts/crash/log-writer.ts --db FILE --keys DIR --session HEX --run N [--concurrency 64]
//        [--no-append]
//
// stdout is a JSON-lines protocol for the parent:
//   {"listening": port, "checkpoint": "<note the sequencer opened with>", "refused": null | "<reason>"}
//   {"ack": index, "seq": n, "sha256": "<hex of the entry bytes>"}   written only after append() resolved, i.e.
//                                                                      after the commit holding the entry returned
//   {"error": "<message>", "seq": n}                                  an append was rejected (never expected)
// A SIGKILL may cut the last line; the parent ignores an unterminated line. Lines still in Node's write buffer when
// the process dies are lost: that only withholds acknowledgements, it never claims one that was not given.
//
// The child exits when its stdin closes, so it cannot outlive the parent even if the parent is itself killed.
import { parseArgs } from 'node:util';
import { logOriginFor, startNodeServer } from '../../src/node.js';
import { CRASH_BASE_URL, crashEntry, sha256Hex } from './entries.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    keys: { type: 'string' },
    session: { type: 'string' },
    run: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'no-append': { type: 'boolean', default: false },
  },
});

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    process.stderr.write(`log-writer: --${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const dbPath = required('db', values.db);
const keyDir = required('keys', values.keys);
const session = required('session', values.session);
const run = Number(required('run', values.run));
const concurrency = Number(values.concurrency);

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.stdout.on('error', () => process.exit(0)); // EPIPE: the parent is gone.
process.once('SIGTERM', () => process.exit(0));

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const server = await startNodeServer({
  host: '127.0.0.1',
  port: 0,
  dbPath,
  keyDir,
  baseUrl: CRASH_BASE_URL,
  logOrigin: logOriginFor(CRASH_BASE_URL),
});
const { sequencer } = server;
emit({ listening: server.port, checkpoint: sequencer.checkpoint.note, refused: sequencer.refused });

let next = 0;
async function appendForever(): Promise<void> {
  for (;;) {
    const seq = next++;
    const bytes = crashEntry({ session, run, seq });
    try {
      const { index } = await sequencer.append(bytes);
      emit({ ack: index, seq, sha256: sha256Hex(bytes) });
    } catch (error) {
      emit({ error: error instanceof Error ? error.message : String(error), seq });
      return; // One report per worker is enough; a refused sequencer would otherwise spin.
    }
  }
}

if (!values['no-append'] && sequencer.refused === null) {
  for (let i = 0; i < concurrency; i++) void appendForever();
}
