// Issue 17 target 6: a table in N partitions migrates no slower than the same rows in one table. Each case is built
// once into a template database (the same rows, in one table and range-partitioned by month), then migrated on fresh
// copies alternately (A B A B …), so the machine's load moves both alike; medians of wall and server CPU compared.
// Part of npm run bench (--no-partitions leaves it out); alone: npx tsx bench/partitions.ts [--rows 3000000]
// [--partitions 12] [--rounds 3] [--pg 15|17].
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedServer, type PgMajor } from '../test/support/embedded-server';
import { Migration } from '../src/engine/migration';
import { resolveSpec } from '../src/engine/migration-spec/load';
import type { EngineEvent } from '../src/engine/events';
import { MigrationCpu } from './cpu';
import { admin, copyOf, dropDatabase, type Server, type Template } from './dataset';
import { statementKind } from './partitions-kinds';
import { median } from './report-format';

/** 3M rows in 12 partitions at --scale 1, as the issue says. */
export const PARTITION_ROWS = 3_000_000;
export const PARTITION_COUNT = 12;

export interface PartitionRun {
  readonly partitioned: boolean;
  readonly ok: boolean;
  readonly error?: string;
  /** migrate() alone, and prerequisites + backup + migrate + validate. */
  readonly migrateMs: number;
  readonly runMs: number;
  /** CPU of the engine's server backend during migrate() (other work on the machine barely moves it). */
  readonly cpuMs?: number;
  /** Time in migrate() by kind of statement (backfill, VACUUM, REINDEX, index builds, …). */
  /** Wall time by kind of statement (two lanes' statements overlap: their sum can exceed the migration's). */
  readonly kinds: Record<string, { ms: number; statements: number }>;
  /** Backfill batches (the engine's progress notices). */
  readonly batches: number;
  readonly withoutOrg: number;
  /** The table's total size (heap, indexes, every partition) after / before. */
  readonly sizeRatio: number;
  readonly load: [number, number];
}

export interface PartitionsResult {
  readonly rows: number;
  readonly partitions: number;
  readonly runs: PartitionRun[];
}

function schema(rows: number, partitions: number, partitioned: boolean): string {
  const table = `CREATE TABLE readings (id bigint NOT NULL, device_id int NOT NULL, taken_on date NOT NULL, value float8 NOT NULL, PRIMARY KEY (id, taken_on))`;
  const parts = Array.from({ length: partitions }, (_, i) => {
    const from = new Date(Date.UTC(2025, i, 1)).toISOString().slice(0, 10);
    const to = new Date(Date.UTC(2025, i + 1, 1)).toISOString().slice(0, 10);
    return `CREATE TABLE readings_${i + 1} PARTITION OF readings FOR VALUES FROM ('${from}') TO ('${to}');`;
  });
  return `CREATE TABLE orgs (id int PRIMARY KEY);
INSERT INTO orgs SELECT generate_series(0, 200);
CREATE TABLE device_orgs (device_id int, org_id int);
INSERT INTO device_orgs SELECT d, 1 + d % 200 FROM generate_series(1, 9000) d;
CREATE INDEX ON device_orgs (device_id);
${partitioned ? `${table} PARTITION BY RANGE (taken_on);\n${parts.join('\n')}` : `${table};`}
INSERT INTO readings SELECT i, 1 + i % 10000, date '2025-01-01' + (i % (${partitions} * 28)), random() FROM generate_series(1, ${rows}) i;`;
}

async function template(server: Server, rows: number, partitions: number, partitioned: boolean): Promise<Template> {
  const name = `bench_tpl_readings_${rows}_${partitioned ? partitions : 1}`;
  const started = performance.now();
  await admin(server, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  await admin(
    server,
    async (c) => {
      await c.query(schema(rows, partitions, partitioned));
      await c.query('VACUUM (ANALYZE)');
    },
    name,
  );
  const size = { orgs: 200, users: 0, credentials: 0, reports: rows, layouts: 0 };
  return { name, size, bytes: 0, buildMs: performance.now() - started, reused: false };
}

const tableBytes = async (url: string) =>
  admin({ adminUrl: url, urlFor: () => url, stop: async () => {} }, async (c) =>
    Number(
      (
        await c.query(
          `SELECT (pg_total_relation_size('readings') + coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('readings') WHERE level > 0), 0))::text AS b`,
        )
      ).rows[0].b,
    ),
  );

async function migrateOnce(url: string, partitioned: boolean): Promise<PartitionRun> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-bench-part-'));
  const spec = resolveSpec(
    {
      orgs: { table: 'orgs', idColumn: 'id' },
      defaultOrgId: 0,
      mapping: { table: 'device_orgs', keyColumn: 'device_id', orgColumn: 'org_id' },
      tables: [{ name: 'readings', orgFrom: { mapping: { column: 'device_id' } } }],
      tenantContext: { kind: 'setting', name: 'app.current_org_id' },
    },
    path.join(folder, 'tenant-migration.json'),
  );
  const kinds: PartitionRun['kinds'] = {};
  const open = new Map<number, string>();
  let batches = 0;
  let firstStatement: number | undefined;
  const onEvent = (e: EngineEvent) => {
    if (e.type === 'progress' && e.step === 'migrate') batches++;
    if (e.type === 'statement-started' && e.step === 'migrate' && firstStatement === undefined)
      firstStatement = performance.now();
    if (e.type === 'statement-started' && e.step === 'migrate') open.set(e.index, statementKind(e.sql));
    const started = e.type === 'statement-finished' ? open.get(e.index) : undefined;
    if (e.type === 'statement-finished' && started) {
      const k = (kinds[started] ??= { ms: 0, statements: 0 });
      k.ms += e.durationMs;
      k.statements++;
      open.delete(e.index);
    }
  };
  const before = await tableBytes(url);
  const loadStart = os.loadavg()[0]!;
  const m = await Migration.connect({ database: url, spec, onEvent, workFolder: path.join(folder, '.tm') });
  // Every session of the migration: the step's and the lanes' second one.
  const cpu = new MigrationCpu(url);
  let cpuMs: number | undefined;
  let migrateMs = 0;
  let error: string | undefined;
  const started = performance.now();
  try {
    for (const step of [() => m.prerequisites(), () => m.backup()]) await step();
    const migrateStarted = performance.now();
    await cpu.start();
    const migrated = await m.migrate();
    cpuMs = await cpu.stop();
    migrateMs = performance.now() - migrateStarted;
    kinds['before the script'] = { ms: (firstStatement ?? migrateStarted) - migrateStarted, statements: 0 };
    if (migrated.status !== 'done') throw new Error(`migrate: ${migrated.summary}`);
    const validated = await m.validate();
    if (validated.status === 'failed')
      throw new Error(`validate: ${JSON.stringify(validated.checks.filter((c) => !c.ok))}`);
  } catch (e) {
    error = (e as Error).message;
    await cpu.stop(); // a failed migrate stops the sampling too
  }
  const runMs = performance.now() - started;
  await m.close();
  fs.rmSync(folder, { recursive: true, force: true });
  const withoutOrg = await admin({ adminUrl: url, urlFor: () => url, stop: async () => {} }, async (c) =>
    Number((await c.query(`SELECT count(*) AS n FROM readings WHERE org_id IS NULL`)).rows[0].n),
  ).catch(() => -1);
  return {
    partitioned,
    ok: error === undefined && withoutOrg === 0,
    error,
    migrateMs,
    runMs,
    cpuMs,
    kinds,
    batches,
    withoutOrg,
    sizeRatio: (await tableBytes(url)) / before,
    load: [loadStart, os.loadavg()[0]!],
  };
}

/** Both cases built once, then migrated alternately on fresh copies, `rounds` times each. */
export async function benchPartitions(
  server: Server,
  o: { rows: number; partitions: number; rounds: number; log: (line: string) => void },
): Promise<PartitionsResult> {
  o.log(`partitions: ${o.rows} rows, in one table and in ${o.partitions} partitions — building both templates…`);
  const templates = [
    await template(server, o.rows, o.partitions, false),
    await template(server, o.rows, o.partitions, true),
  ];
  const runs: PartitionRun[] = [];
  try {
    for (let round = 1; round <= o.rounds; round++) {
      for (const [i, tpl] of templates.entries()) {
        const database = `bench_readings_${i ? 'p' : 'u'}`;
        const run = await migrateOnce(await copyOf(server, tpl, database), i === 1);
        await dropDatabase(server, database);
        runs.push(run);
        o.log(
          `  ${i ? `${o.partitions} partitions` : 'one table'} #${round}: ${run.ok ? 'ok' : `FAILED (${run.error ?? `${run.withoutOrg} rows without org`})`}; migrate ${(run.migrateMs / 1000).toFixed(1)} s, run ${(run.runMs / 1000).toFixed(1)} s, server CPU ${((run.cpuMs ?? 0) / 1000).toFixed(1)} s, ${run.batches} batches; ${run.sizeRatio.toFixed(2)}× its size; load ${run.load.map((l) => l.toFixed(1)).join(' → ')}`,
        );
      }
    }
  } finally {
    for (const tpl of templates) await dropDatabase(server, tpl.name);
  }
  return { rows: o.rows, partitions: o.partitions, runs };
}

/** The medians of one case's successful runs. */
export function partitionMedians(r: PartitionsResult, partitioned: boolean) {
  const runs = r.runs.filter((x) => x.partitioned === partitioned && x.ok);
  const of = (f: (x: PartitionRun) => number | undefined) =>
    median(runs.map(f).filter((v): v is number => v !== undefined));
  return {
    runs: runs.length,
    failed: r.runs.filter((x) => x.partitioned === partitioned && !x.ok).length,
    migrateMs: of((x) => x.migrateMs),
    runMs: of((x) => x.runMs),
    cpuMs: of((x) => x.cpuMs),
    sizeRatio: runs.length ? Math.max(...runs.map((x) => x.sizeRatio)) : undefined,
    kinds: Object.fromEntries(
      [...new Set(runs.flatMap((x) => Object.keys(x.kinds)))].map((k) => [k, { ms: of((x) => x.kinds[k]?.ms ?? 0)! }]),
    ),
  };
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  (async () => {
    const major = arg('pg', 17) as PgMajor;
    const log = fs.createWriteStream(path.join(os.tmpdir(), 'tm-bench-partitions.log'));
    const server = await startEmbeddedServer(major, (line) => log.write(line));
    try {
      const result = await benchPartitions(server, {
        rows: arg('rows', PARTITION_ROWS),
        partitions: arg('partitions', PARTITION_COUNT),
        rounds: arg('rounds', 3),
        log: console.log,
      });
      for (const partitioned of [false, true]) {
        const m = partitionMedians(result, partitioned);
        const k = Object.entries(m.kinds)
          .sort((a, b) => b[1].ms - a[1].ms)
          .map(([name, v]) => `${name} ${(v.ms / 1000).toFixed(1)}`)
          .join(', ');
        console.log(
          `${partitioned ? `${result.partitions} partitions` : 'one table'} (medians of ${m.runs}): migrate ${((m.migrateMs ?? 0) / 1000).toFixed(1)} s, run ${((m.runMs ?? 0) / 1000).toFixed(1)} s, CPU ${((m.cpuMs ?? 0) / 1000).toFixed(1)} s; ${k}`,
        );
      }
      console.log(
        `PostgreSQL ${major}, ${result.rows} rows, load ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      );
      fs.writeFileSync(path.join(os.tmpdir(), 'tm-bench-partitions.json'), JSON.stringify(result, null, 1));
    } finally {
      await server.stop();
    }
  })();
}
