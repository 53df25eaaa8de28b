import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AgentId, describeIssues, safeParse } from '@beckon/shared';
import { z } from 'zod';
import { checkConfigJson, checkConfigReport } from '../actions/check-config-report.js';
import { resolveAccounts } from '../actions/resolve-accounts.js';
import { loadConfig, type ConfigResult } from '../config/load-config.js';
import { enroll, EnrollError } from '../enroll/enroll.js';
import { runAgentProcess, type AgentParts } from '../service/run-agent.js';
import type { SystemdEnv } from '../service/systemd.js';
import { agentVersion } from '../version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_CONFIG_PATH = '/etc/beckon/agent.yaml';

/** The environment the CLI reads: one prefix, plus systemd's own variables for `run`. */
export interface CliEnv extends SystemdEnv {
  readonly BECKON_AGENT_CONFIG?: string | undefined;
  readonly BECKON_AGENT_ENROLL_TOKEN?: string | undefined;
}

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: CliEnv;
}

export const USAGE = `Usage: beckon-agent <command> [options]

Commands:
  run [--config <file>]                 run the agent until SIGTERM/SIGINT
  check-config [--config <file>] [--json]
                                        validate the config and list the effective actions
  enroll --url <auth url> --token <token> [--agent-id <id>]
         (--credentials <file> | --config <file>)
                                        trade an enrollment token for credentials (0600)

Options:
  --version                             print the version
  --help                                print this help

Environment:
  BECKON_AGENT_CONFIG        config file when --config is absent (default ${DEFAULT_CONFIG_PATH})
  BECKON_AGENT_ENROLL_TOKEN  enrollment token when --token is absent (keeps it out of ps)`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const Path = z.string().min(1).max(4_096);
const EnrollFlags = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  token: z.string().min(16, { error: 'must be at least 16 characters' }).max(256),
  agentId: AgentId.optional(),
  credentials: Path,
});

function parse<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function configPath(flag: unknown, env: CliEnv): string {
  const path = typeof flag === 'string' ? flag : (env.BECKON_AGENT_CONFIG ?? DEFAULT_CONFIG_PATH);

  return resolve(path);
}

// check-config also resolves run-as users, so a missing user shows up before `run` fails on it.
async function loadWithAccounts(path: string): Promise<ConfigResult> {
  const loaded = await loadConfig(path);

  if (!loaded.ok) {
    return loaded;
  }

  const accounts = await resolveAccounts(loaded.config.actions);

  return accounts.ok ? loaded : { ok: false, errors: accounts.errors };
}

async function checkConfig(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  const path = configPath(values.config, io.env);
  const loaded = await loadWithAccounts(path);

  if (values.json === true) {
    io.stdout(
      JSON.stringify(
        loaded.ok
          ? { ok: true, config: path, ...checkConfigJson(loaded.config) }
          : { ok: false, config: path, errors: loaded.errors },
      ),
    );

    return loaded.ok ? EXIT_OK : EXIT_FAILURE;
  }

  if (!loaded.ok) {
    loaded.errors.forEach((error) => io.stderr(error));

    return EXIT_FAILURE;
  }

  const { config } = loaded;
  io.stdout(`${path}: valid`);
  io.stdout(
    `broker ${config.broker.url} (MQTT ${config.broker.protocolVersion === 5 ? '5' : '3.1.1'}), ` +
      `signatures ${config.security.requireSignatures ? 'required' : 'NOT required'}`,
  );
  io.stdout(checkConfigReport(config).trimEnd());

  return EXIT_OK;
}

async function enrollCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    url: { type: 'string' },
    token: { type: 'string' },
    'agent-id': { type: 'string' },
    credentials: { type: 'string' },
    config: { type: 'string' },
  });
  let credentials = values.credentials;

  if (credentials === undefined && typeof values.config === 'string') {
    const loaded = await loadConfig(resolve(values.config));

    if (!loaded.ok) {
      loaded.errors.forEach((error) => io.stderr(error));

      return EXIT_FAILURE;
    }

    credentials = loaded.config.credentialsFile;
  }

  const flags = safeParse(EnrollFlags, {
    url: values.url,
    token: values.token ?? io.env.BECKON_AGENT_ENROLL_TOKEN,
    ...(values['agent-id'] === undefined ? {} : { agentId: values['agent-id'] }),
    credentials,
  });

  if (!flags.ok) {
    throw new UsageError(
      describeIssues(
        flags.issues.map((issue) => ({
          ...issue,
          path: issue.path === 'agentId' ? '--agent-id' : `--${issue.path}`,
        })),
      ),
    );
  }

  try {
    const written = await enroll({
      url: flags.value.url,
      token: flags.value.token,
      credentialsPath: resolve(flags.value.credentials),
      ...(flags.value.agentId === undefined ? {} : { agentId: flags.value.agentId }),
    });
    io.stdout(
      `enrolled as ${written.agentId}; credentials written to ${resolve(flags.value.credentials)}`,
    );

    return EXIT_OK;
  } catch (error) {
    if (error instanceof EnrollError) {
      io.stderr(`beckon-agent: ${error.message}`);

      return EXIT_FAILURE;
    }

    io.stderr(`beckon-agent: enrollment failed: ${(error as Error).message}`);

    return EXIT_FAILURE;
  }
}

async function run(args: string[], io: CliIo, parts: AgentParts | undefined): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' } });

  if (parts === undefined) {
    io.stderr('beckon-agent: this build has no action runner bound (agent/src/agent-parts.ts)');

    return EXIT_FAILURE;
  }

  return runAgentProcess({
    configPath: configPath(values.config, io.env),
    env: io.env,
    parts,
    stderr: io.stderr,
  });
}

/** The whole CLI; resolves with the exit code (0 ok, 1 failure, 2 usage). */
export async function main(
  argv: readonly string[],
  io: CliIo,
  parts: AgentParts | undefined,
): Promise<number> {
  const [command, ...rest] = argv;

  try {
    switch (command) {
      case '--version':
      case '-v':
        io.stdout(agentVersion());
        return EXIT_OK;
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE);
        return EXIT_OK;
      case 'run':
        return await run(rest, io, parts);
      case 'check-config':
        return await checkConfig(rest, io);
      case 'enroll':
        return await enrollCommand(rest, io);
      case undefined:
        throw new UsageError('a command is required');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`beckon-agent: ${error.message}`);
      io.stderr(USAGE);

      return EXIT_USAGE;
    }

    throw error;
  }
}
