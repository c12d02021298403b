// (b) The engine's generated migration, run through the engine as the CLI's `migrate` does (backups included):
// Migration.connect → migrate() → close. Per-statement timings and per-batch progress come from its events.
// --engine-entry script runs the same generated script through the engine's own runner (runScript, as migrate()
// does) without migrate()'s refusal checks before it (the mapping-gap queries, also timed by the preview).
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Session } from '../src/engine/db/session';
import { runScript } from '../src/engine/execute/runner';
import { Migration } from '../src/engine/migration';
import { resolveModel } from '../src/engine/model';
import { generateScript } from '../src/engine/script/generate';
import { resolveSpec } from '../src/engine/migration-spec/load';
import { ensureStateSchema } from '../src/engine/state';
import type { EngineEvent } from '../src/engine/events';
import { legacySpec } from '../test/fixtures/legacy-data';
import { MigrationCpu } from './cpu';
import type { StatementTiming } from './timeline';

export interface EngineOptions {
  readonly batchSize?: number;
  readonly lockTimeoutMs?: number;
  /** Run this script file instead of generating one (a prototype of a changed script). */
  readonly scriptFile?: string;
  /** migrate(): the CLI's path; run: the whole `tenant-migrate run` (prerequisites … report); script: the engine's runner on the script, without the refusal checks before it. */
  readonly entry?: EngineEntry;
  /** Cancel the engine when its script has not started after this long (the refusal checks never finishing). */
  readonly beforeScriptTimeoutMs?: number;
}

export type EngineEntry = 'migrate' | 'run' | 'script';

export interface BatchStats {
  readonly table: string;
  readonly batches: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Batches that took more than 250 ms (each holds its rows' locks that long). */
  readonly over250: number;
}

export interface EngineRun {
  readonly ok: boolean;
  readonly error?: string;
  readonly statements: StatementTiming[];
  /** From connect to the first statement of the script: the refusal checks (mapping gaps), the run record. */
  readonly beforeScriptMs: number;
  readonly batches: BatchStats[];
  readonly retries: number;
  readonly script: string;
  /** CPU time of the engine's server backend (read before the session closes). */
  readonly backendCpuMs?: number;
  /** With entry run: each step's time, as the engine reports it. */
  readonly steps: { step: string; ms: number; status: string }[];
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export function specFor(folder: string, options: EngineOptions): string {
  fs.mkdirSync(path.join(folder, 'scripts'), { recursive: true });
  const overrides: Record<string, unknown> = {};
  if (options.batchSize) overrides.batchSize = options.batchSize;
  if (options.lockTimeoutMs) overrides.lockTimeoutMs = options.lockTimeoutMs;
  const file = path.join(folder, 'tenant-migration.json');
  fs.writeFileSync(file, JSON.stringify(legacySpec(overrides), null, 2));
  const script = path.join(folder, 'scripts', 'migrate_to_multitenant.sql');
  fs.rmSync(script, { force: true });
  if (options.scriptFile) fs.copyFileSync(options.scriptFile, script);
  return file;
}

export async function runEngine(url: string, folder: string, options: EngineOptions): Promise<EngineRun> {
  const specFile = specFor(folder, options);
  const spec = resolveSpec(JSON.parse(fs.readFileSync(specFile, 'utf8')), specFile);
  const statements: StatementTiming[] = [];
  const open = new Map<number, { phase: string; sql: string; startEpochMs: number }>();
  const progressAt = new Map<string, number[]>();
  let firstStatementAt: number | undefined;
  let retries = 0;
  const steps: EngineRun['steps'] = [];
  const onEvent = (e: EngineEvent) => {
    if (e.type === 'step-finished') steps.push({ step: e.step, ms: e.durationMs, status: e.status });
    if (e.type === 'statement-started') {
      firstStatementAt ??= performance.now();
      open.set(e.index, { phase: e.phase ?? '(none)', sql: e.sql, startEpochMs: Date.now() });
    } else if (e.type === 'statement-finished') {
      const s = open.get(e.index);
      if (s && e.outcome !== 'skipped') statements.push({ ...s, durationMs: e.durationMs, ok: e.outcome === 'ok' });
      open.delete(e.index);
    } else if (e.type === 'progress') {
      const list = progressAt.get(e.progress.table) ?? [];
      list.push(performance.now());
      progressAt.set(e.progress.table, list);
    } else if (e.type === 'retry') {
      retries++;
    }
  };
  const started = performance.now();
  let ok = true;
  let error: string | undefined;
  let timedOut = false;
  let cpuMs: number | undefined;
  // Every backend of the migration: the step's session, the lanes' second one, validation's readers.
  const cpu = new MigrationCpu(url);
  const guard = setTimeout(() => {
    if (firstStatementAt !== undefined) return;
    timedOut = true;
    cancelEngine(url).catch(() => undefined);
  }, options.beforeScriptTimeoutMs ?? 600_000);
  try {
    if ((options.entry ?? 'migrate') !== 'script') {
      const migration = await Migration.connect({
        database: url,
        spec,
        onEvent,
        workFolder: path.join(folder, '.tenant-migration'),
      });
      await cpu.start();
      try {
        if (options.entry === 'run') {
          const result = await migration.runAll();
          if (!result.ok) throw new Error(result.error?.oneLine ?? 'the run failed');
        } else {
          await migration.migrate();
        }
      } finally {
        cpuMs = await cpu.stop();
        await migration.close();
      }
    } else {
      const session = await Session.open(url, { lockTimeoutMs: spec.spec.lockTimeoutMs });
      await cpu.start();
      try {
        await session.query('SET row_security = off');
        await ensureStateSchema(session);
        const text = options.scriptFile
          ? fs.readFileSync(options.scriptFile, 'utf8')
          : generateScript(await resolveModel(session, spec));
        fs.writeFileSync(spec.scriptPath, text);
        await runScript(text, { session, step: 'migrate', onEvent });
      } finally {
        cpuMs = await cpu.stop();
        await session.close();
      }
    }
  } catch (e) {
    ok = false;
    error = timedOut
      ? `the script had not started after ${((options.beforeScriptTimeoutMs ?? 600_000) / 1000).toFixed(0)} s (migrate()'s refusal checks: the mapping-gap queries), cancelled`
      : (e as Error).message;
  } finally {
    clearTimeout(guard);
  }
  const script = fs.existsSync(spec.scriptPath) ? fs.readFileSync(spec.scriptPath, 'utf8') : '';
  const batches: BatchStats[] = [...progressAt].map(([table, times]) => {
    const gaps = times
      .slice(1)
      .map((t, i) => t - times[i]!)
      .sort((a, b) => a - b);
    return {
      table,
      batches: times.length,
      p50Ms: quantile(gaps, 0.5),
      p99Ms: quantile(gaps, 0.99),
      maxMs: gaps.at(-1) ?? 0,
      over250: gaps.filter((g) => g > 250).length,
    };
  });
  return {
    ok,
    error,
    statements,
    beforeScriptMs: (firstStatementAt ?? performance.now()) - started,
    batches,
    retries,
    script,
    backendCpuMs: cpuMs,
    steps,
  };
}

/** Cancels the engine's running query (its sessions are named tenant-migration). */
async function cancelEngine(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-runner' });
  client.on('error', () => {
    /* best effort */
  });
  await client.connect();
  try {
    await client.query(
      `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tenant-migration%'`,
    );
  } finally {
    await client.end();
  }
}
