import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ActionDescriptor } from '@beckon/shared';
import { pino } from 'pino';
import type { BeckonClient } from '../client.js';
import { connect } from '../connect.js';
import { BeckonError, invalidArgument } from '../errors.js';
import type { MaxErrors } from '../fan-out.js';
import { CLIENT_VERSION } from '../version.js';
import { ENV, loadConfig, logLevel } from './config.js';
import { parseDuration } from './duration.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { HELP } from './help.js';
import { keygen } from './keygen.js';
import {
  errorJson,
  outcomeJson,
  presenceJson,
  presenceLine,
  printAgents,
  printError,
  printFanOutProgress,
  printFanOutReport,
  printProgress,
  printResult,
  resultLine,
  writeJson,
  type CliIo,
} from './output.js';
import { typeArgs } from './typed-args.js';

const DEFAULT_TIMEOUT = '30s';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'app-id': { type: 'string' },
  'secret-file': { type: 'string' },
  'key-file': { type: 'string' },
  'auth-url': { type: 'string' },
  'ca-file': { type: 'string' },
  'mqtt-version': { type: 'string' },
  'connect-timeout': { type: 'string' },
  unsigned: { type: 'boolean' },
  arg: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  progress: { type: 'boolean' },
  group: { type: 'string' },
  concurrency: { type: 'string' },
  'max-errors': { type: 'string' },
  out: { type: 'string' },
  alg: { type: 'string' },
  force: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const CONNECTION_FLAGS = [
  'json',
  'url',
  'app-id',
  'secret-file',
  'key-file',
  'auth-url',
  'ca-file',
  'mqtt-version',
  'connect-timeout',
  'unsigned',
] as const;

type FlagName = keyof typeof OPTIONS;

/** Which flags each command takes, and how many positionals (after the command's name). */
const COMMANDS: Readonly<
  Record<string, { readonly flags: readonly FlagName[]; readonly positionals: number }>
> = {
  send: {
    flags: [
      ...CONNECTION_FLAGS,
      'arg',
      'timeout',
      'progress',
      'group',
      'concurrency',
      'max-errors',
    ],
    positionals: 2,
  },
  agents: { flags: CONNECTION_FLAGS, positionals: 0 },
  watch: { flags: CONNECTION_FLAGS, positionals: 0 },
  keygen: { flags: ['json', 'out', 'alg', 'force'], positionals: 0 },
};

type Flags = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

export interface CliContext extends CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: waits stop, and `send` cancels the command on the agent. */
  readonly signal: AbortSignal;
}

function parseCommandLine(argv: readonly string[]): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });

    return { flags: values, positionals };
  } catch (error) {
    throw new BeckonError('invalid_arguments', (error as Error).message, { cause: error });
  }
}

async function connectFrom(flags: Flags, context: CliContext): Promise<BeckonClient> {
  const config = await loadConfig(flags, context.env);
  const logger = pino({ level: logLevel(context.env), base: null }, context.stderr);

  return connect({
    url: config.url,
    appId: config.appId,
    secret: config.secret,
    mqttVersion: config.mqttVersion,
    unsigned: config.unsigned,
    logger,
    signal: context.signal,
    ...(config.authUrl === undefined ? {} : { authUrl: config.authUrl }),
    ...(config.keyFile === undefined ? {} : { privateKeyFile: config.keyFile }),
    ...(config.caFile === undefined ? {} : { caFile: config.caFile }),
    ...(config.connectTimeoutMs === undefined ? {} : { connectTimeout: config.connectTimeoutMs }),
  });
}

function findAction(
  catalogue: readonly ActionDescriptor[] | undefined,
  action: string,
): ActionDescriptor | undefined {
  return catalogue?.find((descriptor) => descriptor.name === action);
}

function parseCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) {
    return undefined;
  }

  if (!/^\d{1,6}$/.test(text)) {
    throw invalidArgument(flag, `must be a whole number, got ${JSON.stringify(text)}`);
  }

  return Number(text);
}

function parseMaxErrors(text: string | undefined): MaxErrors | undefined {
  if (text === undefined) {
    return undefined;
  }

  if (/^\d{1,3}(\.\d+)?%$/.test(text)) {
    return text as `${number}%`;
  }

  return parseCount(text, '--max-errors');
}

async function sendOne(
  client: BeckonClient,
  agentId: string,
  action: string,
  flags: Flags,
  context: CliContext,
): Promise<number> {
  const timeout = parseDuration(flags.timeout ?? DEFAULT_TIMEOUT, '--timeout');
  const pairs = flags.arg ?? [];
  const catalogue = pairs.length === 0 ? undefined : (await client.status(agentId))?.catalogue;
  const args = typeArgs(pairs, findAction(catalogue, action), `agent ${agentId}`);

  if (catalogue !== undefined && findAction(catalogue, action) === undefined) {
    throw invalidArgument(
      'action',
      `${action} is not offered by ${agentId} ` +
        `(it offers ${catalogue.map((entry) => entry.name).join(', ')})`,
    );
  }

  try {
    const result = await client.send(agentId, action, args, {
      timeout,
      signal: context.signal,
      cancelOnAbort: true,
      ...(flags.progress === true && flags.json !== true
        ? { onProgress: (chunk) => printProgress(context, chunk) }
        : {}),
    });

    if (flags.json === true) {
      writeJson(context, { ok: true, result });
    } else if (flags.progress !== true) {
      printResult(context, result);
    } else {
      context.stderr.write(`${agentId} ${action}: succeeded\n`);
    }

    return EXIT.succeeded;
  } catch (error) {
    if (!(error instanceof BeckonError) || error.code === 'invalid_arguments') {
      throw error;
    }

    if (flags.json === true) {
      writeJson(context, {
        ok: false,
        error: errorJson(error),
        ...(error.result === undefined ? {} : { result: error.result }),
      });
    } else {
      printError(context, error);
    }

    return exitCodeFor(error.code);
  }
}

async function sendGroup(
  client: BeckonClient,
  group: string,
  action: string,
  flags: Flags,
  context: CliContext,
): Promise<number> {
  const timeout = parseDuration(flags.timeout ?? DEFAULT_TIMEOUT, '--timeout');
  const concurrency = parseCount(flags.concurrency, '--concurrency');
  const maxErrors = parseMaxErrors(flags['max-errors']);
  const members = await client.groupMembers(group);
  const pairs = flags.arg ?? [];
  let descriptor: ActionDescriptor | undefined;

  // Arguments are the same for every member: type them by the first catalogue offering it.
  for (const agentId of pairs.length === 0 ? [] : members) {
    descriptor = findAction((await client.status(agentId))?.catalogue, action);

    if (descriptor !== undefined) {
      break;
    }
  }

  const args = typeArgs(pairs, descriptor, `no agent of group ${group}`);
  context.stderr.write(`sending ${action} to ${members.length} agents of ${group}\n`);
  const report = await client.sendMany(members, action, args, {
    timeout,
    signal: context.signal,
    onProgress: (update) => printFanOutProgress(context, update),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(maxErrors === undefined ? {} : { maxErrors }),
  });

  if (flags.json === true) {
    writeJson(context, { ...report, outcomes: report.outcomes.map(outcomeJson) });
  } else {
    printFanOutReport(context, report);
  }

  if (context.signal.aborted) {
    return EXIT.interrupted;
  }

  return report.succeeded === report.outcomes.length ? EXIT.succeeded : EXIT.failed;
}

async function watch(client: BeckonClient, flags: Flags, context: CliContext): Promise<number> {
  const json = flags.json === true;
  const presence = client.watchStatus({
    signal: context.signal,
    onChange: (update) => {
      if (json) {
        writeJson(context, { kind: 'presence', ...presenceJson(update) });
      } else {
        context.stdout.write(`${presenceLine(update)}\n`);
      }
    },
  });
  const results = client.watchResults({
    signal: context.signal,
    onChange: (result) => {
      if (json) {
        writeJson(context, result);
      } else {
        context.stdout.write(`${resultLine(result)}\n`);
      }
    },
  });

  await new Promise<void>((resolve) => {
    if (context.signal.aborted) {
      resolve();
      return;
    }

    context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  presence.close();
  results.close();

  return EXIT.succeeded;
}

async function withClient(
  flags: Flags,
  context: CliContext,
  run: (client: BeckonClient) => Promise<number>,
): Promise<number> {
  const client = await connectFrom(flags, context);

  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function positional(positionals: readonly string[], index: number, name: string): string {
  const value = positionals[index];

  if (value === undefined) {
    throw invalidArgument(name, 'is missing (see beckon --help)');
  }

  return value;
}

// Flags a command does not use and extra words are refused rather than silently ignored.
function checkUsage(command: string | undefined, flags: Flags, positionals: readonly string[]) {
  const usage = command === undefined ? undefined : COMMANDS[command];

  if (command === undefined || usage === undefined) {
    return;
  }

  for (const flag of Object.keys(flags) as FlagName[]) {
    if (!usage.flags.includes(flag)) {
      throw invalidArgument(`--${flag}`, `is not a flag of beckon ${command}`);
    }
  }

  const expected = usage.positionals - (command === 'send' && flags.group !== undefined ? 1 : 0);

  if (positionals.length - 1 > expected) {
    throw invalidArgument(
      JSON.stringify(positionals[expected + 1]),
      `is one word too many for beckon ${command} (see beckon --help)`,
    );
  }
}

async function dispatch(argv: readonly string[], context: CliContext): Promise<number> {
  const { flags, positionals } = parseCommandLine(argv);
  const [command] = positionals;

  if (flags.help === true) {
    context.stdout.write(HELP);
    return EXIT.succeeded;
  }

  if (flags.version === true) {
    context.stdout.write(`${CLIENT_VERSION}\n`);
    return EXIT.succeeded;
  }

  checkUsage(command, flags, positionals);

  switch (command) {
    case 'send': {
      if (flags.group !== undefined) {
        const group = flags.group;
        const action = positional(positionals, 1, 'action');

        return withClient(flags, context, (client) =>
          sendGroup(client, group, action, flags, context),
        );
      }

      const agentId = positional(positionals, 1, 'agent');
      const action = positional(positionals, 2, 'action');

      return withClient(flags, context, (client) =>
        sendOne(client, agentId, action, flags, context),
      );
    }
    case 'agents':
      return withClient(flags, context, async (client) => {
        const agents = await client.listAgents();

        if (flags.json === true) {
          writeJson(context, agents.map(presenceJson));
        } else {
          printAgents(context, agents);
        }

        return EXIT.succeeded;
      });
    case 'watch':
      return withClient(flags, context, (client) => watch(client, flags, context));
    case 'keygen': {
      const out = flags.out ?? context.env[ENV.keyFile];

      if (out === undefined || out === '') {
        throw invalidArgument('--out', `is required (or set ${ENV.keyFile})`);
      }

      const publicJwk = await keygen(out, flags.alg, flags.force === true);
      writeJson(context, publicJwk);
      return EXIT.succeeded;
    }
    case undefined:
      context.stderr.write(HELP);
      return EXIT.usage;
    default:
      throw invalidArgument('command', `${JSON.stringify(command)} is not a beckon command`);
  }
}

/** Runs one `beckon` invocation and returns its exit status; never throws. */
export async function main(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    return await dispatch(argv, context);
  } catch (error) {
    if (error instanceof BeckonError) {
      const json = argv.includes('--json');

      if (json) {
        writeJson(context, { ok: false, error: errorJson(error) });
      } else {
        context.stderr.write(`beckon: ${error.message}\n`);
      }

      return exitCodeFor(error.code);
    }

    context.stderr.write(`beckon: internal error: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
}
