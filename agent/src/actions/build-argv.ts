import {
  argsSchemaFor,
  describeIssues,
  safeParse,
  type Args,
  type ArgSpecs,
  type ArgValue,
  type Issue,
  type ResultError,
  MAX_ERROR_MESSAGE_LENGTH,
} from '@beckon/shared';
import type { z } from 'zod';
import type { ActionConfig, ArgvElement } from '../config/schema.js';

/** The literal argv element after which values may start with a dash. */
export const END_OF_OPTIONS = '--';

const TAB = 0x09;
const LINE_SEPARATOR = 0x2028;
const PARAGRAPH_SEPARATOR = 0x2029;

// C0 and C1 control characters (tab excepted) and the Unicode line and paragraph separators.
// A newline inside a value could smuggle a second line into a program that reads its argv as
// lines (a config generator, a `while read` loop, a log line parsed later); NUL would cut the
// value short in C; the rest can rewrite a terminal or a log viewer.
function isForbidden(code: number): boolean {
  return (
    (code < 0x20 && code !== TAB) ||
    (code >= 0x7f && code <= 0x9f) ||
    code === LINE_SEPARATOR ||
    code === PARAGRAPH_SEPARATOR
  );
}

function hasForbiddenCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    if (isForbidden(value.charCodeAt(index))) {
      return true;
    }
  }

  return false;
}

// In `u` mode a surrogate pair is one code point, so this matches only a lone half, which the
// operating system would receive as U+FFFD rather than the value that was sent.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export type ArgvResult =
  | { readonly ok: true; readonly argv: readonly string[]; readonly args: Args }
  | { readonly ok: false; readonly issues: readonly Issue[] };

// Compiling an action's argument schema builds zod objects and regular expressions: do it once
// per action, keyed by the config's own (frozen) specs, and share it between the pipeline's
// check and the runner's argv build.
const schemas = new WeakMap<ArgSpecs, z.ZodType<Args>>();

/** The compiled argument schema of one action's declared arguments, built on first use. */
export function argsSchemaOf(specs: ArgSpecs): z.ZodType<Args> {
  let schema = schemas.get(specs);

  if (schema === undefined) {
    schema = argsSchemaFor(specs);
    schemas.set(specs, schema);
  }

  return schema;
}

function issue(arg: string, message: string): Issue {
  return { code: 'invalid_value', path: `args.${arg}`, message };
}

/**
 * Why a value may not fill an argv element at this position, or undefined when it may. The
 * config loader uses it too, to refuse enum values that could never be used.
 */
export function refusedValue(value: string, afterEndOfOptions: boolean): string | undefined {
  if (hasForbiddenCharacter(value)) {
    return 'must not contain control characters (only tab is allowed)';
  }

  if (LONE_SURROGATE.test(value)) {
    return 'must be well-formed Unicode (it has half a surrogate pair)';
  }

  if (value.startsWith('-') && !afterEndOfOptions) {
    return `must not start with "-": it would be read as an option`;
  }

  return undefined;
}

function checkString(arg: string, value: string, afterEndOfOptions: boolean): Issue | undefined {
  const refusal = refusedValue(value, afterEndOfOptions);

  return refusal === undefined ? undefined : issue(arg, refusal);
}

// One element filled from a value; undefined means the element is left out.
function fill(
  element: Exclude<ArgvElement, string>,
  value: ArgValue | undefined,
  afterEndOfOptions: boolean,
): { element?: string; issue?: Issue } {
  const { arg, flag } = element;

  if (flag !== undefined) {
    if (value === undefined || value === false) {
      return {};
    }

    return value === true ? { element: flag } : { issue: issue(arg, 'expected boolean') };
  }

  if (value === undefined) {
    return {};
  }

  if (typeof value === 'boolean') {
    return { issue: issue(arg, 'a boolean can only fill a flag') };
  }

  const text = typeof value === 'number' ? value.toString(10) : value;
  const problem = checkString(arg, text, afterEndOfOptions);

  return problem === undefined ? { element: text } : { issue: problem };
}

/**
 * The exact argv of one run: literals as written, each argument value as one whole element,
 * absent optional arguments and false flags left out. Re-validates the arguments against the
 * action's declared types (the pipeline already did) and refuses values that could be read as
 * an option or carry control characters.
 */
export function buildArgv(action: ActionConfig, args: Args): ArgvResult {
  return checkAndBuild(action, args);
}

/** `buildArgv` for input nobody has validated yet; `argsFor` uses it. */
export function checkAndBuild(action: ActionConfig, input: unknown): ArgvResult {
  const parsed = safeParse(argsSchemaOf(action.args), input);

  if (!parsed.ok) {
    return {
      ok: false,
      issues: parsed.issues.map((found) => ({
        ...found,
        path: found.path === '' ? 'args' : `args.${found.path}`,
      })),
    };
  }

  const argv: string[] = [];
  const issues: Issue[] = [];
  let afterEndOfOptions = false;

  for (const element of action.argv) {
    if (typeof element === 'string') {
      argv.push(element);
      afterEndOfOptions ||= argv.length > 1 && element === END_OF_OPTIONS;
      continue;
    }

    const filled = fill(element, parsed.value[element.arg], afterEndOfOptions);

    if (filled.issue !== undefined) {
      issues.push(filled.issue);
    } else if (filled.element !== undefined) {
      argv.push(filled.element);
    }
  }

  return issues.length > 0 ? { ok: false, issues } : { ok: true, argv, args: parsed.value };
}

/** The `invalid_args` error of a result, from the issues `buildArgv` or `argsFor` found. */
export function invalidArgsError(issues: readonly Issue[]): ResultError {
  return {
    code: 'invalid_args',
    message: describeIssues(issues).slice(0, MAX_ERROR_MESSAGE_LENGTH),
  };
}
