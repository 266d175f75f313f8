// `certrail model digest <file | directory>`: the OpenSSF model-signing v1.0 digest of a model on disk, the value a
// certificate's `credentialSubject.models[].digest` carries, with the serialization parameters to store beside it.
// Offline; hashing is streamed (constant memory) with a progress bar on a TTY.
import { toHex } from '../core/bytes.js';
import { parseCommand, processIo, runCommand, type Io } from './args.js';
import { UsageError } from './issuer.js';
import { hashModel, listModelFiles } from './model-files.js';
import { createProgress } from './progress.js';

const HELP = {
  model: `certrail model <sub-command>: model digests (OpenSSF model-signing v1.0)

  certrail model digest <file | directory> [--json]

Run "certrail model digest --help" for details.`,
  digest: `certrail model digest <file | directory> [--json]: the model digest a certificate names

  A file: its SHA-256 (serialization method "file").
  A directory: SHA-256 over the raw SHA-256 digests of its regular files, sorted by POSIX relative path
  (component by component), ignoring a top-level .git/, .github/, .gitattributes and .gitignore
  (serialization method "files"). Symbolic links, FIFOs, sockets, devices and names that are not UTF-8
  are refused. Files are streamed (constant memory); a progress bar shows on a terminal.

  --json        { digest, serialization, files: [{ path, sha256, size }], bytes }
  -h, --help    this help

Exit codes: 0 success, 2 usage or I/O error (e.g. a symbolic link in the model).`,
};

async function digest(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, HELP.digest);
  if (values.help) {
    io.out(HELP.digest);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one <file | directory>\n\n${HELP.digest}`);
  const root = positionals[0]!;
  const listing = await listModelFiles(root);
  const progress = createProgress('hashing', listing.bytes, { unit: 'bytes', stream: io.progress });
  let model;
  try {
    model = await hashModel(listing, (n) => progress.add(n));
  } finally {
    progress.finish();
  }
  const serialization = { method: model.method, hashType: 'sha256' };
  if (values.json) {
    io.out(JSON.stringify({
      digest: model.digest,
      serialization,
      files: model.files.map((f) => ({ path: f.path, sha256: toHex(f.sha256), size: f.size })),
      bytes: model.bytes,
    }, null, 2));
    return 0;
  }
  io.out(model.digest);
  io.out(`  serialization: ${JSON.stringify(serialization)}`);
  io.out(`  ${model.files.length} file(s), ${model.bytes} bytes${model.method === 'files' ? ' (top-level .git, .github, .gitattributes, .gitignore ignored)' : ''}`);
  return 0;
}

/** Runs `certrail model <args>`; returns the exit code. */
export function modelCommand(args: string[], io: Io = processIo()): Promise<number> {
  const [sub, ...rest] = args;
  return runCommand('model', args, io, async () => {
    switch (sub) {
      case 'digest':
        return digest(rest, io);
      case '--help':
      case '-h':
      case 'help':
        io.out(HELP.model);
        return 0;
      default:
        throw new UsageError(`${sub === undefined ? 'missing' : 'unknown'} model sub-command${sub ? ` ${sub}` : ''}\n\n${HELP.model}`);
    }
  });
}
