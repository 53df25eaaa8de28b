import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * The sentinel Node.js looks for to tell a single executable application from a plain `node`
 * binary. It is a fixed string of the Node 20 SEA format, not a secret.
 */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const SEA_RESOURCE = 'NODE_SEA_BLOB';

/** Bundling, blob generation and injection take seconds; a hung child is a fault. */
const CHILD_TIMEOUT_MS = 180_000;

/**
 * Optional modules that dependencies load inside try/catch: native add-ons of `ws` (pulled in
 * by mqtt) and `debug`'s colour detection. A SEA can load no module from disk (Node prints a
 * warning at every start when one is tried), so each becomes a stub that throws, and the
 * dependency takes its fallback.
 */
const OPTIONAL_MODULES = ['bufferutil', 'utf-8-validate', 'supports-color'];
const ABSENT_NAMESPACE = 'beckon-absent';

// A SEA's main script is CommonJS; these stand in for `import.meta` in the ESM sources.
const IMPORT_META_BANNER = [
  'const __beckonImportMetaFilename = __filename;',
  'const __beckonImportMetaDirname = __dirname;',
  'const __beckonImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
].join('\n');

const IMPORT_META_DEFINES = {
  'import.meta.url': '__beckonImportMetaUrl',
  'import.meta.filename': '__beckonImportMetaFilename',
  'import.meta.dirname': '__beckonImportMetaDirname',
};

export interface AgentBundleOptions {
  /** The ESM entry file of the CLI to ship (normally `agent/dist/cli.js`). */
  readonly entry: string;
  /** Folder that receives the executable, its `.sha256` and the extra files. */
  readonly outDir: string;
  /** Base name; the file becomes `<name>-linux-<arch>`. */
  readonly name?: string;
  /** The Node.js binary to embed; it pins the runtime version. Defaults to this one. */
  readonly nodeBinary?: string;
  /** Package export conditions for resolving workspace packages (tests use `beckon-source`). */
  readonly conditions?: readonly string[];
  /** Files copied unchanged beside the executable (the unit, the install script). */
  readonly extraFiles?: readonly string[];
}

export interface AgentBundle {
  readonly executable: string;
  readonly checksumFile: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly nodeVersion: string;
  /** esbuild's warnings, one line each; the caller decides whether they matter. */
  readonly warnings: readonly string[];
}

interface ChildResult {
  readonly code: number | null;
  readonly output: string;
}

// Runs a build tool to completion, keeping its output for the error message.
function runChild(command: string, args: readonly string[], cwd: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    child.stderr.on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

async function runChecked(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await runChild(command, args, cwd);

  if (result.code !== 0) {
    const shown = [command, ...args].join(' ');
    throw new Error(`${shown} exited with ${String(result.code)}: ${result.output.trim()}`);
  }

  return result.output;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');

  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
  }

  return hash.digest('hex');
}

const optionalModulesAbsent: Plugin = {
  name: 'optional-modules-absent',
  setup(builder) {
    const filter = new RegExp(`^(${OPTIONAL_MODULES.join('|')})$`);
    builder.onResolve({ filter }, (args) => ({ path: args.path, namespace: ABSENT_NAMESPACE }));
    builder.onLoad({ filter: /.*/, namespace: ABSENT_NAMESPACE }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the bundle`)});`,
      loader: 'js',
    }));
  },
};

// Node 20's SEA runs exactly one CommonJS script, so the ESM CLI and every dependency are
// bundled into one file first.
async function bundleEntry(options: AgentBundleOptions, outfile: string): Promise<string[]> {
  const result = await build({
    entryPoints: [options.entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    conditions: [...(options.conditions ?? [])],
    plugins: [optionalModulesAbsent],
    banner: { js: IMPORT_META_BANNER },
    define: IMPORT_META_DEFINES,
    legalComments: 'none',
    logLevel: 'silent',
  });

  return result.warnings.map((warning) => {
    const where = warning.location === null ? '' : ` (${warning.location.file})`;
    return `${warning.text}${where}`;
  });
}

/**
 * Builds a self-contained agent executable: the entry bundled into one CommonJS script,
 * turned into a SEA blob by the given Node.js binary and injected into a copy of it.
 */
export async function buildAgentBundle(options: AgentBundleOptions): Promise<AgentBundle> {
  const nodeBinary = options.nodeBinary ?? process.execPath;
  const name = `${options.name ?? 'beckon-agent'}-linux-${process.arch}`;
  const work = await mkdtemp(join(tmpdir(), 'beckon-bundle-'));

  try {
    const script = join(work, 'main.cjs');
    const blob = join(work, 'sea.blob');
    const warnings = await bundleEntry(options, script);

    const seaConfig = {
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      // Compiled code cached in the blob saves part of the start-up parse time.
      useCodeCache: true,
    };
    await writeFile(join(work, 'sea-config.json'), JSON.stringify(seaConfig));
    await runChecked(nodeBinary, ['--experimental-sea-config', 'sea-config.json'], work);
    const nodeVersion = (await runChecked(nodeBinary, ['--version'], work)).trim();

    await mkdir(options.outDir, { recursive: true });
    const executable = join(options.outDir, name);
    const partial = join(options.outDir, `.${name}.partial`);
    await copyFile(nodeBinary, partial);
    await chmod(partial, 0o755);

    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    const injectArgs = [postject, partial, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE];

    try {
      await runChecked(process.execPath, injectArgs, work);
      await rename(partial, executable);
    } catch (err) {
      // A half-injected copy of node must never be mistaken for a bundle.
      await rm(partial, { force: true });
      throw err;
    }

    const sha256 = await sha256Of(executable);
    const checksumFile = `${executable}.sha256`;
    // The `sha256sum` line format, so `sha256sum -c` verifies it as well as install.sh does.
    await writeFile(checksumFile, `${sha256}  ${name}\n`);

    for (const file of options.extraFiles ?? []) {
      await copyFile(file, join(options.outDir, basename(file)));
    }

    const { size } = await stat(executable);
    return { executable, checksumFile, sha256, bytes: size, nodeVersion, warnings };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
