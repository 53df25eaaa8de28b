import { z } from 'zod';
import { ActionName, ArgName } from './ids.js';
import {
  MAX_ARG_STRING_LENGTH,
  MAX_ARGS,
  MAX_DESCRIPTION_LENGTH,
  MAX_ENUM_VALUES,
  MAX_PATTERN_LENGTH,
} from './limits.js';

const Description = z.string().max(MAX_DESCRIPTION_LENGTH);

const ArgSpecBase = {
  description: Description.optional(),
  /** Absent means required: an action gets exactly the arguments its author expected. */
  required: z.boolean().optional(),
  /** Never logged by the agent nor echoed in results. */
  secret: z.boolean().optional(),
};

function isCompilableRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** A string argument; always bounded, optionally restricted by a pattern or a list. */
export const StringArgSpec = z.strictObject({
  type: z.literal('string'),
  ...ArgSpecBase,
  maxLength: z.number().int().min(1).max(MAX_ARG_STRING_LENGTH).optional(),
  pattern: z
    .string()
    .min(1)
    .max(MAX_PATTERN_LENGTH)
    .refine(isCompilableRegex, { error: 'is not a valid regular expression' })
    .optional(),
  enum: z.array(z.string().max(MAX_ARG_STRING_LENGTH)).min(1).max(MAX_ENUM_VALUES).optional(),
});

export const IntegerArgSpec = z.strictObject({
  type: z.literal('integer'),
  ...ArgSpecBase,
  min: z.number().int().optional(),
  max: z.number().int().optional(),
});

export const BooleanArgSpec = z.strictObject({
  type: z.literal('boolean'),
  ...ArgSpecBase,
});

/** How one typed argument of an action is declared; unknown types are refused. */
export const ArgSpec = z.discriminatedUnion('type', [
  StringArgSpec,
  IntegerArgSpec,
  BooleanArgSpec,
]);

export const ArgSpecs = z
  .record(ArgName, ArgSpec)
  .refine((specs) => Object.keys(specs).length <= MAX_ARGS, {
    error: `declares more than ${MAX_ARGS} arguments`,
    params: { code: 'too_big' },
  });

/** What an agent says it offers: one allow-listed action, as published in its status. */
export const ActionDescriptor = z.strictObject({
  name: ActionName,
  description: Description,
  args: ArgSpecs,
  timeoutMs: z.number().int().positive().optional(),
  /** Built into the agent (ping, describe) rather than declared in its config. */
  builtIn: z.boolean().optional(),
});

export type StringArgSpec = z.infer<typeof StringArgSpec>;
export type IntegerArgSpec = z.infer<typeof IntegerArgSpec>;
export type BooleanArgSpec = z.infer<typeof BooleanArgSpec>;
export type ArgSpec = z.infer<typeof ArgSpec>;
export type ArgSpecs = z.infer<typeof ArgSpecs>;
export type ActionDescriptor = z.infer<typeof ActionDescriptor>;

/** An argument value on the wire. Integers only: a float never fills an argv element. */
export const ArgValue = z.union([
  z.string().max(MAX_ARG_STRING_LENGTH),
  z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  z.boolean(),
]);

export type ArgValue = z.infer<typeof ArgValue>;

export const Args = z
  .record(ArgName, ArgValue)
  .refine((args) => Object.keys(args).length <= MAX_ARGS, {
    error: `has more than ${MAX_ARGS} arguments`,
    params: { code: 'too_big' },
  });

export type Args = z.infer<typeof Args>;

function stringSchema(spec: StringArgSpec): z.ZodType<string> {
  const maxLength = spec.maxLength ?? MAX_ARG_STRING_LENGTH;

  if (spec.enum !== undefined) {
    const allowed = spec.enum;

    return z.string().refine((value) => allowed.includes(value), {
      error: `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`,
    });
  }

  let schema = z.string().max(maxLength);

  if (spec.pattern !== undefined) {
    // Anchored whatever the author wrote, so a pattern can never match only part of a value.
    schema = schema.regex(new RegExp(`^(?:${spec.pattern})$`, 'u'), {
      error: `must match ${spec.pattern}`,
    });
  }

  return schema;
}

function integerSchema(spec: IntegerArgSpec): z.ZodType<number> {
  let schema = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

  if (spec.min !== undefined) {
    schema = schema.min(spec.min);
  }

  if (spec.max !== undefined) {
    schema = schema.max(spec.max);
  }

  return schema;
}

function argSchema(spec: ArgSpec): z.ZodType<ArgValue> {
  switch (spec.type) {
    case 'string':
      return stringSchema(spec);
    case 'integer':
      return integerSchema(spec);
    case 'boolean':
      return z.boolean();
  }
}

/**
 * The schema that one action's arguments must pass: declared arguments only, each of its
 * declared type, required unless marked otherwise.
 */
export function argsSchemaFor(specs: ArgSpecs): z.ZodType<Args> {
  const shape: Record<string, z.ZodType> = {};

  for (const [name, spec] of Object.entries(specs)) {
    const schema = argSchema(spec);
    shape[name] = spec.required === false ? schema.optional() : schema;
  }

  return z.strictObject(shape) as unknown as z.ZodType<Args>;
}
