import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { loadConfig, ConfigError } from '../config/load-config.js';
import type { AuthServiceConfig } from '../config/schema.js';
import { startAuthService } from '../server.js';
import { AdminApiError, createAdminClient } from './admin-client.js';
import { isAdminCommand, runAdminCommand, type CommandOutput } from './admin-commands.js';
import { parseCommandLine, assertOnly, positionalArgs, stringFlag, type Flags } from './flags.js';
import { CommandFailure, runAdminToken, runImport, runMigrate } from './store-commands.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, USAGE, UsageError } from './usage.js';

const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8182';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function config(flags: Flags, env: CliIo['env']): AuthServiceConfig {
  const file = stringFlag(flags, 'config');

  return loadConfig({ ...(file === undefined ? {} : { file }), env });
}

// Store-side commands log only warnings, to stderr, so stdout stays the command's answer.
function quietLogger(): Logger {
  return pino({ level: 'warn' }, pino.destination(2));
}

function adminToken(flags: Flags, env: CliIo['env']): string {
  const file = stringFlag(flags, 'token-file');

  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new UsageError(`cannot read the token file ${file}`, { cause: error });
    }
  }

  const token = env.BECKON_AUTH_ADMIN_TOKEN;

  if (token === undefined || token === '') {
    throw new UsageError(
      'an admin token is needed: set BECKON_AUTH_ADMIN_TOKEN or pass --token-file',
    );
  }

  return token;
}

function adminUrl(flags: Flags, env: CliIo['env']): string {
  const url = stringFlag(flags, 'url') ?? env.BECKON_AUTH_ADMIN_URL ?? DEFAULT_ADMIN_URL;

  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  }

  return url;
}

async function serve(flags: Flags, args: string[], io: CliIo): Promise<number> {
  assertOnly(flags, []);
  positionalArgs(args, []);

  const loaded = config(flags, io.env);
  const logger = pino({ level: loaded.logLevel });
  const service = await startAuthService({
    config: loaded,
    logger,
    handleSignals: true,
  });

  await service.closed;

  return EXIT_OK;
}

async function run(words: string[], flags: Flags, io: CliIo): Promise<CommandOutput | number> {
  const [command = '', ...args] = words;

  switch (command) {
    case 'serve':
      return serve(flags, args, io);
    case 'migrate':
      return runMigrate(config(flags, io.env), quietLogger(), args, flags);
    case 'admin-token':
      return runAdminToken(config(flags, io.env), quietLogger(), args, flags);
    case 'import':
      return runImport(config(flags, io.env), quietLogger(), args, flags);
    default:
      break;
  }

  if (!isAdminCommand(command)) {
    throw new UsageError(command === '' ? 'no command given' : `unknown command "${command}"`);
  }

  const client = createAdminClient(adminUrl(flags, io.env), adminToken(flags, io.env));

  return runAdminCommand(client, words, flags);
}

/** The whole CLI: returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let json = false;

  try {
    const { positionals, flags } = parseCommandLine(argv);

    json = flags.json === true;

    if (flags.help === true || positionals.length === 0) {
      io.stdout(`${USAGE}\n`);

      return flags.help === true ? EXIT_OK : EXIT_USAGE;
    }

    const output = await run(positionals, flags, io);

    if (typeof output === 'number') {
      return output;
    }

    io.stdout(`${json ? JSON.stringify(output.data, null, 2) : output.human}\n`);

    return EXIT_OK;
  } catch (error) {
    return report(error, json, io);
  }
}

function report(error: unknown, json: boolean, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr(`beckon-auth: ${error.message}\n(see beckon-auth --help)\n`);

    return EXIT_USAGE;
  }

  const code =
    error instanceof AdminApiError
      ? error.code
      : error instanceof ConfigError
        ? 'config_error'
        : error instanceof CommandFailure
          ? 'failed'
          : 'error';
  const message = error instanceof Error ? error.message : String(error);

  io.stderr(
    json ? `${JSON.stringify({ error: { code, message } })}\n` : `beckon-auth: ${message}\n`,
  );

  return EXIT_FAILURE;
}
