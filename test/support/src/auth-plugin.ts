import { execFile, type ExecFileException } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Beckon's own Mosquitto 2 auth plugin for tests (test/support/mosquitto-auth/): the real HTTP
// plugins cannot be fetched on these machines, and without one no test sees Mosquitto wait on
// every check with all its clients. Compiled per run, so the tests always load what they read.

const SOURCE_DIR = fileURLToPath(new URL('../mosquitto-auth/', import.meta.url));
const PLUGIN_FILE = 'beckon-test-auth.so';
/** Compiling four small files takes well under a second; this is for a loaded CI machine. */
const COMPILE_TIMEOUT_MS = 60_000;
const CFLAGS = ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror'];
/** Which Debian package brings each header the plugin includes. */
const HEADER_PACKAGES: Readonly<Record<string, string>> = {
  'mosquitto_plugin.h': 'mosquitto-dev',
  'mosquitto_broker.h': 'mosquitto-dev',
  'mosquitto.h': 'libmosquitto-dev',
};
const MISSING_HEADER = /fatal error: ([\w.]+\.h): No such file/;

export interface BuildAuthPluginOptions {
  /** The C compiler to run; `cc` from PATH unless set. */
  readonly compiler?: string;
}

/**
 * Compiles the test auth plugin into `outDir` and resolves with the path of the shared object.
 * Rejects with an error that names what is missing: the compiler or a header's package.
 */
export async function buildAuthPlugin(
  outDir: string,
  options: BuildAuthPluginOptions = {},
): Promise<string> {
  const compiler = options.compiler ?? 'cc';
  const sources = (await readdir(SOURCE_DIR))
    .filter((name) => name.endsWith('.c'))
    .map((name) => join(SOURCE_DIR, name));
  const output = join(outDir, PLUGIN_FILE);

  await new Promise<void>((resolve, reject) => {
    execFile(
      compiler,
      [...CFLAGS, '-o', output, ...sources],
      { timeout: COMPILE_TIMEOUT_MS },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
        } else {
          reject(buildError(compiler, error, stderr));
        }
      },
    );
  });

  return output;
}

function buildError(compiler: string, error: ExecFileException, stderr: string): Error {
  if (error.code === 'ENOENT') {
    return new Error(
      `cannot build the test auth plugin: no C compiler ${JSON.stringify(compiler)} ` +
        '(install gcc, e.g. `apt-get install -y gcc`)',
      { cause: error },
    );
  }

  const header = MISSING_HEADER.exec(stderr)?.[1];
  const packageName = header === undefined ? undefined : HEADER_PACKAGES[header];

  if (header !== undefined) {
    return new Error(
      `cannot build the test auth plugin: ${header} is missing` +
        (packageName === undefined ? '' : ` (apt-get install -y ${packageName})`),
      { cause: error },
    );
  }

  return new Error(`cannot build the test auth plugin: ${compiler} failed:\n${stderr}`, {
    cause: error,
  });
}
