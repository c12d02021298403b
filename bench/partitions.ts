// npx tsx bench/partitions.ts [--rows 3000000] [--partitions 12] [--pg 15|17]: issue 17 item 6, report only (never a
// timed test). The same rows migrated twice, each in a fresh database: in one table, and in a table range-partitioned
// by month into N partitions. Prints the time of backup + migrate (the script) and of the whole run side by side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer, type PgMajor } from '../test/support/embedded-server';
import { Migration } from '../src/engine/migration';
import { resolveSpec } from '../src/engine/migration-spec/load';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 3_000_000);
const PARTITIONS = arg('partitions', 12);
const MAJOR = arg('pg', 17) as PgMajor;

function schema(partitioned: boolean): string {
  const table = `CREATE TABLE readings (id bigint NOT NULL, device_id int NOT NULL, taken_on date NOT NULL, value float8 NOT NULL, PRIMARY KEY (id, taken_on))`;
  const parts = Array.from({ length: PARTITIONS }, (_, i) => {
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
INSERT INTO readings SELECT i, 1 + i % 10000, date '2025-01-01' + (i % (${PARTITIONS} * 30)), random() FROM generate_series(1, ${ROWS}) i;`;
}

async function measure(url: string, partitioned: boolean): Promise<{ migrateMs: number; runMs: number }> {
  const client = new pg.Client(url);
  await client.connect();
  await client.query(schema(partitioned));
  await client.query('VACUUM ANALYZE');
  await client.end();
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
  const m = await Migration.connect({ database: url, spec });
  try {
    const started = performance.now();
    for (const step of [() => m.prerequisites(), () => m.backup()]) await step();
    const migrateStarted = performance.now();
    const migrated = await m.migrate();
    const migrateMs = performance.now() - migrateStarted;
    if (migrated.status !== 'done') throw new Error(`migrate: ${migrated.summary}`);
    const validated = await m.validate();
    if (validated.status === 'failed')
      throw new Error(`validate: ${JSON.stringify(validated.checks.filter((c) => !c.ok))}`);
    return { migrateMs, runMs: performance.now() - started };
  } finally {
    await m.close();
  }
}

(async () => {
  const log = fs.createWriteStream(path.join(os.tmpdir(), 'tm-bench-partitions.log'));
  const server = await startEmbeddedServer(MAJOR, (line) => log.write(line));
  try {
    const results: Record<string, { migrateMs: number; runMs: number }> = {};
    for (const [label, partitioned] of [
      ['unpartitioned', false],
      [`${PARTITIONS} partitions`, true],
    ] as const) {
      const database = `bench_part_${partitioned ? 'p' : 'u'}`;
      const admin = new pg.Client(server.adminUrl);
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.end();
      results[label] = await measure(server.urlFor(database), partitioned);
      console.log(
        `${label}: migrate ${(results[label].migrateMs / 1000).toFixed(1)} s; prerequisites + backup + migrate + validate ${(results[label].runMs / 1000).toFixed(1)} s`,
      );
    }
    console.log(
      `PostgreSQL ${MAJOR}, ${ROWS} rows, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await server.stop();
  }
})();
