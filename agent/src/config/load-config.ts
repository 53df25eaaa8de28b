import { readFile } from 'node:fs/promises';
import { formatPath } from '@beckon/shared';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { END_OF_OPTIONS, refusedValue } from '../actions/build-argv.js';
import { AgentConfig, type ActionConfig } from './schema.js';

/** Built into the agent; a config file cannot redefine them. */
export const BUILT_IN_ACTIONS = ['ping', 'describe'] as const;

/** Largest config file read; a real one is a few KiB. */
const MAX_CONFIG_BYTES = 1_024 * 1_024;
/** Aliases expanded at most; more is the shape of a "billion laughs" file, not a config. */
const MAX_YAML_ALIASES = 100;

export type ConfigResult =
  | { readonly ok: true; readonly config: Readonly<AgentConfig> }
  | { readonly ok: false; readonly errors: readonly string[] };

function describeInput(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return `expected ${issue.expected}`;
  }

  if (issue.code === 'unrecognized_keys') {
    return `unknown key(s) ${issue.keys.join(', ')}`;
  }

  return issue.message;
}

// The semantic checks zod cannot express: references between argv and args, reserved names.
function checkAction(name: string, action: ActionConfig): string[] {
  const errors: string[] = [];
  const key = `actions.${name}`;
  const [program] = action.argv;

  if ((BUILT_IN_ACTIONS as readonly string[]).includes(name)) {
    errors.push(`${key}: "${name}" is a built-in action and cannot be redefined`);
  }

  if (typeof program !== 'string' || !program.startsWith('/')) {
    errors.push(`${key}.argv.0: the program must be a literal absolute path`);
  }

  const used = new Set<string>();
  let afterEndOfOptions = false;

  action.argv.forEach((element, index) => {
    if (typeof element === 'string') {
      afterEndOfOptions ||= index > 0 && element === END_OF_OPTIONS;
      return;
    }

    const spec = action.args[element.arg];
    used.add(element.arg);
    // An enum value the runner would refuse at this position is a mistake in the file.
    const unusable =
      spec?.type === 'string'
        ? spec.enum?.find((value) => refusedValue(value, afterEndOfOptions) !== undefined)
        : undefined;

    if (unusable !== undefined) {
      const why = refusedValue(unusable, afterEndOfOptions) ?? '';
      errors.push(`${key}.argv.${index}: enum value ${JSON.stringify(unusable)} ${why}`);
    }

    if (spec === undefined) {
      errors.push(`${key}.argv.${index}: refers to undeclared argument "${element.arg}"`);
    } else if (element.flag !== undefined && spec.type !== 'boolean') {
      errors.push(`${key}.argv.${index}: "flag" needs a boolean argument, not ${spec.type}`);
    } else if (element.flag === undefined && spec.type === 'boolean') {
      errors.push(`${key}.argv.${index}: boolean argument "${element.arg}" needs a "flag"`);
    }
  });

  for (const arg of Object.keys(action.args)) {
    if (!used.has(arg)) {
      errors.push(`${key}.args.${arg}: declared but never used in argv`);
    }
  }

  return errors;
}

/** Validates an already-parsed config object; `source` names it in errors. */
export function validateConfig(input: unknown, source: string): ConfigResult {
  const parsed = AgentConfig.safeParse(input ?? {});

  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => {
        const key = formatPath(issue.path);

        return `${source}: ${key === '' ? '(top level)' : key}: ${describeInput(issue)}`;
      }),
    };
  }

  const errors = Object.entries(parsed.data.actions).flatMap(([name, action]) =>
    checkAction(name, action).map((error) => `${source}: ${error}`),
  );

  if (errors.length > 0) {
    return { ok: false, errors };
  }

  return { ok: true, config: Object.freeze(parsed.data) };
}

/** Reads, parses (YAML, which includes JSON) and validates the agent's config file. */
export async function loadConfig(path: string): Promise<ConfigResult> {
  let text: string;

  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';

    return { ok: false, errors: [`${path}: cannot read the file (${code})`] };
  }

  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return { ok: false, errors: [`${path}: larger than ${MAX_CONFIG_BYTES} bytes`] };
  }

  // YAML 1.1 tags (!!binary, !!timestamp, ...) would turn values into Buffers and Dates that
  // no key expects; as plain text they get the schema's usual "expected ..." error.
  const document = parseDocument(text, {
    prettyErrors: true,
    uniqueKeys: true,
    resolveKnownTags: false,
  });

  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((error) => `${path}: ${error.message.split('\n')[0] ?? ''}`),
    };
  }

  let input: unknown;

  try {
    input = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // The yaml package throws a ReferenceError when the alias limit is passed.
    if (error instanceof ReferenceError) {
      return {
        ok: false,
        errors: [
          `${path}: too many YAML aliases (more than ${MAX_YAML_ALIASES}); write the values out`,
        ],
      };
    }

    throw error;
  }

  return validateConfig(input, path);
}
