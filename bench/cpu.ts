// CPU time of a server backend process (utime + stime from /proc/<pid>/stat), when the server runs on this machine.
// Unlike wall time it barely moves when other work shares the machine, so it compares the migrations' own work.
// Parallel workers and autovacuum are other processes: not counted.
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function backendCpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 is state; utime and stime are fields 14 and 15 overall: indexes 11 and 12 here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
