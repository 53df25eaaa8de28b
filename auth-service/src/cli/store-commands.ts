import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { createAdminToken } from '../admin-api/create-admin-token.js';
import type { AuthServiceConfig } from '../config/schema.js';
import { parseAclFile, type ImportedRule } from '../import/acl-file.js';
import { importMosquitto } from '../import/import-mosquitto.js';
import { parsePasswordFile, type ImportProblem } from '../import/password-file.js';
import { migrate } from '../store/migrations.js';
import { createDriver, openStore } from '../store/open-store.js';
import type { CommandOutput } from './admin-commands.js';
import { assertOnly, positionalArgs, requiredFlag, stringFlag, type Flags } from './flags.js';
import { UsageError } from './usage.js';

/** A command that ran but could not do what was asked: exit code 1. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

/** The prefix of admin tokens. */

/** Who the audit log names for changes made by the CLI straight on the store. */
const CLI_ACTOR = 'cli';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} file ${path}`, { cause: error });
  }
}

export async function runMigrate(
  config: AuthServiceConfig,
  logger: Logger,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  assertOnly(flags, []);
  positionalArgs(args, []);

  const driver = createDriver(config.store, logger);

  try {
    const applied = await migrate(driver);

    return {
      data: { applied },
      human:
        applied.length === 0 ? 'store is up to date' : `applied migrations ${applied.join(', ')}`,
    };
  } finally {
    await driver.close();
  }
}

export async function runAdminToken(
  config: AuthServiceConfig,
  logger: Logger,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  const [verb = '', ...rest] = args;
  const store = await openStore(config.store, logger);

  try {
    switch (verb) {
      case 'create': {
        assertOnly(flags, ['name']);
        positionalArgs(rest, []);

        const name = stringFlag(flags, 'name') ?? 'admin';

        if (name.length > 128) {
          throw new UsageError('--name must be at most 128 characters');
        }

        const { id, token } = await createAdminToken(store, CLI_ACTOR, name);

        return {
          data: { id, name, token },
          human: `admin token ${id} (${name}), shown once:\n${token}`,
        };
      }

      case 'list': {
        assertOnly(flags, []);
        positionalArgs(rest, []);

        const tokens = await store.read((reader) => reader.listAdminTokens());
        const data = tokens.map((token) => ({
          id: token.id,
          name: token.name,
          createdAt: new Date(token.createdAt).toISOString(),
          ...(token.revokedAt === undefined
            ? {}
            : { revokedAt: new Date(token.revokedAt).toISOString() }),
        }));

        return {
          data: { adminTokens: data },
          human:
            data.length === 0
              ? '(none)'
              : data
                  .map(
                    (token) =>
                      `${token.id}  ${token.name}  created ${token.createdAt}${token.revokedAt === undefined ? '' : `  REVOKED ${token.revokedAt}`}`,
                  )
                  .join('\n'),
        };
      }

      case 'revoke': {
        assertOnly(flags, []);

        const [id = ''] = positionalArgs(rest, ['id']);
        const revoked = await store.mutate(CLI_ACTOR, async (writer) => {
          const existing = (await writer.listAdminTokens()).find((token) => token.id === id);

          if (existing === undefined) {
            return false;
          }

          await writer.revokeAdminToken(id, Date.now());
          await writer.audit({ action: 'admin-token.revoke', target: `admin-token:${id}` });

          return true;
        });

        if (!revoked) {
          throw new CommandFailure(`admin token ${id} does not exist`);
        }

        return { data: { id, revoked: true }, human: `revoked admin token ${id}` };
      }

      default:
        throw new UsageError('expected "admin-token create|list|revoke"');
    }
  } finally {
    await store.close();
  }
}

function problemText(problem: ImportProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

export async function runImport(
  config: AuthServiceConfig,
  logger: Logger,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  assertOnly(flags, ['passwords', 'acl', 'as']);
  positionalArgs(args, []);

  const passwordFile = requiredFlag(flags, 'passwords');
  const aclFile = stringFlag(flags, 'acl');
  const as = stringFlag(flags, 'as') ?? 'agents';

  if (as !== 'agents' && as !== 'apps') {
    throw new UsageError('--as must be agents or apps');
  }

  const passwords = parsePasswordFile(readText(passwordFile, 'password'), passwordFile);
  const acl =
    aclFile === undefined
      ? { rules: [] as ImportedRule[], problems: [] as ImportProblem[] }
      : parseAclFile(readText(aclFile, 'ACL'), aclFile);
  const store = await openStore(config.store, logger);

  try {
    const summary = await importMosquitto(store, {
      entries: passwords.entries,
      rules: acl.rules,
      kind: as === 'agents' ? 'agent' : 'app',
      actor: CLI_ACTOR,
      passwordFile,
    });
    const problems = [...passwords.problems, ...acl.problems, ...summary.problems];
    const human = [
      `created ${summary.created.length} ${as}${summary.created.length === 0 ? '' : `: ${summary.created.join(', ')}`}`,
      `updated ${summary.updated.length} password hashes${summary.updated.length === 0 ? '' : `: ${summary.updated.join(', ')}`}`,
      `added ${summary.rulesAdded} rules (${summary.rulesAlreadyPresent} already present)`,
      ...problems.map((problem) => `skipped ${problemText(problem)}`),
    ].join('\n');

    return { data: { ...summary, problems }, human };
  } finally {
    await store.close();
  }
}
