// CPU time of a server backend process (utime + stime from /proc/<pid>/stat), when the server runs on this machine.
// Unlike wall time it barely moves when other work shares the machine, so it compares the migrations' own work.
// Parallel workers and autovacuum are other processes: not counted (MigrationCpu adds the migration's other sessions).
import fs from 'node:fs';
import pg from 'pg';

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

/**
 * The CPU time of every server backend of the migration (application_name tenant-migration…: the step's session, the
 * lanes' second session, validation's readers), sampled every `everyMs` while it runs: a session that ends between
 * two samples loses at most that long of its CPU time. A backend there at the start counts from then.
 */
export class MigrationCpu {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer?: ReturnType<typeof setInterval>;
  private client?: pg.Client;
  private first = true;

  constructor(
    private readonly url: string,
    private readonly everyMs = 100,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url, application_name: 'bench-cpu' });
    this.client.on('error', () => undefined);
    await this.client.connect();
    await this.sample();
    this.first = false;
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.everyMs);
  }

  /** Stops sampling; the CPU time of the backends seen, in ms (undefined when the server is not on this machine). */
  async stop(): Promise<number | undefined> {
    clearInterval(this.timer);
    await this.sample().catch(() => undefined);
    await this.client?.end().catch(() => undefined);
    if (this.last.size === 0) return undefined;
    let total = 0;
    for (const [pid, cpu] of this.last) total += cpu - (this.base.get(pid) ?? 0);
    return total;
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client!.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tenant-migration%'`,
    );
    for (const { pid } of rows) {
      const cpu = backendCpuMs(pid);
      if (cpu === undefined) continue;
      if (this.first) this.base.set(pid, cpu);
      this.last.set(pid, cpu);
    }
  }
}
