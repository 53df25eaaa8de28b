import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Parses outside input, turning the first problems into one message that names the fields. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(value);

  if (result.success) {
    return result.data;
  }

  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const field = issue.path.map(String).join('.');

    return field === '' ? issue.message : `${field}: ${issue.message}`;
  });

  throw new ApiError('invalid_input', `${where} is not valid: ${problems.join('; ')}`);
}
