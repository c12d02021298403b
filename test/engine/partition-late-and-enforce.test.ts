// Partitions after the migration, and enforce over partitions: a partition attached later is named and covered by a new
// script; enforce holds every partition, a partition added after it too (the tables and spec: ./support/partitions).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestDatabase } from '../support/database';
import { migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { acl, schemaFingerprint } from '../support/fingerprint';
import { org, usePartitionedDatabase } from './support/partitions';

describe(`partitioned tables (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  let ws: Workspace;
  usePartitionedDatabase((d, w) => {
    db = d;
    ws = w;
  });

  it('a partition attached after the migration: validation and the prerequisites name it, the old script refuses, a new one covers it', async () => {
    await withMigration(db.url, ws, (m) => m.generate());
    await migrateFully(db.url, ws);
    await db.client.query(
      `CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`,
    );
    const check = (checks: { name: string; ok: boolean; detail: string }[]) =>
      checks.find((c) => c.name === 'public.events: every partition isolated')!;
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.equal(check(validation.checks).ok, false);
    assert.match(
      check(validation.checks).detail,
      /"?events_2027"? \(row-level security not enabled, no tenant_migration_isolation policy, still granted to anon, authenticated/,
    );
    assert.equal(validation.status, 'failed');
    const prerequisites = await withMigration(db.url, ws, (m) => m.prerequisites());
    assert.equal(check(prerequisites.checks).ok, false);
    const r = spawnSync(
      'psql',
      [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
      { encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the partitions of "public"."events" are not those this script was generated for/);
    await withMigration(db.url, ws, (m) => m.generate(true));
    await migrateFully(db.url, ws);
    assert.equal(check((await withMigration(db.url, ws, (m) => m.validate())).checks).ok, true);
  });

  it("enforce holds every partition too: forced, a request without a context sees none of a partition's rows; rollback exact", async () => {
    const schema = await schemaFingerprint(db.client);
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    await db.client.query('GRANT SELECT ON usage_eu_1 TO authenticated');
    const forced = (
      await db.client.query(
        `SELECT bool_and(c.relforcerowsecurity) AS f FROM pg_partition_tree('usage_records') p JOIN pg_class c ON c.oid = p.relid`,
      )
    ).rows[0].f;
    assert.equal(forced, true);
    await db.client.query('BEGIN');
    try {
      await db.client.query('SET LOCAL ROLE authenticated');
      assert.equal((await db.client.query('SELECT count(*)::int AS n FROM usage_eu_1')).rows[0].n, 0);
    } finally {
      await db.client.query('ROLLBACK');
    }
    await db.client.query('REVOKE SELECT ON usage_eu_1 FROM authenticated');
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.ok(
      validation.checks.some(
        (c) => c.name === 'public.usage_records: every partition isolated' && c.ok && /forced/.test(c.detail),
      ),
      JSON.stringify(validation.checks.filter((c) => !c.ok)),
    );
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
  it('a partition added after enforce: generate --force then migrate enforces it (strict policy, FORCE); a tenant reads its own org only, directly and through the parent; rollback exact', async () => {
    const schema = await schemaFingerprint(db.client);
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    await db.client.query(
      `CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`,
    );
    const lateState = `SELECT relrowsecurity AS rls, relforcerowsecurity AS force, ${acl('relacl')} AS grants FROM pg_class WHERE oid = 'events_2027'::regclass`;
    const lateBefore = (await db.client.query(lateState)).rows[0];
    const { rows: credentials } = await db.client.query(
      `SELECT id, org_id FROM credentials WHERE org_id IN ($1, $2) ORDER BY id`,
      [org(1), org(2)],
    );
    const of = (o: string) => credentials.find((c) => c.org_id === o)!.id as string;
    await db.client.query(
      `INSERT INTO events (credential_id, happened_on, payload) SELECT $1, date '2027-02-01' + i, 'org 1' FROM generate_series(1, 5) i`,
      [of(org(1))],
    );
    await db.client.query(
      `INSERT INTO events (credential_id, happened_on, payload) SELECT $1, date '2027-03-01' + i, 'org 2' FROM generate_series(1, 7) i`,
      [of(org(2))],
    );
    await withMigration(db.url, ws, (m) => m.generate(true));
    const migrated = await withMigration(db.url, ws, (m) => m.migrate());
    assert.equal(migrated.status, 'done', migrated.summary);
    const forced = (
      await db.client.query(
        `SELECT relrowsecurity AND relforcerowsecurity AS f FROM pg_class WHERE oid = 'events_2027'::regclass`,
      )
    ).rows[0].f;
    assert.equal(forced, true, 'the new partition is not forced');
    const policy = (
      await db.client.query(
        `SELECT qual FROM pg_policies WHERE tablename = 'events_2027' AND policyname = 'tenant_migration_isolation'`,
      )
    ).rows[0].qual as string;
    assert.doesNotMatch(policy, /transition_orgs/, 'the new partition has the transition policy');
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.equal(validation.status, 'done', JSON.stringify(validation.checks.filter((c) => !c.ok)));
    const enforceAgain = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(enforceAgain.status, 'skipped');
    assert.match(enforceAgain.summary ?? '', /already enforced on every table and partition/);
    await db.client.query('GRANT SELECT ON events_2027 TO authenticated');
    const asTenant = async (sql: string, claims: Record<string, string>) => {
      await db.client.query('BEGIN');
      try {
        await db.client.query('SET LOCAL ROLE authenticated');
        await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
        return (await db.client.query(sql)).rows[0];
      } finally {
        await db.client.query('ROLLBACK');
      }
    };
    const count = `SELECT count(*)::int AS n, count(*) FILTER (WHERE payload <> 'org 1')::int AS others`;
    assert.deepEqual(await asTenant(`${count} FROM events_2027`, { sub: 'x', org_id: org(1) }), { n: 5, others: 0 });
    assert.deepEqual(
      await asTenant(`${count} FROM events WHERE happened_on >= '2027-01-01'`, { sub: 'x', org_id: org(1) }),
      { n: 5, others: 0 },
    );
    assert.deepEqual(
      await asTenant(`${count} FROM events_2027`, { sub: 'x' }),
      { n: 0, others: 0 },
      'enforced: no context, no rows',
    );
    // A partition an older script left in transition mode: enforce brings it to the enforced state instead of skipping.
    await db.client.query('REVOKE SELECT ON events_2027 FROM authenticated');
    await db.client.query('ALTER TABLE events_2027 NO FORCE ROW LEVEL SECURITY');
    const reapplied = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(reapplied.status, 'done', reapplied.summary);
    assert.match(reapplied.summary ?? '', /now also on (public\.)?events_2027/);
    assert.equal(
      (await db.client.query(`SELECT relforcerowsecurity AS f FROM pg_class WHERE oid = 'events_2027'::regclass`))
        .rows[0].f,
      true,
    );
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(
      (await db.client.query(lateState)).rows[0],
      lateBefore,
      'the late partition is not back to its state before the migration',
    );
    await db.client.query('DROP TABLE events_2027');
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
});
