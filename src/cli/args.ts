// Shared plumbing of the certrail sub-commands: strict option parsing that turns mistakes into usage errors, the
// output channels, and one error handler. Exit codes (every command): 0 success, 1 a negative answer (not valid,
// some rows failed), 2 usage error, unreachable registry, refusal or any other error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { toMillis } from '../core/credential.js';
import { RegistryError } from '../core/errors.js';
import { UsageError } from './issuer.js';
import { ProblemError } from './registry-client.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where the progress bar draws (it draws only when this is a TTY). */
  progress: NodeJS.WriteStream;
}

export function processIo(): Io {
  return { env: process.env, out: (line) => console.log(line), err: (line) => console.error(line), progress: process.stderr };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with positionals, strict: an unknown option is a usage error that shows `help`. */
export function parseCommand<O extends Options>(args: string[], options: O, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
  }
}

/** An RFC 3339 date-time option (e.g. 2026-05-01T00:00:00Z), or a usage error naming the option. */
export function dateTimeOption(value: string, option: string, help: string): string {
  try {
    toMillis(value);
    return value;
  } catch {
    throw new UsageError(`${option} ${value}: not an RFC 3339 date-time such as 2026-05-01T00:00:00Z\n\n${help}`);
  }
}

/** The message of any error, with the detail of a RegistryError (not its code prefix). */
export function messageOf(error: unknown): string {
  if (error instanceof RegistryError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a command body and maps errors to exit code 2, printing `certrail <name>: <message>` to stderr; with --json
 * a problem answer of the registry also goes to stdout as the problem document.
 */
export async function runCommand(name: string, args: string[], io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ProblemError && args.includes('--json')) io.out(JSON.stringify(error.problem, null, 2));
    io.err(`certrail ${name}: ${messageOf(error)}`);
    return 2;
  }
}
