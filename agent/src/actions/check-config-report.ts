import { MAX_OUTPUT_LENGTH, type ArgSpec } from '@beckon/shared';
import type { ActionConfig, AgentConfig, ArgvElement } from '../config/schema.js';
import { MAX_CAPTURED_BYTES } from './bounded-output.js';
import { DEFAULT_ACTION_PATH } from './build-env.js';
import { BUILT_IN_DESCRIPTORS } from './describe-actions.js';

type ReportedConfig = Pick<AgentConfig, 'actions' | 'limits'>;

/** One action as `beckon-agent check-config --json` prints it. */
export interface ActionReport {
  readonly name: string;
  readonly description: string;
  readonly program: string;
  /** The argv with `{arg}` for a value, `[{arg}]` when optional, `[--flag]` for a boolean. */
  readonly argv: readonly string[];
  /** The declared specs; `flag` is the literal a boolean adds when true. */
  readonly args: Readonly<Record<string, ArgSpec & { readonly flag?: string }>>;
  readonly timeoutSeconds: number;
  readonly maxOutputBytes: number;
  readonly cwd: string;
  /** Names only: values may be secrets. */
  readonly env: readonly string[];
  readonly user: string | null;
  readonly group: string | null;
  readonly maxConcurrent: number | null;
}

export interface ConfigReport {
  readonly limits: ReportedConfig['limits'];
  readonly builtIns: readonly string[];
  readonly actions: readonly ActionReport[];
}

const KIB = 1_024;

function describeSpec(spec: ArgSpec & { readonly flag?: string }): string {
  const parts: string[] = [spec.type, spec.required === false ? 'optional' : 'required'];

  switch (spec.type) {
    case 'string':
      if (spec.enum !== undefined) {
        parts.push(`one of ${spec.enum.map((value) => JSON.stringify(value)).join(', ')}`);
      }
      if (spec.pattern !== undefined) {
        parts.push(`matching ^(?:${spec.pattern})$`);
      }
      if (spec.maxLength !== undefined) {
        parts.push(`at most ${spec.maxLength} characters`);
      }
      break;
    case 'integer':
      parts.push(`from ${spec.min ?? 'any'} to ${spec.max ?? 'any'}`);
      break;
    case 'boolean':
      if (spec.flag !== undefined) {
        parts.push(`adds ${spec.flag} when true`);
      }
      break;
  }

  if (spec.secret === true) {
    parts.push('secret (never logged)');
  }

  return parts.join(', ');
}

function renderElement(element: ArgvElement, action: ActionConfig): string {
  if (typeof element === 'string') {
    return element === '' || /\s/.test(element) ? JSON.stringify(element) : element;
  }

  if (element.flag !== undefined) {
    return `[${element.flag}]`;
  }

  const optional = action.args[element.arg]?.required === false;

  return optional ? `[{${element.arg}}]` : `{${element.arg}}`;
}

function reportAction(name: string, action: ActionConfig): ActionReport {
  const flags = new Map<string, string>();

  for (const element of action.argv) {
    if (typeof element !== 'string' && element.flag !== undefined) {
      flags.set(element.arg, element.flag);
    }
  }

  return {
    name,
    description: action.description,
    program: typeof action.argv[0] === 'string' ? action.argv[0] : '',
    argv: action.argv.map((element) => renderElement(element, action)),
    args: Object.fromEntries(
      Object.entries(action.args).map(([arg, spec]) => {
        const flag = flags.get(arg);

        return [arg, flag === undefined ? spec : { ...spec, flag }];
      }),
    ),
    timeoutSeconds: action.timeoutSeconds,
    maxOutputBytes: action.maxOutputBytes,
    cwd: action.cwd,
    env: Object.keys(action.env).sort(),
    user: action.user ?? null,
    group: action.group ?? null,
    maxConcurrent: action.maxConcurrent ?? null,
  };
}

/** The effective action list, as data: what `check-config --json` prints. */
export function checkConfigJson(config: ReportedConfig): ConfigReport {
  return {
    limits: config.limits,
    builtIns: BUILT_IN_DESCRIPTORS.map((descriptor) => descriptor.name),
    actions: Object.entries(config.actions)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, action]) => reportAction(name, action)),
  };
}

function formatBytes(bytes: number): string {
  return bytes % KIB === 0 ? `${bytes / KIB} KiB` : `${bytes} bytes`;
}

function outputLine(maxOutputBytes: number): string {
  const line = `${formatBytes(maxOutputBytes)} per stream`;

  return maxOutputBytes > MAX_CAPTURED_BYTES
    ? `${line} (results carry at most ${MAX_OUTPUT_LENGTH} characters)`
    : line;
}

function runAsLine(action: ActionReport): string {
  if (action.user === null && action.group === null) {
    return "the agent's own user";
  }

  const user = action.user === null ? "the agent's user" : `user ${action.user}`;
  const group = action.group === null ? 'its primary group' : `group ${action.group}`;

  return `${user}, ${group}`;
}

function renderAction(action: ActionReport, globalLimit: number): string[] {
  const args = Object.entries(action.args);
  const env = action.env.includes('PATH')
    ? action.env
    : [...action.env, `PATH=${DEFAULT_ACTION_PATH} (default)`];
  const concurrency =
    action.maxConcurrent === null
      ? `up to the global limit (${globalLimit})`
      : `at most ${action.maxConcurrent} at a time (global limit ${globalLimit})`;

  return [
    '',
    `${action.name}${action.description === '' ? '' : ` - ${action.description}`}`,
    `  program:     ${action.program}`,
    `  argv:        ${action.argv.join(' ')}`,
    ...(args.length === 0
      ? ['  args:        none']
      : args.map(
          ([arg, spec], index) =>
            `  ${index === 0 ? 'args:' : '     '}        ${arg}: ${describeSpec(spec)}`,
        )),
    `  timeout:     ${action.timeoutSeconds} s`,
    `  output:      ${outputLine(action.maxOutputBytes)}`,
    `  run as:      ${runAsLine(action)}`,
    `  cwd:         ${action.cwd}`,
    `  env:         ${env.join(', ')}`,
    `  concurrency: ${concurrency}`,
  ];
}

/**
 * The effective action list that `beckon-agent check-config` prints, for a human checking what
 * a config file allows: every action's program, argv template, arguments with their types and
 * limits, timeout, output limit, user and concurrency. Environment values are left out.
 */
export function checkConfigReport(config: ReportedConfig): string {
  const report = checkConfigJson(config);
  const { limits } = report;

  return [
    `${report.actions.length} action(s) configured; built in: ${report.builtIns.join(', ')}`,
    `limits: ${limits.maxConcurrent} running at once, ${limits.maxQueued} queued, ` +
      `kill grace ${limits.killGraceSeconds} s, shutdown grace ${limits.shutdownGraceSeconds} s`,
    ...report.actions.flatMap((action) => renderAction(action, limits.maxConcurrent)),
    '',
  ].join('\n');
}
