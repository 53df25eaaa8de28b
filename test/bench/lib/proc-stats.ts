import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

// What the kernel says about a process: resident memory from /proc/<pid>/status and CPU time
// from /proc/<pid>/stat, read from outside so the reading costs the process nothing.

const KIB = 1_024;
const BYTES_PER_MIB = KIB * KIB;
/** After the command name, field 14 (utime) and 15 (stime) are the 12th and 13th. */
const UTIME_INDEX = 11;
const STIME_INDEX = 12;

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

  return ticksPerSecond;
}

export interface MemoryReading {
  readonly rssMiB: number;
  readonly peakRssMiB: number;
}

export async function readMemory(pid: number): Promise<MemoryReading> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);

  return {
    rssMiB: (kib('VmRSS') * KIB) / BYTES_PER_MIB,
    peakRssMiB: (kib('VmHWM') * KIB) / BYTES_PER_MIB,
  };
}

/** User plus system CPU time the process has used so far, in milliseconds. */
export async function readCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_INDEX]) + Number(fields[STIME_INDEX]);

  return (ticks * 1_000) / clockTicks();
}
