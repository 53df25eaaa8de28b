import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The deploy/ folder, whatever the test's working directory. */
export const DEPLOY_DIR = join(import.meta.dirname, '..');
export const REPO_DIR = join(DEPLOY_DIR, '..');

const TOOL_TIMEOUT_MS = 30_000;

export function deployPath(...parts: string[]): string {
  return join(DEPLOY_DIR, ...parts);
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion; a non-zero exit is a result to assert on, not an error. */
export function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? DEPLOY_DIR,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: TOOL_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Whether a command is on PATH (for tools a machine may lack, such as systemd-analyze). */
export async function hasCommand(name: string): Promise<boolean> {
  const result = await runTool('sh', ['-c', `command -v ${name}`]);
  return result.code === 0;
}

export type YamlObject = Record<string, unknown>;

/** Every document of a YAML file, with merge keys (`<<: *anchor`) resolved. */
export async function readYamlDocuments(file: string): Promise<YamlObject[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'), { merge: true });

  return documents.map((document) => {
    if (document.errors.length > 0) {
      throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    }

    return document.toJS() as YamlObject;
  });
}

/** Reads a nested value by path; `undefined` as soon as a step is missing. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;

  for (const step of path) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }

    current = (current as Record<string | number, unknown>)[step];
  }

  return current;
}

/** Mosquitto config as key -> values (a key may repeat, e.g. log_type), comments dropped. */
export function parseMosquittoConf(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();

  for (const raw of text.split('\n')) {
    const line = raw.trim();

    if (line === '' || line.startsWith('#')) {
      continue;
    }

    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1).trim();
    settings.set(key, [...(settings.get(key) ?? []), value]);
  }

  return settings;
}
