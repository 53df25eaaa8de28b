import {
  argsSchemaFor,
  describeIssues,
  safeParse,
  type ActionDescriptor,
  type ArgSpec,
  type Args,
  type ArgValue,
} from '@beckon/shared';
import { invalidArgument } from '../errors.js';

const INTEGER = /^-?\d{1,16}$/;

function typedValue(name: string, spec: ArgSpec, text: string): ArgValue {
  switch (spec.type) {
    case 'string':
      return text;
    case 'integer': {
      const value = Number(text);

      if (!INTEGER.test(text) || !Number.isSafeInteger(value)) {
        throw invalidArgument(`--arg ${name}`, `must be an integer, got ${JSON.stringify(text)}`);
      }

      return value;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') {
        throw invalidArgument(
          `--arg ${name}`,
          `must be true or false, got ${JSON.stringify(text)}`,
        );
      }

      return text === 'true';
  }
}

/** Splits `k=v` pairs; the value may itself contain `=`. */
export function splitPairs(pairs: readonly string[]): [string, string][] {
  const seen = new Set<string>();

  return pairs.map((pair) => {
    const at = pair.indexOf('=');

    if (at < 1) {
      throw invalidArgument('--arg', `must be name=value, got ${JSON.stringify(pair)}`);
    }

    const name = pair.slice(0, at);

    if (seen.has(name)) {
      throw invalidArgument(`--arg ${name}`, 'is given twice');
    }

    seen.add(name);

    return [name, pair.slice(at + 1)];
  });
}

/**
 * Types `--arg k=v` values by the action's declared arguments (from the agent's retained
 * status), then checks them as the agent will, so a mistake is reported before sending.
 */
export function typeArgs(
  pairs: readonly string[],
  action: ActionDescriptor | undefined,
  where: string,
): Args {
  const split = splitPairs(pairs);

  if (action === undefined) {
    if (split.length === 0) {
      return {};
    }

    throw invalidArgument(
      '--arg',
      `cannot be typed: ${where} has published no catalogue offering this action`,
    );
  }

  const args: Args = {};

  for (const [name, text] of split) {
    const spec = action.args[name];

    if (spec === undefined) {
      const known = Object.keys(action.args);
      throw invalidArgument(
        `--arg ${name}`,
        `is not an argument of ${action.name} ` +
          `(it takes ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }

    args[name] = typedValue(name, spec, text);
  }

  const checked = safeParse(argsSchemaFor(action.args), args);

  if (!checked.ok) {
    throw invalidArgument(
      '--arg',
      `does not fit ${action.name}: ${describeIssues(checked.issues)}`,
    );
  }

  return checked.value;
}
