// Partitioned tables migrated through their parents: the plan, every partition's org column, constraints and RLS, a
// second run and psql -f, rollback exact (the tables and spec: ./support/partitions).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { schemaFingerprint, tableDigest } from '../support/fingerprint';
import { DEFAULT_ORG_ID } from '../fixtures/legacy-data';
import {
  addPartitionedTables,
  ALL_PARTITIONS,
  LEAVES,
  org,
  PARTITIONED,
  partitionedData,
  rowVersions,
  usePartitionedDatabase,
} from './support/partitions';

describe(`partitioned tables (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  let ws: Workspace;
  usePartitionedDatabase((d, w) => {
    db = d;
    ws = w;
  });

  it('the plan sums rows and bytes over the partitions and says what happens to them', async () => {
    const { plan, checks } = await withMigration(db.url, ws, async (m) => ({
      plan: await m.plan(),
      checks: (await m.prerequisites()).checks,
    }));
    const events = plan.tables.find((t) => t.table === 'public.events')!;
    const usage = plan.tables.find((t) => t.table === 'public.usage_records')!;
    assert.equal(events.estimatedRows, 3000);
    assert.equal(usage.estimatedRows, 2400);
    const leafBytes = Number(
      (
        await db.client.query(
          `SELECT sum(pg_total_relation_size(relid))::text AS b FROM pg_partition_tree('usage_records')`,
        )
      ).rows[0].b,
    );
    assert.equal(usage.totalBytes, leafBytes);
    assert.ok(leafBytes > 0);
    const partitions = checks.find((c) => c.name === 'public.usage_records: partitions')!;
    assert.ok(partitions.ok);
    assert.match(partitions.detail, /7 partitions, 5 holding rows/);
  });

  it('migrates: every row has its org, NOT NULL, foreign keys and the index on the parents and every partition, RLS on every partition', async () => {
    const before = await partitionedData(db.client);
    await withMigration(db.url, ws, async (m) => {
      const result = await m.runAll();
      assert.ok(result.ok, result.error?.oneLine);
    });
    assert.deepEqual(await partitionedData(db.client), before, 'a legacy column changed');
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM events WHERE org_id IS NULL) + (SELECT count(*)::int FROM usage_records WHERE org_id IS NULL) AS nulls,
      (SELECT count(*)::int FROM events e JOIN credentials c ON c.id = e.credential_id WHERE e.org_id <> c.org_id) AS wrong_parent,
      (SELECT count(*)::int FROM usage_records u JOIN tenant_credentials t ON t.credential_id = u.credential_id WHERE u.org_id <> t.org_id) AS wrong_mapping,
      (SELECT count(*)::int FROM events WHERE credential_id IS NULL AND org_id <> '${DEFAULT_ORG_ID}') AS wrong_default`);
    assert.deepEqual(rows[0], { nulls: 0, wrong_parent: 0, wrong_mapping: 0, wrong_default: 0 });
    for (const t of [...PARTITIONED, ...ALL_PARTITIONS]) {
      const {
        rows: [r],
      } = await db.client.query(
        `SELECT
          (SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'org_id') AS not_null,
          (SELECT bool_and(convalidated) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND confrelid = 'orgs'::regclass) AS fk,
          (SELECT count(*)::int FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND confrelid = 'orgs'::regclass) AS fks,
          (SELECT count(*)::int FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c') AS checks_left,
          (SELECT bool_and(i.indisvalid) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass AND a.attname = 'org_id') AS index_valid,
          (SELECT relrowsecurity FROM pg_class WHERE oid = $1::regclass) AS rls,
          (SELECT count(*)::int FROM pg_policy WHERE polrelid = $1::regclass AND polname LIKE 'tenant_migration_%') AS policies,
          has_table_privilege('authenticated', $1::regclass, 'SELECT') OR has_table_privilege('anon', $1::regclass, 'SELECT') AS tenant_can_read`,
        [t],
      );
      const partition = t !== 'events' && t !== 'usage_records';
      assert.deepEqual(
        r,
        {
          not_null: true,
          fk: true,
          fks: 1,
          checks_left: 0,
          index_valid: true,
          rls: true,
          policies: 2,
          tenant_can_read: !partition,
        },
        t,
      );
    }
    // Each leaf's index is attached to its level's, up to the parent's (sub-partitions: two levels).
    const attached = (
      await db.client.query(
        `SELECT count(*)::int AS n FROM pg_partition_tree('usage_records_org_id_idx') WHERE level > 0`,
      )
    ).rows[0].n;
    assert.equal(attached, 7);
    const backfilled = (
      await db.client.query(
        `SELECT array_agg(table_name::text ORDER BY table_name) AS t FROM tenant_migration.backfill WHERE completed_at IS NOT NULL AND (table_name LIKE 'events%' OR table_name LIKE 'usage%')`,
      )
    ).rows[0].t;
    assert.deepEqual(backfilled, [...LEAVES].sort());
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.ok(
      validation.checks.some((c) => c.name === 'public.usage_records: every partition isolated' && c.ok),
      JSON.stringify(validation.checks.filter((c) => !c.ok)),
    );
  });

  it('a second run changes nothing; the script under psql -f gives the same database', async () => {
    const twin = await createTestDatabase();
    try {
      await addPartitionedTables(twin.client);
      await withMigration(db.url, ws, (m) => m.generate());
      await migrateFully(db.url, ws);
      const schema = await schemaFingerprint(db.client);
      const versions = await rowVersions(db.client);
      // Once the leaves' backfill started, the assignments stay as they were read (a mapping fixed later changes no row).
      const assignments = async () =>
        (
          await db.client.query(
            `SELECT md5(string_agg(key || ':' || org_id, ',' ORDER BY key)) AS d FROM tenant_migration.assign_usage_records`,
          )
        ).rows[0].d;
      const assigned = await assignments();
      await db.client.query(
        `UPDATE legacy_credential_org_map SET org_id = '${org(4)}' WHERE credential_id = 2 AND org_id <> '${org(4)}'`,
      );
      assert.equal((await withMigration(db.url, ws, (m) => m.migrate())).status, 'done');
      assert.equal(await assignments(), assigned);
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assert.deepEqual(await rowVersions(db.client), versions, 'a row was rewritten by the second run');
      const r = spawnSync(
        'psql',
        [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await schemaFingerprint(twin.client), schema);
      for (const t of PARTITIONED) {
        const cols =
          t === 'events'
            ? ['id', 'credential_id', 'happened_on', 'payload', 'org_id']
            : ['id', 'region', 'credential_id', 'units', 'org_id'];
        assert.deepEqual(await tableDigest(twin.client, t, cols), await tableDigest(db.client, t, cols), t);
      }
    } finally {
      await twin.drop();
    }
  });

  it("rollback is exact: schema (with every partition's privileges) and data; --restore-data restores through the parents", async () => {
    const schema = await schemaFingerprint(db.client);
    const data = await partitionedData(db.client);
    await migrateFully(db.url, ws);
    await db.client.query(`UPDATE usage_records SET units = units + 1000 WHERE id <= 10`);
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true, acceptDataLoss: true }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
    assert.deepEqual(await partitionedData(db.client), data);
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
});
