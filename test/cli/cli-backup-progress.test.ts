// The backup step reports its progress as the migrate step does: per table, rows done of the total, a percentage and
// the time left, with thousands separators; a partitioned table reports each of its partitions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildCli, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';

const PROGRESS = /^ {2}(\S+) \[[#.]+\] (\d+)% ([\d,]+)\/([\d,]+) rows(?:, (.+) left)?$/;
const count = (text: string) => Number(text.replace(/,/g, ''));

describe('CLI: backup progress', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    await buildCli();
    db = await createTestDatabase({ seed: { orgs: 5, users: 200, credentials: 1_500, reports: 24_000, layouts: 100 } });
    await db.client.query(fs.readFileSync(path.join(__dirname, '../fixtures/partitioned-schema.sql'), 'utf8'));
    // Exact statistics: the totals shown before the end are the table's statistics.
    await db.client.query('VACUUM ANALYZE');
  });
  after(async () => {
    ws?.remove();
    await db?.drop();
  });

  it('shows rows done of the total while each table is copied, then the exact count', async () => {
    ws = new Workspace(
      legacySpec({
        batchSize: 1_000,
        tables: [
          ...GUIDE_SPEC.tables,
          { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
          { name: 'usage_records', orgFrom: { mapping: { column: 'credential_id' } } },
        ],
      }),
    );
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['backup', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr
      .split('\n')
      .filter((l) => PROGRESS.test(l))
      .map((l) => {
        const [, table, percent, done, total] = PROGRESS.exec(l)!;
        return { table: table!, percent: Number(percent), done: count(done!), total: count(total!), text: l };
      });
    const reports = lines.filter((l) => l.table === 'public.reports');
    assert.ok(reports.length >= 3, `several progress lines for reports:\n${r.stderr}`);
    assert.ok(
      reports.some((l) => l.percent > 0 && l.percent < 100 && l.done > 0 && l.done < 24_000),
      `an intermediate line:\n${r.stderr}`,
    );
    for (const l of reports) assert.equal(l.total, 24_000, l.text);
    assert.equal(reports.at(-1)!.percent, 100);
    assert.equal(reports.at(-1)!.done, 24_000);
    assert.ok(
      reports.every((l) => l.text.includes('/24,000 rows')),
      'thousands separators',
    );
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.done > reports[i - 1]!.done, 'rows done grow');
    // Each leaf partition of a partitioned table is copied (and reported) on its own; the parent has no pages.
    const leaves = new Map<string, number>();
    for (const l of lines) leaves.set(l.table, l.done);
    const { rows } = await db.client.query<{ relname: string; n: string }>(
      `SELECT tableoid::regclass::text AS relname, count(*) AS n FROM events GROUP BY 1`,
    );
    assert.equal(rows.length, 3);
    for (const leaf of rows)
      assert.equal(leaves.get(`public.${leaf.relname}`), Number(leaf.n), `${leaf.relname}: its final count`);
    assert.doesNotMatch(r.stderr + r.stdout, /\(s\)/);
    // The backups hold every row, and say so with separators.
    assert.match(r.stderr, /^✔ Back up \([^)]*, 31,000 rows\) 5 backups, 31,000 rows$/m);
    const backups = (
      await db.client.query<{ table_name: string; row_count: string }>(
        `SELECT table_name, row_count FROM tenant_migration.backups`,
      )
    ).rows;
    const events = (await db.client.query<{ n: string }>(`SELECT count(*) AS n FROM events`)).rows[0]!.n;
    assert.equal(backups.find((b) => b.table_name === 'events')!.row_count, events);
    assert.equal(backups.find((b) => b.table_name === 'reports')!.row_count, '24000');
  });
});
