// A mapping rule over a composite key: customers keyed by (shop_id, customer_no), mapped by a mapping table keyed the
// same way, and invoices taking their org from their customer over both columns.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint, tableDigest } from '../support/fingerprint';
import { asTenant, outsideState } from '../support/tenant-session';
import { mappingStub } from '../../src/engine/gaps';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
const orgOf = (expr: string) => `('${ORG_PREFIX}' || lpad(to_hex(${expr}), 12, '0'))::uuid`;
// Customer number 1 exists in every shop, each mapped to another org: a match on one column would mix them.
const SCHEMA = `CREATE TABLE customers (shop_id bigint NOT NULL, customer_no int NOT NULL, name text NOT NULL, PRIMARY KEY (shop_id, customer_no));
  CREATE TABLE customer_org_map (shop_id bigint, customer_no int, org_id uuid);
  CREATE INDEX ON customer_org_map (shop_id, customer_no);
  CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, shop_id bigint, customer_no int, total numeric NOT NULL,
    FOREIGN KEY (shop_id, customer_no) REFERENCES customers);
  INSERT INTO customers SELECT s, c, 'customer ' || s || '/' || c FROM generate_series(1, 10) s, generate_series(1, 20) c;
  INSERT INTO customer_org_map SELECT shop_id, customer_no, ${orgOf('1 + (shop_id * customer_no) % 5')} FROM customers WHERE (shop_id + customer_no) % 6 <> 0
    UNION ALL SELECT 11, 1, ${orgOf('1')} UNION ALL SELECT 1, NULL, ${orgOf('2')};
  INSERT INTO invoices (shop_id, customer_no, total) SELECT 1 + i % 10, CASE WHEN i % 13 = 0 THEN NULL ELSE 1 + i % 20 END, i FROM generate_series(1, 800) i;
  ANALYZE customers, customer_org_map, invoices;`;
const spec = () => ({
  batchSize: 100,
  mapping: { table: 'customer_org_map', keyColumn: ['shop_id', 'customer_no'], orgColumn: 'org_id' },
  tables: [
    { name: 'customers', orgFrom: { mapping: { column: ['shop_id', 'customer_no'] } } },
    { name: 'invoices', orgFrom: { parent: { table: 'customers', column: ['shop_id', 'customer_no'] } } },
  ],
  tenantCredentials: undefined,
});
const data = async (client: pg.Client, withOrg = false) => ({
  customers: await tableDigest(client, 'customers', ['shop_id', 'customer_no', 'name', ...(withOrg ? ['org_id'] : [])]),
  invoices: await tableDigest(client, 'invoices', [
    'id',
    'shop_id',
    'customer_no',
    'total',
    ...(withOrg ? ['org_id'] : []),
  ]),
});

describe(`a mapping over a composite key (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(SCHEMA);
    ws = makeWorkspace(spec());
  });
  afterEach(async () => {
    await db.drop();
  });

  it('the plan counts by both columns, and the mapping stub names both', async () => {
    const before = await databaseDigest(db.client);
    const { plan, stub } = await withMigration(db.url, ws, async (m) => ({
      plan: await m.plan(),
      stub: await mappingStub(m.session, await m.model()),
    }));
    const customers = plan.gaps.tables.find((t) => t.table === 'public.customers')!;
    assert.equal(customers.rule, 'mapping public.customer_org_map by (shop_id, customer_no)');
    assert.deepEqual({ rows: customers.rows, toDefault: customers.toDefault }, { rows: 200, toDefault: 33 });
    const unmapped = plan.gaps.findings.find((f) => f.kind === 'unmapped' && f.table === 'public.customers')!;
    assert.deepEqual(unmapped.samples.map((s) => s.key).slice(0, 2), ['[1, 5]', '[1, 11]']);
    assert.equal(
      plan.gaps.findings.find((f) => f.kind === 'stale-mapping')!.count,
      1,
      'the (11, 1) mapping names no customer; (1, NULL) is no key',
    );
    assert.equal(plan.gaps.blocking, false);
    assert.match(
      stub,
      /INSERT INTO "public"\."customer_org_map" \("shop_id", "customer_no", "org_id"\) VALUES\n {2}\(1, 5, NULL \/\* org uuid \*\/\),\n {2}\(1, 11, NULL/,
    );
    assert.match(stub, /-- 33 public\.customers rows have no mapping/);
    assertSameDigest(before, await databaseDigest(db.client), 'the plan writes nothing');
  });

  it('migrates by both columns; a second run changes nothing; psql -f gives the same database; rollback exact', async () => {
    const twin = await createTestDatabase();
    try {
      await twin.client.query(SCHEMA);
      const schema = await schemaFingerprint(db.client);
      const before = await databaseDigest(db.client);
      await withMigration(db.url, ws, (m) => m.generate());
      await migrateFully(db.url, ws);
      const {
        rows: [wrong],
      } = await db.client.query(
        `SELECT
          (SELECT count(*)::int FROM customers c LEFT JOIN customer_org_map m USING (shop_id, customer_no) WHERE c.org_id <> coalesce(m.org_id, $1)) AS customers,
          (SELECT count(*)::int FROM invoices i LEFT JOIN customers c USING (shop_id, customer_no) WHERE i.org_id <> coalesce(c.org_id, $1)) AS invoices,
          (SELECT count(DISTINCT org_id)::int FROM customers WHERE customer_no = 1) AS orgs_of_customer_1`,
        [DEFAULT_ORG_ID],
      );
      // Customer 1 of shops 1–10: the five orgs and, for shop 5 (unmapped), the default.
      assert.deepEqual(wrong, { customers: 0, invoices: 0, orgs_of_customer_1: 6 });
      const validation = await withMigration(db.url, ws, (m) => m.validate());
      assert.ok(
        validation.checks.some((c) => c.name === 'public.customers: expected org assignments' && c.ok),
        JSON.stringify(validation.checks.filter((c) => !c.ok)),
      );
      const migrated = await schemaFingerprint(db.client);
      const filled = await data(db.client, true);
      assert.equal((await withMigration(db.url, ws, (m) => m.migrate())).status, 'done');
      assert.deepEqual(await schemaFingerprint(db.client), migrated);
      assert.deepEqual(await data(db.client, true), filled);
      const r = spawnSync(
        'psql',
        [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await schemaFingerprint(twin.client), migrated);
      assert.deepEqual(await data(twin.client, true), filled);
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assertSameDigest(outsideState(before), outsideState(await databaseDigest(db.client)), 'rollback left a change');
    } finally {
      await twin.drop();
    }
  });

  it('a tenant role writes after the run: a new customer mapped by both columns, its invoice by its customer; each tenant sees its own', async () => {
    await migrateFully(db.url, ws);
    await db.client.query(`INSERT INTO customer_org_map VALUES (3, 100, '${org(2)}')`);
    const app = new pg.Client(db.url);
    await app.connect();
    try {
      // A request's org comes first for a new row; the mapping decides a row written without one (a backend job).
      await asTenant(app, org(4), () =>
        app.query(
          `INSERT INTO customers VALUES (3, 101, 'new'); INSERT INTO invoices (shop_id, customer_no, total) VALUES (3, 101, 10005)`,
        ),
      );
      await db.client.query(
        `INSERT INTO customers VALUES (3, 100, 'backend'); INSERT INTO invoices (shop_id, customer_no, total) VALUES (2, 1, 10007), (3, 1, 10008)`,
      );
      const { rows } = await db.client
        .query(`SELECT (SELECT org_id::text FROM customers WHERE (shop_id, customer_no) = (3, 101)) AS tenant_customer,
          (SELECT org_id::text FROM customers WHERE (shop_id, customer_no) = (3, 100)) AS mapped_customer,
          (SELECT array_agg(org_id::text ORDER BY total) FROM invoices WHERE total > 10000) AS invoices`);
      assert.deepEqual(rows[0], {
        tenant_customer: org(4),
        mapped_customer: org(2),
        invoices: [org(4), org(1 + (2 % 5)), org(1 + (3 % 5))],
      });
      const own = Number(
        (await db.client.query(`SELECT count(*) AS n FROM invoices WHERE org_id = $1`, [org(4)])).rows[0].n,
      );
      const seen = await asTenant(
        app,
        org(4),
        async () =>
          (
            await app.query(
              `SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id <> $1)::int AS others FROM invoices`,
              [org(4)],
            )
          ).rows[0],
      );
      assert.deepEqual(seen, { n: own, others: 0 });
    } finally {
      await app.end();
    }
  });

  it('refused before any write: a key given two orgs by both columns; a column count that differs from the mapping key', async () => {
    await db.client.query(`INSERT INTO customer_org_map VALUES (2, 1, '${org(5)}')`);
    const before = await databaseDigest(db.client);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const conflict = plan.gaps.findings.find((f) => f.kind === 'conflict')!;
    assert.deepEqual([conflict.count, conflict.samples[0]!.key], [1, '[2, 1]']);
    assert.equal((await withMigration(db.url, ws, (m) => m.runAll())).ok, false);
    const counts = await withMigration(
      db.url,
      makeWorkspace({ ...spec(), tables: [{ name: 'customers', orgFrom: { mapping: { column: 'shop_id' } } }] }),
      (m) => m.plan(),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(
      String(counts?.message),
      /tables\[0\]\.orgFrom\.mapping\.column: 1 column but mapping\.keyColumn has 2: give the same number, paired in order/,
    );
    assertSameDigest(before, await databaseDigest(db.client));
  });
});
