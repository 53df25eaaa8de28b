import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AuthServiceConfig } from './schema.js';

export const ENV_PREFIX = 'BECKON_AUTH_';

/** Environment variable (after the prefix) -> the config key it sets. */
const ENV_KEYS: Readonly<Record<string, readonly string[]>> = {
  ISSUER: ['issuer'],
  BROKER_URL: ['brokerUrl'],
  PUBLIC_URL: ['publicUrl'],
  STATIC_DIR: ['staticDir'],
  LOG_LEVEL: ['logLevel'],
  CREDENTIAL_TTL_SECONDS: ['credentials', 'appCredentialTtlSeconds'],
  BROKER_TOKEN_TTL_SECONDS: ['credentials', 'brokerTokenTtlSeconds'],
  BROKER_HOST: ['listeners', 'broker', 'host'],
  BROKER_PORT: ['listeners', 'broker', 'port'],
  ADMIN_HOST: ['listeners', 'admin', 'host'],
  ADMIN_PORT: ['listeners', 'admin', 'port'],
  PUBLIC_HOST: ['listeners', 'public', 'host'],
  PUBLIC_PORT: ['listeners', 'public', 'port'],
};

/** The store's variables, handled before the others (only one of them may be set). */
const STORE_ENV_KEYS = new Set(['STORE_URL', 'SQLITE_PATH', 'POSTGRES_URL']);

/** Read by the CLI, not the service; listed so the service does not mistake them for typos. */
const CLIENT_ENV_KEYS = new Set(['CONFIG', 'ADMIN_TOKEN', 'ADMIN_URL']);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** A YAML or JSON file; relative paths inside it resolve against its folder. */
  readonly file?: string;
  /** `process.env` in production, a plain object in tests. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type Json = Record<string, unknown>;

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;

  for (const key of path.slice(0, -1)) {
    const child = node[key];

    if (child === null || typeof child !== 'object' || Array.isArray(child)) {
      node[key] = {};
    }

    node = node[key] as Json;
  }

  node[path[path.length - 1] ?? ''] = value;
}

function readFile(file: string): Json {
  let text: string;

  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}`, { cause: error });
  }

  let parsed: unknown;

  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML or JSON`, { cause: error });
  }

  if (parsed === null || parsed === undefined) {
    return {};
  }

  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold an object at the top level`);
  }

  return parsed as Json;
}

function resolvePaths(raw: Json, base: string): void {
  const store = raw.store as Json | undefined;

  if (store?.kind === 'sqlite' && typeof store.path === 'string' && store.path !== ':memory:') {
    store.path = isAbsolute(store.path) ? store.path : resolve(base, store.path);
  }

  if (typeof raw.staticDir === 'string' && !isAbsolute(raw.staticDir)) {
    raw.staticDir = resolve(base, raw.staticDir);
  }
}

// Applies BECKON_AUTH_* variables; returns which config key came from which variable.
function applyEnv(
  raw: Json,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const sources = new Map<string, string>();
  const storeUrl = env[`${ENV_PREFIX}STORE_URL`];
  let sqlite = env[`${ENV_PREFIX}SQLITE_PATH`];
  let postgres = env[`${ENV_PREFIX}POSTGRES_URL`];
  const given = [storeUrl, sqlite, postgres].filter((value) => value !== undefined).length;

  if (given > 1) {
    throw new ConfigError(
      `set only one of ${ENV_PREFIX}STORE_URL, ${ENV_PREFIX}SQLITE_PATH and ` +
        `${ENV_PREFIX}POSTGRES_URL`,
    );
  }

  // One variable for either store, as container platforms pass one secret: sqlite:<path> or a
  // postgres:// URL.
  if (storeUrl !== undefined) {
    if (storeUrl.startsWith('sqlite:')) {
      sqlite = storeUrl.slice('sqlite:'.length);
    } else if (/^postgres(ql)?:\/\//.test(storeUrl)) {
      postgres = storeUrl;
    } else {
      throw new ConfigError(
        `${ENV_PREFIX}STORE_URL must be sqlite:<path> or a postgres:// URL (the value is not shown)`,
      );
    }
  }

  if (sqlite !== undefined) {
    raw.store = { kind: 'sqlite', path: sqlite === ':memory:' ? sqlite : resolve(sqlite) };
    sources.set('store.path', `${ENV_PREFIX}SQLITE_PATH`);
  }

  if (postgres !== undefined) {
    raw.store = { kind: 'postgres', url: postgres };
    sources.set('store.url', `${ENV_PREFIX}POSTGRES_URL`);
  }

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) {
      continue;
    }

    const suffix = name.slice(ENV_PREFIX.length);
    const path = ENV_KEYS[suffix];

    if (path === undefined) {
      if (!CLIENT_ENV_KEYS.has(suffix) && !STORE_ENV_KEYS.has(suffix)) {
        throw new ConfigError(`unknown environment variable ${name}`);
      }

      continue;
    }

    const numeric = path.at(-1)?.endsWith('port') === true || suffix.endsWith('_SECONDS');

    setPath(raw, path, numeric && /^\d+$/.test(value) ? Number(value) : value);
    sources.set(path.join('.'), name);

    if (suffix === 'STATIC_DIR') {
      setPath(raw, path, resolve(value));
    }
  }

  return sources;
}

function describe(
  issues: readonly z.core.$ZodIssue[],
  sources: ReadonlyMap<string, string>,
  file: string | undefined,
): string {
  return issues
    .map((issue) => {
      const key = issue.path.map(String).join('.');
      const variable = sources.get(key);
      const where =
        variable !== undefined
          ? `environment variable ${variable} (config key ${key})`
          : `config key ${key === '' ? '(top level)' : key}${file === undefined ? '' : ` in ${file}`}`;

      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Reads the config file and the environment once, validates, and freezes the result. */
export function loadConfig(options: LoadConfigOptions = {}): AuthServiceConfig {
  const env = options.env ?? {};
  const file = options.file ?? env[`${ENV_PREFIX}CONFIG`];
  const raw = file === undefined ? {} : readFile(file);

  if (file !== undefined) {
    resolvePaths(raw, dirname(resolve(file)));
  }

  const sources = applyEnv(raw, env);
  const result = AuthServiceConfig.safeParse(raw);

  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${describe(result.error.issues, sources, file)}`);
  }

  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);

    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
  }

  return value;
}
