/**
 * Prints one measured figure as a `[figure]` line on stderr: the numbers in
 * docs/reliability.md come from these lines (`vitest run --project reliability 2>&1 | grep
 * figure`). Not an assertion: the assertions are the bounds each test checks.
 */
export function reportFigure(name: string, values: Record<string, unknown>): void {
  process.stderr.write(`[figure] ${name} ${JSON.stringify(values)}\n`);
}
