// One scenario on a fresh copy of the dataset: the lock monitor always, the writer when asked, the migration
// (naive or engine), then the writer stopped and the rows without an org counted.
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startMonitor, startWriter } from './children';
import { copyOf, dropDatabase, type Server, type Template } from './dataset';
import { runEngine, type BatchStats, type EngineOptions, type EngineRun } from './engine';
import { sampleMemory, type MemoryStats } from './memory';
import { runNaive } from './naive';
import type { LockWait } from './protocol';
import { describeStatement, phaseTotals, runningAt, type PhaseTotal, type StatementTiming } from './timeline';
import { countWithoutOrg, type OrgCounts } from './verify';
import { tableSizes, type TableSizes } from './sizes';

/** idle: no migration at all, the writer alone for --idle-seconds: the machine's own latency, as a control. */
export type Kind = 'naive' | 'engine' | 'idle';

export interface WriterStats {
  readonly ops: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The slowest ops and the statement of the migration that was running when each was due. */
  readonly worst: { latencyMs: number; queuedMs: number; atS: number; during: string }[];
  readonly errors: { message: string; count: number }[];
}

export interface ScenarioResult {
  readonly name: string;
  readonly round?: number;
  readonly variant?: string;
  readonly kind: Kind;
  readonly writer: boolean;
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs: number;
  /** CPU time of the migration's own server backend (noise from other work on the machine barely moves it). */
  readonly backendCpuMs?: number;
  readonly writerStats?: WriterStats;
  readonly lockWaits: LockWait[];
  /** The lock monitor's own health: how often it looked, its slowest look, its errors. */
  readonly monitor: { samples: number; maxSampleMs: number; errors: number; lastError: string };
  readonly counts: OrgCounts;
  /** The three migrated tables' total size (pg_total_relation_size) before and after. */
  readonly sizes: { before: TableSizes; after: TableSizes };
  readonly memory: MemoryStats;
  /** The machine's 1-minute load average when the scenario started and ended (other work on it skews the times). */
  readonly load: [number, number];
  readonly statements: StatementTiming[];
  readonly phases: PhaseTotal[];
  readonly beforeScriptMs?: number;
  readonly batches?: BatchStats[];
  readonly retries?: number;
  readonly script?: string;
  /** engine:run — each step's time. */
  readonly steps?: EngineRun['steps'];
}

export interface ScenarioOptions {
  readonly kind: Kind;
  readonly writer: boolean;
  /** Which repetition this is (--repeat), for the label. */
  readonly round?: number;
  /** engine:NAME — the engine's runner on another script (a prototype). */
  readonly variant?: string;
  readonly rate: number;
  readonly engine: EngineOptions;
  readonly workFolder: string;
  readonly keep: boolean;
  readonly idleSeconds?: number;
  readonly log: (line: string) => void;
}

const WARM_UP_MS = 1000;
const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

export async function runScenario(
  server: Server,
  template: Template,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const name = `${options.kind}${options.variant ? `[${options.variant}]` : ''}${options.writer ? ' + writer' : ''}${options.round ? ` #${options.round}` : ''}`;
  const database = `bench_${options.kind}${options.variant ? `_${options.variant.replace(/\W+/g, '_').toLowerCase().slice(0, 30)}` : ''}${options.writer ? '_writer' : ''}`;
  const url = await copyOf(server, template, database);
  const sizesBefore = await withClient(url, tableSizes);
  const monitor = await startMonitor(url);
  const writer = options.writer ? await startWriter(url, options.rate, template.size.credentials) : undefined;
  if (writer) await new Promise((r) => setTimeout(r, WARM_UP_MS));
  options.log(`  ${name}: running on a fresh copy (${database})${writer ? `, writer at ${options.rate} ops/s` : ''}…`);
  const loadStart = os.loadavg()[0]!;
  const memory = sampleMemory();
  const startedEpoch = Date.now();
  const started = performance.now();
  let run: {
    ok: boolean;
    error?: string;
    statements: StatementTiming[];
    backendCpuMs?: number;
    beforeScriptMs?: number;
    batches?: BatchStats[];
    retries?: number;
    script?: string;
    steps?: EngineRun['steps'];
  };
  if (options.kind === 'naive') {
    run = await runNaive(url);
  } else if (options.kind === 'idle') {
    await new Promise((r) => setTimeout(r, 1000 * (options.idleSeconds ?? 60)));
    run = { ok: true, statements: [] };
  } else {
    run = await runEngine(url, path.join(options.workFolder, database), options.engine);
  }
  const wallMs = performance.now() - started;
  const mem = memory.stop();
  const writerReport = await writer?.stop();
  const monitorReport = await monitor.stop();

  const { counts, sizesAfter } = await withClient(url, async (c) => ({
    counts: await countWithoutOrg(c),
    sizesAfter: await tableSizes(c),
  }));
  if (!options.keep) await dropDatabase(server, database);

  let writerStats: WriterStats | undefined;
  if (writerReport) {
    const during = writerReport.ops.filter((o) => o.dueEpochMs >= startedEpoch);
    const latencies = during.map((o) => o.latencyMs).sort((a, b) => a - b);
    const worst = [...during]
      .sort((a, b) => b.latencyMs - a.latencyMs)
      .slice(0, 5)
      .map((o) => {
        const s = runningAt(run.statements, o.dueEpochMs);
        return {
          latencyMs: Math.round(o.latencyMs),
          queuedMs: Math.round(o.queuedMs ?? 0),
          atS: Math.round((o.dueEpochMs - startedEpoch) / 100) / 10,
          during: s ? `${s.phase}: ${describeStatement(s.sql)}` : '(between statements)',
        };
      });
    writerStats = {
      ops: writerReport.ops.length,
      failed: writerReport.ops.filter((o) => !o.ok).length,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? 0,
      worst,
      errors: writerReport.errors,
    };
  }
  const result: ScenarioResult = {
    name,
    round: options.round,
    variant: options.variant,
    kind: options.kind,
    writer: options.writer,
    ok: run.ok,
    error: run.error,
    wallMs,
    backendCpuMs: run.backendCpuMs,
    writerStats,
    lockWaits: monitorReport.longest.sort((a, b) => b.waitMs - a.waitMs),
    monitor: {
      samples: monitorReport.samples,
      maxSampleMs: monitorReport.maxSampleMs,
      errors: monitorReport.errors,
      lastError: monitorReport.lastError,
    },
    counts,
    sizes: { before: sizesBefore, after: sizesAfter },
    memory: mem,
    load: [loadStart, os.loadavg()[0]!],
    statements: run.statements,
    phases: phaseTotals(run.statements),
    beforeScriptMs: run.beforeScriptMs,
    batches: run.batches,
    retries: run.retries,
    script: run.script,
    steps: run.steps,
  };
  options.log(
    `  ${name}: ${result.ok ? 'ok' : `FAILED (${result.error})`} in ${(wallMs / 1000).toFixed(1)} s` +
      (writerStats
        ? `; writer p99 ${writerStats.p99Ms.toFixed(0)} ms, worst ${writerStats.maxMs.toFixed(0)} ms, ${writerStats.failed} failed`
        : '') +
      `; rows without org ${counts.withoutOrg}; tables ${(sizesAfter.total / sizesBefore.total).toFixed(2)}× their size before (${Object.keys(
        sizesAfter.bytes,
      )
        .map((t) => `${t} ${(sizesAfter.bytes[t]! / sizesBefore.bytes[t]!).toFixed(2)}×`)
        .join(', ')}); load ${result.load.map((l) => l.toFixed(1)).join(' → ')}`,
  );
  return result;
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-runner' });
  client.on('error', () => {
    /* surfaces as the next query's error */
  });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
