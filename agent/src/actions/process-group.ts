import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** How often a dying process group is looked at; only while one is being terminated. */
export const GROUP_POLL_MS = 50;

/** After SIGKILL a group is normally gone at once; longer means a process stuck in the kernel. */
export const SIGKILL_WAIT_MS = 2_000;

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/** Sends a signal to every process in the group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (isErrno(error, 'ESRCH')) {
      return false;
    }

    throw error;
  }
}

// Fields of /proc/<pid>/stat after the command name, which is in parentheses and may itself
// contain spaces or parentheses: state, ppid, pgrp, ...
function parseStat(text: string): { state: string; pgrp: number } | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, , pgrp] = fields;

  return state === undefined || pgrp === undefined ? undefined : { state, pgrp: Number(pgrp) };
}

async function readStat(pid: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // The process ended between readdir and read.
    return undefined;
  }
}

/**
 * Pids of the group's members that are still alive. Zombies do not count: they have exited
 * and only wait for a parent (often init, which may be slow) to reap them, yet the kernel still
 * lets them be signalled, so `kill(-pgid, 0)` alone would wait on them.
 */
export async function liveGroupMembers(pgid: number): Promise<number[]> {
  if (!signalGroup(pgid, 0)) {
    return [];
  }

  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const stats = await Promise.all(pids.map(async (pid) => ({ pid, text: await readStat(pid) })));

  return stats.flatMap(({ pid, text }) => {
    const stat = text === undefined ? undefined : parseStat(text);

    return stat?.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X' ? [Number(pid)] : [];
  });
}

async function waitForGroupExit(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;

  for (;;) {
    if ((await liveGroupMembers(pgid)).length === 0) {
      return true;
    }

    if (Date.now() >= deadline) {
      return false;
    }

    await delay(GROUP_POLL_MS);
  }
}

export interface Termination {
  /** The last signal sent: SIGKILL when the group outlived the grace period. */
  readonly signal: 'SIGTERM' | 'SIGKILL';
  /** Members still alive even after SIGKILL (stuck in uninterruptible sleep). */
  readonly survivors: readonly number[];
}

/**
 * Ends a whole process group: SIGTERM (and SIGCONT, so stopped members can act on it), then
 * SIGKILL if anything is left after the grace period. Resolves once no member is alive.
 */
export async function terminateGroup(pgid: number, killGraceMs: number): Promise<Termination> {
  if (signalGroup(pgid, 'SIGTERM')) {
    signalGroup(pgid, 'SIGCONT');
  }

  if (await waitForGroupExit(pgid, killGraceMs)) {
    return { signal: 'SIGTERM', survivors: [] };
  }

  signalGroup(pgid, 'SIGKILL');

  if (await waitForGroupExit(pgid, SIGKILL_WAIT_MS)) {
    return { signal: 'SIGKILL', survivors: [] };
  }

  return { signal: 'SIGKILL', survivors: await liveGroupMembers(pgid) };
}
