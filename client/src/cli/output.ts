import type { Progress, Result } from '@beckon/shared';
import type { BeckonError } from '../errors.js';
import type { AgentOutcome, FanOutProgress, FanOutReport } from '../fan-out.js';
import type { AgentPresence } from '../presence.js';

/** Where the CLI writes; injectable so tests and embedders can capture it. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

function duration(result: Result): string {
  const ms = result.timings.durationMs;

  return ms === undefined ? '' : ` in ${ms} ms`;
}

function exitPart(result: Result): string {
  if (result.exitCode !== null) {
    return `exit ${result.exitCode}`;
  }

  return result.signal === undefined || result.signal === null ? 'no exit code' : result.signal;
}

/** A result for people: the action's own output on stdout/stderr, then one status line. */
export function printResult(io: CliIo, result: Result): void {
  io.stdout.write(result.output.stdout);
  io.stderr.write(result.output.stderr);

  if (result.output.truncated) {
    io.stderr.write('(output truncated by the agent)\n');
  }

  io.stderr.write(
    `${result.agentId} ${result.action ?? '?'}: ${result.outcome} ` +
      `(${exitPart(result)})${duration(result)}\n`,
  );
}

export function printError(io: CliIo, error: BeckonError): void {
  if (error.result !== undefined) {
    printResult(io, error.result);
  }

  io.stderr.write(`beckon: ${error.message}\n`);
}

export function errorJson(error: BeckonError): Record<string, unknown> {
  return {
    code: error.code,
    message: error.message,
    ...(error.agentCode === undefined ? {} : { agentCode: error.agentCode }),
    ...(error.argument === undefined ? {} : { argument: error.argument }),
  };
}

export function printProgress(io: CliIo, chunk: Progress): void {
  (chunk.stream === 'stdout' ? io.stdout : io.stderr).write(chunk.data);
}

export function printFanOutProgress(io: CliIo, update: FanOutProgress): void {
  const done = update.succeeded + update.failed;
  const what =
    update.latest.status === 'succeeded'
      ? 'succeeded'
      : `${update.latest.error?.code ?? 'failed'}${agentCodePart(update.latest)}`;
  io.stderr.write(`[${done}/${update.total}] ${update.latest.agentId} ${what}\n`);
}

function agentCodePart(outcome: AgentOutcome): string {
  const code = outcome.error?.agentCode;

  return code === undefined ? '' : ` (${code})`;
}

export function outcomeJson(outcome: AgentOutcome): Record<string, unknown> {
  return {
    agentId: outcome.agentId,
    status: outcome.status,
    ...(outcome.result === undefined ? {} : { result: outcome.result }),
    ...(outcome.error === undefined ? {} : { error: errorJson(outcome.error) }),
  };
}

export function printFanOutReport(io: CliIo, report: FanOutReport): void {
  for (const outcome of report.outcomes) {
    if (outcome.status === 'failed') {
      io.stdout.write(
        `${outcome.agentId}: ${outcome.error?.code ?? 'failed'}${agentCodePart(outcome)}\n`,
      );
    } else if (outcome.status === 'not-sent') {
      io.stdout.write(`${outcome.agentId}: not sent\n`);
    }
  }

  io.stdout.write(
    `${report.succeeded} succeeded, ${report.failed} failed, ${report.notSent} not sent` +
      `${report.stopped ? ' (stopped early)' : ''}\n`,
  );
}

export function presenceJson(presence: AgentPresence): Record<string, unknown> {
  return {
    agentId: presence.agentId,
    state: presence.state,
    lastSeen: presence.lastSeen.toISOString(),
    since: presence.since.toISOString(),
    startedAt: presence.startedAt.toISOString(),
    version: presence.version,
    ...(presence.host === undefined ? {} : { host: presence.host }),
    ...(presence.reason === undefined ? {} : { reason: presence.reason }),
    catalogue: presence.catalogue,
  };
}

/** Columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );

  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths?.[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

export function printAgents(io: CliIo, agents: readonly AgentPresence[]): void {
  if (agents.length === 0) {
    io.stdout.write('no agents have published a status\n');
    return;
  }

  const rows = agents.map((agent) => [
    agent.agentId,
    agent.state,
    agent.lastSeen.toISOString(),
    agent.version,
    agent.catalogue.map((action) => action.name).join(', '),
  ]);
  io.stdout.write(`${table([['AGENT', 'STATE', 'LAST SEEN', 'VERSION', 'ACTIONS'], ...rows])}\n`);
}

export function presenceLine(presence: AgentPresence): string {
  const detail =
    presence.state === 'online'
      ? `v${presence.version}, ${presence.catalogue.length} actions`
      : (presence.reason ?? 'gone');

  return `${new Date().toISOString()} ${presence.agentId} ${presence.state} (${detail})`;
}

export function resultLine(result: Result): string {
  const code = result.error === undefined ? '' : ` ${result.error.code}`;

  return (
    `${new Date().toISOString()} ${result.agentId} result ${result.commandId ?? '-'} ` +
    `${result.action ?? '?'} ${result.outcome}${code} (${exitPart(result)})`
  );
}
