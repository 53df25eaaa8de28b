import type { Args, ParseResult } from '@beckon/shared';
import type { ActionConfig } from '../config/schema.js';
import { checkAndBuild } from './build-argv.js';

/**
 * Validates a command's arguments for one action: the declared types (shared's
 * `argsSchemaFor`) and the agent's own argv rules (no control characters, no leading dash
 * before a literal `--`). Never throws; issue paths name the command field (`args.ref`).
 * The pipeline calls this before queueing, so refused arguments never reach the runner.
 */
export function argsFor(action: ActionConfig, input: unknown): ParseResult<Args> {
  const built = checkAndBuild(action, input);

  return built.ok ? { ok: true, value: built.args } : built;
}
