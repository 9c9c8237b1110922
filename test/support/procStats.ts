/**
 * A process's footprint read from Linux's /proc, for the benchmarks and the busy-machine script: CPU time
 * (utime + stime), resident memory now and its peak.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds `pid` has used so far, user and system (from /proc/<pid>/stat, in ticks of 10 ms).
 *
 * @example
 * const before = cpuSeconds(pid); // ... later: (cpuSeconds(pid) - before) / elapsedSeconds * 100 is % of a core
 */
export function cpuSeconds(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function statusField(pid: number, name: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${name} line`);
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/**
 * Resident memory of `pid` now, MB (VmRSS).
 *
 * @example
 * rssMb(process.pid) // 48.2
 */
export function rssMb(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/**
 * The peak resident memory of `pid` since it started, MB (VmHWM).
 *
 * @example
 * peakRssMb(process.pid) // 61.0
 */
export function peakRssMb(pid: number): number {
  return statusField(pid, 'VmHWM');
}
