import { readFile } from 'node:fs/promises';
import { AppId, describeIssues, safeParse } from '@beckon/shared';
import { z } from 'zod';
import { BeckonError, invalidArgument } from '../errors.js';
import { parseDuration } from './duration.js';

/** Every environment variable the CLI reads; all share the BECKON_ prefix. */
export const ENV = Object.freeze({
  url: 'BECKON_URL',
  appId: 'BECKON_APP_ID',
  secret: 'BECKON_APP_SECRET',
  secretFile: 'BECKON_APP_SECRET_FILE',
  keyFile: 'BECKON_APP_KEY_FILE',
  authUrl: 'BECKON_AUTH_URL',
  caFile: 'BECKON_CA_FILE',
  mqttVersion: 'BECKON_MQTT_VERSION',
  connectTimeout: 'BECKON_CONNECT_TIMEOUT',
  unsigned: 'BECKON_UNSIGNED',
  logLevel: 'BECKON_LOG_LEVEL',
});

const MAX_SECRET_FILE_BYTES = 4_096;

const Setting = {
  url: z.string().regex(/^mqtts?:\/\/[^/]+/, { error: 'must be an mqtt:// or mqtts:// URL' }),
  appId: AppId,
  secret: z.string().min(1).max(1_024),
  path: z.string().min(1).max(4_096),
  authUrl: z.string().regex(/^https?:\/\/[^/]+/, { error: 'must be an http:// or https:// URL' }),
  mqttVersion: z.enum(['3.1.1', '5'], { error: 'must be 3.1.1 or 5' }),
  unsigned: z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
};

/** The flags that override environment variables. */
export interface ConfigFlags {
  readonly url?: string | undefined;
  readonly 'app-id'?: string | undefined;
  readonly 'secret-file'?: string | undefined;
  readonly 'key-file'?: string | undefined;
  readonly 'auth-url'?: string | undefined;
  readonly 'ca-file'?: string | undefined;
  readonly 'mqtt-version'?: string | undefined;
  readonly 'connect-timeout'?: string | undefined;
  readonly unsigned?: boolean | undefined;
}

export interface CliConfig {
  readonly url: string;
  readonly appId: string;
  readonly secret: string;
  readonly keyFile: string | undefined;
  readonly authUrl: string | undefined;
  readonly caFile: string | undefined;
  readonly mqttVersion: '3.1.1' | '5';
  readonly unsigned: boolean;
  /** How long to try for a first broker session, in ms; the library default when unset. */
  readonly connectTimeoutMs: number | undefined;
}

// A value from its flag or its variable; the error names whichever was used.
function pick<T>(
  schema: z.ZodType<T>,
  flag: string,
  flagValue: string | undefined,
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): T | undefined {
  const [source, raw] =
    flagValue === undefined ? [variable, env[variable]] : [`--${flag}`, flagValue];

  if (raw === undefined || raw === '') {
    return undefined;
  }

  const parsed = safeParse(schema, raw);

  if (!parsed.ok) {
    throw invalidArgument(source, describeIssues(parsed.issues));
  }

  return parsed.value;
}

function required<T>(value: T | undefined, flag: string, variable: string): T {
  if (value === undefined) {
    throw invalidArgument(variable, `is not set (or pass --${flag})`);
  }

  return value;
}

async function readSecretFile(path: string, source: string): Promise<string> {
  let text: string;

  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BeckonError('invalid_arguments', `${source}: cannot read ${path}`, {
      argument: source,
      cause: error,
    });
  }

  const secret = text.replace(/\r?\n$/, '');

  if (secret === '' || Buffer.byteLength(secret) > MAX_SECRET_FILE_BYTES) {
    throw invalidArgument(source, `file ${path} must hold one non-empty secret`);
  }

  return secret;
}

/** The log level for the CLI's own pino logger (stderr); warn unless BECKON_LOG_LEVEL says. */
export function logLevel(env: Readonly<Record<string, string | undefined>>): string {
  return pick(Setting.logLevel, 'log-level', undefined, ENV.logLevel, env) ?? 'warn';
}

/**
 * Reads what a broker-facing command needs from flags and an injectable environment record,
 * once; every error names the flag or variable it came from.
 */
export async function loadConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliConfig> {
  const url = required(pick(Setting.url, 'url', flags.url, ENV.url, env), 'url', ENV.url);
  const appId = required(
    pick(Setting.appId, 'app-id', flags['app-id'], ENV.appId, env),
    'app-id',
    ENV.appId,
  );
  const secretFile = pick(Setting.path, 'secret-file', flags['secret-file'], ENV.secretFile, env);
  const inline = pick(Setting.secret, 'secret', undefined, ENV.secret, env);
  const secretSource = flags['secret-file'] === undefined ? ENV.secretFile : '--secret-file';
  const secret = secretFile === undefined ? inline : await readSecretFile(secretFile, secretSource);

  if (secret === undefined) {
    throw invalidArgument(ENV.secret, `is not set (nor ${ENV.secretFile}, nor --secret-file)`);
  }

  const unsignedText = pick(Setting.unsigned, 'unsigned', undefined, ENV.unsigned, env);
  const unsigned = flags.unsigned === true || unsignedText === 'true' || unsignedText === '1';
  const keyFile = pick(Setting.path, 'key-file', flags['key-file'], ENV.keyFile, env);
  const authUrl = pick(Setting.authUrl, 'auth-url', flags['auth-url'], ENV.authUrl, env);

  if (!unsigned) {
    required(keyFile, 'key-file', ENV.keyFile);
    required(authUrl, 'auth-url', ENV.authUrl);
  }

  return Object.freeze({
    url,
    appId,
    secret,
    keyFile,
    authUrl,
    caFile: pick(Setting.path, 'ca-file', flags['ca-file'], ENV.caFile, env),
    mqttVersion:
      pick(Setting.mqttVersion, 'mqtt-version', flags['mqtt-version'], ENV.mqttVersion, env) ?? '5',
    unsigned,
    connectTimeoutMs: connectTimeout(flags, env),
  });
}

function connectTimeout(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const flag = flags['connect-timeout'];
  const text = flag ?? env[ENV.connectTimeout];

  if (text === undefined || text === '') {
    return undefined;
  }

  return parseDuration(text, flag === undefined ? ENV.connectTimeout : '--connect-timeout');
}
