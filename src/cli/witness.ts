// `certrail witness`: runs a C2SP tlog-witness server (POST /add-checkpoint) with its own key and state file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateWitnessKey, startWitnessServer } from '../witness/server.js';

export const WITNESS_USAGE = `certrail witness [options]
certrail witness vkey [--key FILE] [--name N]

Runs a C2SP tlog-witness (POST /add-checkpoint): it cosigns a log's checkpoints (cosignature/v1) only after checking
the log's signature and a consistency proof from the last checkpoint it cosigned, which it keeps per log origin in its
own SQLite file.

Options:
  --log VKEY        a log to cosign: its C2SP verifier key (the key name is the log origin); repeatable
  --logs FILE       more log verifier keys, one per line ('#' starts a comment)
  --key FILE        the witness key (default $CERTRAIL_KEYS/witness.key = keys/witness.key); created on first start
  --name N          the witness name for a new key (default <hostname>/certrail-witness)
  --db FILE         the state file (default data/witness.db)
  --host H          listen address (default 127.0.0.1)
  --port P          listen port (default 8790; 0 picks a free port)

"certrail witness vkey" prints the witness's verifier key (type 0x04), for CERTRAIL_WITNESSES on the registry.`;

function readLogsFile(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0);
}

export async function witnessCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      log: { type: 'string', multiple: true },
      logs: { type: 'string' },
      key: { type: 'string' },
      name: { type: 'string' },
      db: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(WITNESS_USAGE);
    return 0;
  }
  const keyPath = values.key ?? join(process.env.CERTRAIL_KEYS ?? 'keys', 'witness.key');
  if (positionals[0] === 'vkey') {
    console.log((await loadOrCreateWitnessKey(keyPath, values.name)).vkey);
    return 0;
  }
  if (positionals.length > 0) {
    console.error(`unknown argument: ${positionals[0]}\n\n${WITNESS_USAGE}`);
    return 2;
  }
  const logs = [...(values.log ?? []), ...(values.logs ? readLogsFile(values.logs) : [])];
  if (logs.length === 0) {
    console.error(`certrail witness: name at least one log with --log VKEY or --logs FILE\n\n${WITNESS_USAGE}`);
    return 2;
  }
  const port = Number(values.port ?? 8790);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port ${values.port}: not a port number`);
    return 2;
  }
  const server = await startWitnessServer({
    host: values.host ?? '127.0.0.1',
    port,
    dbPath: values.db ?? 'data/witness.db',
    keyPath,
    name: values.name,
    logs,
  });
  console.log(`witness ${server.vkey}`);
  for (const origin of server.witness.origins) console.log(`cosigning ${origin}`);
  console.log(`listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}
