// The certrail command: one sub-command per file under src/cli, dispatched here. Exit codes: 0 success, 1 a negative
// verdict (verify), 2 usage or runtime error.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optionsFromEnv, startNodeServer } from '../node.js';
import { createKeyFile } from './keyfile.js';

const USAGE = `certrail <command> [options]

Commands:
  serve                 run the registry (same as npm start); env HOST, PORT, CERTRAIL_DB, CERTRAIL_ORIGIN, CERTRAIL_KEYS
  keygen [--name N] [--out FILE]
                        write a new Ed25519 signer key (mode 0600) and print its verifier key;
                        default: the log key, keys/log.key, named after the log origin
  help                  this text

Exit codes: 0 success, 1 negative verdict, 2 usage or runtime error.`;

async function keygen(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, out: { type: 'string' } } });
  const env = optionsFromEnv();
  const out = values.out ?? join(env.keyDir, 'log.key');
  const key = await createKeyFile(out, values.name ?? env.logOrigin);
  console.log(`wrote ${out} (mode 0600)`);
  console.log(`verifier key: ${key.vkey}`);
}

async function serveCommand(): Promise<void> {
  const options = optionsFromEnv();
  const server = await startNodeServer(options);
  console.log(`Certrail listening on http://${options.host}:${server.port}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      await serveCommand();
      return 0;
    case 'keygen':
      await keygen(rest);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`certrail: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
