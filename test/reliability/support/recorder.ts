import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionsInput } from '../../harness/agent.js';

/**
 * A program that appends its one argument to a file, one line per run: proof of how many
 * times an action ran, and with what. The value reaches it as a typed argument in argv; the
 * script only quotes it, so no shell ever interprets it.
 */
export interface Recorder {
  readonly program: string;
  readonly file: string;
  /** Lines written so far (each run's argument). */
  lines(): Promise<string[]>;
}

export async function writeRecorder(dir: string, name = 'record'): Promise<Recorder> {
  const program = join(dir, `${name}.sh`);
  const file = join(dir, `${name}.log`);
  await writeFile(program, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${file}'\n`);
  await chmod(program, 0o755);
  await writeFile(file, '');

  return {
    program,
    file,
    lines: async () => {
      const text = await readFile(file, 'utf8');

      return text === '' ? [] : text.slice(0, -1).split('\n');
    },
  };
}

/** The `record` action: runs the recorder with the command's `id` argument. */
export function recordAction(recorder: Recorder): ActionsInput {
  return {
    record: {
      description: 'Appends its id argument to a file',
      argv: [recorder.program, { arg: 'id' }],
      args: { id: { type: 'string', pattern: '[A-Za-z0-9_-]+', maxLength: 64 } },
      timeoutSeconds: 30,
    },
  };
}
