import type { z } from 'zod';

/**
 * The closed set of reasons a message can be refused at the edge. Central apps in other
 * languages see these in `rejected` results, so they are part of the contract.
 */
export const ISSUE_CODES = [
  'too_large',
  'not_json',
  'wrong_kind',
  'missing_field',
  'unknown_field',
  'invalid_type',
  'invalid_value',
  'invalid_format',
  'invalid_timestamp',
  'too_big',
  'too_small',
] as const;

export type IssueCode = (typeof ISSUE_CODES)[number];

/** One thing wrong with an input, naming the field by its dotted path ("" for the whole). */
export interface Issue {
  readonly code: IssueCode;
  readonly path: string;
  readonly message: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'symbol' ? part.toString() : String(part))).join('.');
}

/** One line naming every issue, for logs and `rejected` results. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    .join('; ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;

  for (const part of path) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[part];
  }

  return current;
}

function isCustomCode(value: unknown): value is IssueCode {
  return typeof value === 'string' && (ISSUE_CODES as readonly string[]).includes(value);
}

// Translates zod's issue vocabulary into ours, so that callers never depend on zod's wording
// and a missing field is told apart from a field of the wrong type.
function toIssue(issue: z.core.$ZodIssue, input: unknown): Issue {
  const path = formatPath(issue.path);
  const last = issue.path.at(-1);

  switch (issue.code) {
    case 'invalid_type': {
      if (valueAt(input, issue.path) === undefined) {
        return { code: 'missing_field', path, message: 'is required' };
      }

      return { code: 'invalid_type', path, message: `expected ${issue.expected}` };
    }
    case 'invalid_union': {
      if (last === 'kind' || 'discriminator' in issue) {
        return { code: 'wrong_kind', path, message: 'is not a known message kind' };
      }

      return { code: 'invalid_value', path, message: 'matches none of the allowed forms' };
    }
    case 'unrecognized_keys':
      return {
        code: 'unknown_field',
        path,
        message: `has unknown field(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`,
      };
    case 'too_big':
      return { code: 'too_big', path, message: issue.message };
    case 'too_small':
      return { code: 'too_small', path, message: issue.message };
    case 'invalid_format':
      return { code: 'invalid_format', path, message: issue.message };
    case 'invalid_value': {
      if (last === 'kind') {
        return { code: 'wrong_kind', path, message: 'is not a known message kind' };
      }

      return { code: 'invalid_value', path, message: issue.message };
    }
    case 'custom': {
      const code: unknown = issue.params?.['code'];

      return { code: isCustomCode(code) ? code : 'invalid_value', path, message: issue.message };
    }
    case 'invalid_key':
    case 'invalid_element':
    case 'not_multiple_of':
      return { code: 'invalid_value', path, message: issue.message };
  }
}

/** Runs a zod schema without ever throwing and reports our coded issues. */
export function safeParse<S extends z.ZodType>(
  schema: S,
  input: unknown,
): ParseResult<z.output<S>> {
  const parsed = schema.safeParse(input);

  if (parsed.success) {
    return { ok: true, value: parsed.data };
  }

  return { ok: false, issues: parsed.error.issues.map((issue) => toIssue(issue, input)) };
}
