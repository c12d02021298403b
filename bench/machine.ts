// The machine the numbers were measured on.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type pg from 'pg';

export interface Machine {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
  readonly settings: string;
  /** The commit measured, and whether src/engine differs from it in the working tree. */
  readonly revision: string;
}

/** The machine without a database server (for what runs in VS Code); `changed` is the folder whose edits are noted. */
export function describeHost(changed = 'src/engine'): Omit<Machine, 'postgres' | 'settings'> {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    revision: revision(changed),
  };
}

export async function describeMachine(client: pg.Client): Promise<Machine> {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const version = (await client.query('SELECT version() AS v')).rows[0].v as string;
  const settings = (
    await client.query(`SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) AS s FROM pg_settings
     WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_wal_size', 'fsync', 'synchronous_commit', 'full_page_writes', 'autovacuum', 'max_parallel_workers_per_gather', 'max_parallel_maintenance_workers')`)
  ).rows[0].s as string;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: version.split(',')[0]!,
    settings,
    revision: revision(),
  };
}

function revision(changed = 'src/engine'): string {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'not a git checkout';
  const dirty = git('status', '--porcelain', '--', changed).stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ` + uncommitted changes in ${changed}` : ''}`;
}
