import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { acl, schemaFingerprint, tableDigest } from '../support/fingerprint';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../fixtures/legacy-data';

const PARTITIONED = ['events', 'usage_records'];
const LEAVES = ['events_2025', 'events_2026', 'events_default', 'usage_eu_0', 'usage_eu_1', 'usage_us_low', 'usage_us_rest', 'usage_other'];
const ALL_PARTITIONS = [...LEAVES, 'usage_eu', 'usage_us'];
const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
const spec = (overrides: Record<string, unknown> = {}) => ({
  batchSize: 100,
  tables: [...GUIDE_SPEC.tables,
    { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
    { name: 'usage_records', orgFrom: { mapping: { column: 'credential_id' } } }],
  ...overrides,
});

async function addPartitionedTables(client: pg.Client): Promise<void> {
  await client.query(fs.readFileSync(path.join(__dirname, '../fixtures/partitioned-schema.sql'), 'utf8'));
}

/** Digests of the partitioned tables over their own columns, and every row version (a rewrite changes xmin). */
async function partitionedData(client: pg.Client) {
  const out: Record<string, unknown> = {};
  for (const t of PARTITIONED) {
    out[t] = await tableDigest(client, t, t === 'events' ? ['id', 'credential_id', 'happened_on', 'payload'] : ['id', 'region', 'credential_id', 'units']);
  }
  return out;
}
const rowVersions = async (client: pg.Client) =>
  (await client.query(`SELECT (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM events) AS e, (SELECT string_agg(xmin::text, ',' ORDER BY id, region) FROM usage_records) AS u`)).rows[0];

/** An application role (not owner, no BYPASSRLS) with a tenant context, as PostgREST runs a request: inserts and updates through the parents. */
function tenantWriter(url: string, orgId: string) {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  let stop = false;
  let writes = 0;
  const failures: string[] = [];
  const done = (async () => {
    await client.connect();
    while (!stop) {
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL ROLE authenticated`);
        await client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: 'w', org_id: orgId })]);
        await client.query(`INSERT INTO events (credential_id, happened_on, payload) VALUES (NULL, date '2025-03-01' + (random() * 600)::int, 'live')`);
        await client.query(`INSERT INTO usage_records (id, region, credential_id, units) VALUES (100000 + $1, (ARRAY['eu','us','apac'])[1 + $1 % 3], NULL, 1)`, [writes]);
        await client.query(`UPDATE usage_records SET units = units WHERE id = 1 + (random() * 2400)::int`);
        await client.query('COMMIT');
        writes++;
      } catch (e) {
        failures.push(`${(e as Error).message} ${(e as { detail?: string }).detail ?? ''}`);
        await client.query('ROLLBACK').catch(() => undefined);
      }
    }
    await client.end();
  })();
  return { stop: async () => { stop = true; await done; return { failures, writes }; } };
}

describe(`partitioned tables (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => { db = await createTestDatabase(); await addPartitionedTables(db.client); ws = makeWorkspace(spec()); });
  afterEach(async () => { await db.drop(); });

  it('the plan sums rows and bytes over the partitions and says what happens to them', async () => {
    const { plan, checks } = await withMigration(db.url, ws, async (m) => ({ plan: await m.plan(), checks: (await m.prerequisites()).checks }));
    const events = plan.tables.find((t) => t.table === 'public.events')!;
    const usage = plan.tables.find((t) => t.table === 'public.usage_records')!;
    assert.equal(events.estimatedRows, 3000);
    assert.equal(usage.estimatedRows, 2400);
    const leafBytes = Number((await db.client.query(`SELECT sum(pg_total_relation_size(relid))::text AS b FROM pg_partition_tree('usage_records')`)).rows[0].b);
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
      const { rows: [r] } = await db.client.query(`SELECT
          (SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'org_id') AS not_null,
          (SELECT bool_and(convalidated) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND confrelid = 'orgs'::regclass) AS fk,
          (SELECT count(*)::int FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND confrelid = 'orgs'::regclass) AS fks,
          (SELECT count(*)::int FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c') AS checks_left,
          (SELECT bool_and(i.indisvalid) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass AND a.attname = 'org_id') AS index_valid,
          (SELECT relrowsecurity FROM pg_class WHERE oid = $1::regclass) AS rls,
          (SELECT count(*)::int FROM pg_policy WHERE polrelid = $1::regclass AND polname LIKE 'tenant_migration_%') AS policies,
          has_table_privilege('authenticated', $1::regclass, 'SELECT') OR has_table_privilege('anon', $1::regclass, 'SELECT') AS tenant_can_read`, [t]);
      const partition = t !== 'events' && t !== 'usage_records';
      assert.deepEqual(r, { not_null: true, fk: true, fks: 1, checks_left: 0, index_valid: true, rls: true, policies: 2, tenant_can_read: !partition }, t);
    }
    // Each leaf's index is attached to its level's, up to the parent's (sub-partitions: two levels).
    const attached = (await db.client.query(`SELECT count(*)::int AS n FROM pg_partition_tree('usage_records_org_id_idx') WHERE level > 0`)).rows[0].n;
    assert.equal(attached, 7);
    const backfilled = (await db.client.query(`SELECT array_agg(table_name::text ORDER BY table_name) AS t FROM tenant_migration.backfill WHERE completed_at IS NOT NULL AND (table_name LIKE 'events%' OR table_name LIKE 'usage%')`)).rows[0].t;
    assert.deepEqual(backfilled, [...LEAVES].sort());
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.ok(validation.checks.some((c) => c.name === 'public.usage_records: every partition isolated' && c.ok), JSON.stringify(validation.checks.filter((c) => !c.ok)));
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
      const assignments = async () => (await db.client.query(`SELECT md5(string_agg(key || ':' || org_id, ',' ORDER BY key)) AS d FROM tenant_migration.assign_usage_records`)).rows[0].d;
      const assigned = await assignments();
      await db.client.query(`UPDATE legacy_credential_org_map SET org_id = '${org(4)}' WHERE credential_id = 2 AND org_id <> '${org(4)}'`);
      assert.equal((await withMigration(db.url, ws, (m) => m.migrate())).status, 'done');
      assert.equal(await assignments(), assigned);
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assert.deepEqual(await rowVersions(db.client), versions, 'a row was rewritten by the second run');
      const r = spawnSync('psql', [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await schemaFingerprint(twin.client), schema);
      for (const t of PARTITIONED) {
        const cols = t === 'events' ? ['id', 'credential_id', 'happened_on', 'payload', 'org_id'] : ['id', 'region', 'credential_id', 'units', 'org_id'];
        assert.deepEqual(await tableDigest(twin.client, t, cols), await tableDigest(db.client, t, cols), t);
      }
    } finally {
      await twin.drop();
    }
  });

  it('a tenant role that names a partition directly: no privilege; granted one later, it sees its own org only', async () => {
    await migrateFully(db.url, ws);
    const asTenant = async (sql: string, orgId: string) => {
      await db.client.query('BEGIN');
      try {
        await db.client.query(`SET LOCAL ROLE authenticated`);
        await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: 'x', org_id: orgId })]);
        return (await db.client.query(sql)).rows;
      } finally {
        await db.client.query('ROLLBACK');
      }
    };
    // The org trigger is on the parent: PostgreSQL runs it for a row written into a partition directly, too (an id given:
    // PostgreSQL 15 does not apply the parent's identity to a partition named directly).
    await db.client.query(`INSERT INTO events_2025 (id, credential_id, happened_on, payload) VALUES (999999, 1, '2025-05-01', 'direct')`);
    assert.equal((await db.client.query(`SELECT count(*)::int AS n FROM events_2025 e JOIN credentials c ON c.id = e.credential_id WHERE e.payload = 'direct' AND e.org_id = c.org_id`)).rows[0].n, 1);
    await assert.rejects(asTenant('SELECT count(*) FROM events_2025', org(1)), /permission denied/);
    await assert.rejects(asTenant('SELECT count(*) FROM usage_eu_1', org(1)), /permission denied/);
    await db.client.query('GRANT SELECT ON events_2025, usage_eu, usage_eu_1 TO authenticated');
    for (const t of ['events_2025', 'usage_eu', 'usage_eu_1']) {
      const { rows: [all] } = await db.client.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id = $1)::int AS own FROM ${t}`, [org(1)]);
      assert.ok(all.own > 0 && all.own < all.n, `${t}: the fixture needs rows of org 1 and of others`);
      const seen = await asTenant(`SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id <> '${org(1)}')::int AS others FROM ${t}`, org(1));
      assert.deepEqual(seen[0], { n: all.own, others: 0 }, t);
    }
  });

  it('an application writing through the parents during the run: no failed write, every new row has its org', async () => {
    const writer = tenantWriter(db.url, org(3));
    try {
      await migrateFully(db.url, ws);
    } finally {
      const { failures, writes } = await writer.stop();
      assert.deepEqual(failures, [], 'the application saw errors');
      assert.ok(writes > 0);
    }
    // A row written before the org trigger existed gets its rule's org by the backfill (no credential: the default org);
    // one written since gets the request's org.
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM events WHERE payload = 'live' AND (org_id IS NULL OR org_id NOT IN ($1, $2))) AS events_wrong,
      (SELECT count(*)::int FROM usage_records WHERE id > 100000 AND (org_id IS NULL OR org_id NOT IN ($1, $2))) AS usage_wrong,
      (SELECT count(*)::int FROM events WHERE payload = 'live' AND org_id = $1) > 0 AS wrote_with_context`, [org(3), DEFAULT_ORG_ID]);
    assert.deepEqual(rows[0], { events_wrong: 0, usage_wrong: 0, wrote_with_context: true });
  });

  it('rollback is exact: schema (with every partition\'s privileges) and data; --restore-data restores through the parents', async () => {
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

  it('a partition attached after the migration: validation and the prerequisites name it, the old script refuses, a new one covers it', async () => {
    await withMigration(db.url, ws, (m) => m.generate());
    await migrateFully(db.url, ws);
    await db.client.query(`CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`);
    const check = (checks: { name: string; ok: boolean; detail: string }[]) => checks.find((c) => c.name === 'public.events: every partition isolated')!;
    const validation = await withMigration(db.url, ws, (m) => m.validate());
    assert.equal(check(validation.checks).ok, false);
    assert.match(check(validation.checks).detail, /"?events_2027"? \(row-level security not enabled, no tenant_migration_isolation policy, still granted to anon, authenticated/);
    assert.equal(validation.status, 'failed');
    const prerequisites = await withMigration(db.url, ws, (m) => m.prerequisites());
    assert.equal(check(prerequisites.checks).ok, false);
    const r = spawnSync('psql', [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the partitions of "public"."events" are not those this script was generated for/);
    await withMigration(db.url, ws, (m) => m.generate(true));
    await migrateFully(db.url, ws);
    assert.equal(check((await withMigration(db.url, ws, (m) => m.validate())).checks).ok, true);
  });

  it('refuses in the plan, before any write, a ledger whose credentials table is partitioned by something other than its key', async () => {
    await db.client.query(`CREATE TABLE pcredentials (id bigint NOT NULL, provider text NOT NULL, secret text, PRIMARY KEY (id, provider)) PARTITION BY LIST (provider);
      CREATE TABLE pcredentials_github PARTITION OF pcredentials FOR VALUES IN ('github'); CREATE TABLE pcredentials_rest PARTITION OF pcredentials DEFAULT;
      INSERT INTO pcredentials SELECT i, (ARRAY['github', 'aws'])[1 + i % 2], 's' FROM generate_series(1, 50) i`);
    const refusing = makeWorkspace(spec({ tables: [{ name: 'pcredentials', orgFrom: { mapping: { column: 'id' } } }], tenantCredentials: { table: 'tenant_credentials', from: 'pcredentials' } }));
    const schema = await schemaFingerprint(db.client, ['public', 'tenant_migration']);
    const digest = await tableDigest(db.client, 'pcredentials');
    const error = await withMigration(db.url, refusing, (m) => m.plan()).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.match(error.message, /pcredentials \(tenantCredentials\.from\) is partitioned by provider, not by its key id alone/);
    await assert.rejects(withMigration(db.url, refusing, (m) => m.runAll()), /partitioned by provider/);
    assert.deepEqual(await schemaFingerprint(db.client, ['public', 'tenant_migration']), schema);
    assert.deepEqual(await tableDigest(db.client, 'pcredentials'), digest);
  });

  it('a credentials table partitioned by its key: the ledger references it, a plain child takes its org from it, rollback exact', async () => {
    await db.client.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL) PARTITION BY HASH (id);
      CREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      CREATE TABLE account_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint REFERENCES accounts (id), note text);
      INSERT INTO accounts SELECT i, 'a' || i FROM generate_series(1, 300) i;
      INSERT INTO account_notes (account_id, note) SELECT 1 + i % 300, 'n' || i FROM generate_series(1, 900) i;
      ANALYZE accounts, account_notes`);
    const schema = await schemaFingerprint(db.client);
    const keyed = makeWorkspace(spec({
      tables: [{ name: 'accounts', orgFrom: { mapping: { column: 'id' } } }, { name: 'account_notes', orgFrom: { parent: { table: 'accounts', column: 'account_id' } } }],
      tenantCredentials: { table: 'tenant_credentials', from: 'accounts' },
    }));
    await migrateFully(db.url, keyed);
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM tenant_credentials) AS ledger,
      (SELECT count(*)::int FROM tenant_credentials t JOIN accounts a ON a.id = t.credential_id AND a.org_id = t.org_id) AS agreeing,
      (SELECT count(*)::int FROM account_notes n JOIN accounts a ON a.id = n.account_id WHERE n.org_id <> a.org_id) AS wrong_parent,
      (SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = 'tenant_credentials'::regclass AND contype = 'f' AND conparentid = 0 AND conname LIKE '%credential_id%') AS ledger_references`);
    assert.deepEqual(rows[0], { ledger: 300, agreeing: 300, wrong_parent: 0, ledger_references: 'accounts' });
    await withMigration(db.url, keyed, (m) => m.rollback({ restoreData: false }));
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });

  it('enforce holds every partition too: forced, a request without a context sees none of a partition\'s rows; rollback exact', async () => {
    const schema = await schemaFingerprint(db.client);
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    await db.client.query('GRANT SELECT ON usage_eu_1 TO authenticated');
    const forced = (await db.client.query(`SELECT bool_and(c.relforcerowsecurity) AS f FROM pg_partition_tree('usage_records') p JOIN pg_class c ON c.oid = p.relid`)).rows[0].f;
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
    assert.ok(validation.checks.some((c) => c.name === 'public.usage_records: every partition isolated' && c.ok && /forced/.test(c.detail)), JSON.stringify(validation.checks.filter((c) => !c.ok)));
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
  it('a partition added after enforce: generate --force then migrate enforces it (strict policy, FORCE); a tenant reads its own org only, directly and through the parent; rollback exact', async () => {
    const schema = await schemaFingerprint(db.client);
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    await db.client.query(`CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`);
    const lateState = `SELECT relrowsecurity AS rls, relforcerowsecurity AS force, ${acl('relacl')} AS grants FROM pg_class WHERE oid = 'events_2027'::regclass`;
    const lateBefore = (await db.client.query(lateState)).rows[0];
    const { rows: credentials } = await db.client.query(`SELECT id, org_id FROM credentials WHERE org_id IN ($1, $2) ORDER BY id`, [org(1), org(2)]);
    const of = (o: string) => credentials.find((c) => c.org_id === o)!.id as string;
    await db.client.query(`INSERT INTO events (credential_id, happened_on, payload) SELECT $1, date '2027-02-01' + i, 'org 1' FROM generate_series(1, 5) i`, [of(org(1))]);
    await db.client.query(`INSERT INTO events (credential_id, happened_on, payload) SELECT $1, date '2027-03-01' + i, 'org 2' FROM generate_series(1, 7) i`, [of(org(2))]);
    await withMigration(db.url, ws, (m) => m.generate(true));
    const migrated = await withMigration(db.url, ws, (m) => m.migrate());
    assert.equal(migrated.status, 'done', migrated.summary);
    const forced = (await db.client.query(`SELECT relrowsecurity AND relforcerowsecurity AS f FROM pg_class WHERE oid = 'events_2027'::regclass`)).rows[0].f;
    assert.equal(forced, true, 'the new partition is not forced');
    const policy = (await db.client.query(`SELECT qual FROM pg_policies WHERE tablename = 'events_2027' AND policyname = 'tenant_migration_isolation'`)).rows[0].qual as string;
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
    assert.deepEqual(await asTenant(`${count} FROM events WHERE happened_on >= '2027-01-01'`, { sub: 'x', org_id: org(1) }), { n: 5, others: 0 });
    assert.deepEqual(await asTenant(`${count} FROM events_2027`, { sub: 'x' }), { n: 0, others: 0 }, 'enforced: no context, no rows');
    // A partition an older script left in transition mode: enforce brings it to the enforced state instead of skipping.
    await db.client.query('REVOKE SELECT ON events_2027 FROM authenticated');
    await db.client.query('ALTER TABLE events_2027 NO FORCE ROW LEVEL SECURITY');
    const reapplied = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(reapplied.status, 'done', reapplied.summary);
    assert.match(reapplied.summary ?? '', /now also on (public\.)?events_2027/);
    assert.equal((await db.client.query(`SELECT relforcerowsecurity AS f FROM pg_class WHERE oid = 'events_2027'::regclass`)).rows[0].f, true);
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual((await db.client.query(lateState)).rows[0], lateBefore, 'the late partition is not back to its state before the migration');
    await db.client.query('DROP TABLE events_2027');
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
});
