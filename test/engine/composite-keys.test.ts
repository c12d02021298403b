// Parent rules over a composite key (orders keyed by (shop_id, id), lines referencing (order_id, shop_id)), and a
// parent the spec does not migrate: run, re-run, psql -f, rollback exact, the application writing as a tenant role.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint, tableDigest } from '../support/fingerprint';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { findGaps } from '../../src/engine/gaps';
import { asTenant, outsideState } from '../support/tenant-session';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
const COMPOSITE_TABLES = [
  { name: 'shops', orgFrom: { mapping: { column: 'id' } } },
  { name: 'orders', orgFrom: { parent: { table: 'shops', column: 'shop_id' } } },
  // References left out: paired as the foreign key (order_id, shop_id) → orders (id, shop_id) pairs them, not by the primary key's order (shop_id, id).
  { name: 'order_lines', orgFrom: { parent: { table: 'orders', column: ['order_id', 'shop_id'] } } },
  // No foreign key: the spec pairs them.
  { name: 'line_allocations', orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order_id'], references: ['shop_id', 'id'] } } },
];
const spec = (overrides: Record<string, unknown> = {}) => ({ batchSize: 100, tables: [...GUIDE_SPEC.tables, ...COMPOSITE_TABLES], ...overrides });
const TABLES = ['shops', 'orders', 'order_lines', 'line_allocations'];
const COLUMNS: Record<string, string[]> = {
  shops: ['id', 'name'], orders: ['shop_id', 'id', 'placed_on'], order_lines: ['id', 'order_id', 'shop_id', 'sku', 'qty'], line_allocations: ['shop_id', 'order_id', 'n', 'warehouse'],
};

async function addCompositeTables(client: pg.Client): Promise<void> {
  await client.query(fs.readFileSync(path.join(__dirname, '../fixtures/composite-keys.sql'), 'utf8'));
}
const legacyData = async (client: pg.Client, withOrg = false) =>
  Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await tableDigest(client, t, withOrg ? [...COLUMNS[t]!, 'org_id'] : COLUMNS[t])])));

/** Rows whose org is not the one their composite key gives: the shop's mapped org through the order, the default without one. */
async function wronglyAssigned(client: pg.Client) {
  const { rows } = await client.query(`WITH shop_org AS (SELECT s.id, coalesce((SELECT m.org_id FROM legacy_credential_org_map m WHERE m.credential_id = s.id LIMIT 1), $1::uuid) AS org FROM shops s)
    SELECT
      (SELECT count(*)::int FROM orders o JOIN shop_org s ON s.id = o.shop_id WHERE o.org_id <> s.org) AS orders,
      (SELECT count(*)::int FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id AND o.shop_id = l.shop_id LEFT JOIN shop_org s ON s.id = o.shop_id
        WHERE l.org_id IS DISTINCT FROM coalesce(s.org, $1::uuid)) AS lines,
      (SELECT count(*)::int FROM line_allocations a LEFT JOIN orders o ON o.shop_id = a.shop_id AND o.id = a.order_id LEFT JOIN shop_org s ON s.id = o.shop_id
        WHERE a.org_id IS DISTINCT FROM coalesce(s.org, $1::uuid)) AS allocations,
      (SELECT count(DISTINCT org_id)::int FROM order_lines) AS line_orgs`, [DEFAULT_ORG_ID]);
  return rows[0];
}

describe(`composite keys and unmigrated parents (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => { db = await createTestDatabase(); await addCompositeTables(db.client); ws = makeWorkspace(spec()); });
  afterEach(async () => { await db.drop(); });

  it('the plan counts the gaps by every key column and names rows with a NULL in any of them', async () => {
    const before = await databaseDigest(db.client);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const finding = (table: string, kind: string) => plan.gaps.findings.find((f) => f.table === `public.${table}` && f.kind === kind);
    const lines = plan.gaps.tables.find((t) => t.table === 'public.order_lines')!;
    assert.equal(lines.rule, 'parent public.orders via (order_id, shop_id)');
    assert.deepEqual({ rows: lines.rows, toDefault: lines.toDefault }, { rows: 3000, toDefault: 229 });
    assert.equal(finding('order_lines', 'null-key')!.count, 229);
    assert.match(finding('order_lines', 'null-key')!.message, /229 rows have no one of order_id, shop_id \(NULL\)/);
    const samples = finding('order_lines', 'null-key')!.samples;
    assert.ok(samples.some((x) => /^\(NULL, \d+\)$/.test(x.key) && x.detail === 'no order_id'), JSON.stringify(samples));
    assert.ok(samples.some((x) => /^\(\d+, NULL\)$/.test(x.key) && x.detail === 'no shop_id'), JSON.stringify(samples));
    assert.equal(finding('order_lines', 'orphan-child'), undefined, 'the validated composite foreign key proves every full key has its order');
    // Without a foreign key: an order id that exists in other shops but not in this one is a missing parent.
    assert.equal(finding('line_allocations', 'null-key')!.count, 19);
    assert.equal(finding('line_allocations', 'orphan-child')!.count, 34);
    assert.ok(finding('line_allocations', 'orphan-child')!.samples.every((x) => /^\(\d+, 31\)$/.test(x.key) && x.detail === 'parent missing'));
    assert.equal(plan.gaps.tables.find((t) => t.table === 'public.line_allocations')!.toDefault, 53);
    // The quick preview's sampled count (a table this small is sampled whole) agrees, by every column too.
    const quick = await withMigration(db.url, ws, async (m) => findGaps(m.session, await m.model(), { quick: true, estimateAboveRows: 0 }));
    const counts = (tables: typeof plan.gaps.tables) => tables.filter((t) => TABLES.includes(t.table.slice('public.'.length))).map((t) => [t.table, t.rows, t.toDefault]);
    assert.ok(quick.tables.every((t) => t.estimated));
    assert.deepEqual(counts(quick.tables), counts(plan.gaps.tables));
    assertSameDigest(before, await databaseDigest(db.client), 'the plan writes nothing');
  });

  it('migrates: every row gets the org of the parent its whole key names; a second run changes nothing; psql -f gives the same database', async () => {
    const twin = await createTestDatabase();
    try {
      await addCompositeTables(twin.client);
      const before = await legacyData(db.client);
      await withMigration(db.url, ws, (m) => m.generate());
      await migrateFully(db.url, ws);
      assert.deepEqual(await legacyData(db.client), before, 'a legacy column changed');
      assert.deepEqual(await wronglyAssigned(db.client), { orders: 0, lines: 0, allocations: 0, line_orgs: 6 });
      const validation = await withMigration(db.url, ws, (m) => m.validate());
      assert.ok(validation.checks.some((c) => c.name === 'public.order_lines: same org as parent' && c.ok), JSON.stringify(validation.checks.filter((c) => !c.ok)));
      // The org trigger reads the parent by both columns: an order id alone would find 40 orders.
      await db.client.query(`INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (5, 2, 'after', 1), (5, 3, 'after', 1), (NULL, 3, 'after', 1)`);
      const after = (await db.client.query(`SELECT array_agg(org_id::text ORDER BY id) AS o FROM order_lines WHERE sku = 'after'`)).rows[0].o;
      assert.deepEqual(after, [org(3), org(4), DEFAULT_ORG_ID]);
      await db.client.query(`DELETE FROM order_lines WHERE sku = 'after'`);

      const schema = await schemaFingerprint(db.client);
      const data = await legacyData(db.client, true);
      const versions = async () => (await db.client.query(`SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) AS v FROM order_lines`)).rows[0].v;
      const written = await versions();
      assert.equal((await withMigration(db.url, ws, (m) => m.migrate())).status, 'done');
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assert.deepEqual(await legacyData(db.client, true), data);
      assert.equal(await versions(), written, 'the second run rewrote a row');

      const r = spawnSync('psql', [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await schemaFingerprint(twin.client), schema);
      assert.deepEqual(await legacyData(twin.client, true), data);
    } finally {
      await twin.drop();
    }
  });

  it('rollback is exact: schema, grants and data digests; --restore-data puts back rows changed since, by the composite keys', async () => {
    const schema = await schemaFingerprint(db.client);
    const before = await databaseDigest(db.client);
    await migrateFully(db.url, ws);
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
    assertSameDigest(outsideState(before), outsideState(await databaseDigest(db.client)), 'rollback left a change');

    const data = await legacyData(db.client);
    await migrateFully(db.url, ws);
    await db.client.query(`UPDATE orders SET placed_on = placed_on + 1 WHERE id = 3; UPDATE line_allocations SET warehouse = 'moved' WHERE order_id = 3`);
    const restored = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true, acceptDataLoss: true }));
    assert.equal(restored.step.status, 'done', restored.step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
    assert.deepEqual(await legacyData(db.client), data);
  });

  it('the application, as a tenant role, writes during and after the run: every row gets its org, each tenant sees only its own', async () => {
    const app = new pg.Client(db.url);
    await app.connect();
    const failures: string[] = [];
    let writes = 0;
    let stop = false;
    // Shops 2, 12 and 17 belong to org 3: a tenant writes lines for its own orders, and lines without an order.
    const writing = (async () => {
      while (!stop) {
        try {
          await asTenant(app, org(3), () => app.query(`INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (1 + $1 % 30, (ARRAY[2, 12, 17])[1 + $1 % 3], 'live', 1), (NULL, 2, 'live', 1)`, [writes]));
          writes++;
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    try {
      await migrateFully(db.url, ws);
    } finally {
      stop = true;
      await writing;
    }
    try {
      assert.deepEqual(failures, [], 'the application saw errors');
      assert.ok(writes > 0);
      await asTenant(app, org(3), () => app.query(`INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (7, 12, 'after', 2)`));
      // A line without an order gets the request's org from the trigger; one written before the trigger existed, the
      // default (its rule's org, given by the backfill).
      const { rows: [counts] } = await db.client.query(`SELECT count(*) FILTER (WHERE sku IN ('live', 'after') AND org_id <> $1 AND (order_id IS NOT NULL OR org_id <> $2))::int AS wrong,
          count(*) FILTER (WHERE sku = 'live' AND order_id IS NULL AND org_id = $1)::int AS by_context,
          count(*) FILTER (WHERE org_id = $1)::int AS own, count(*)::int AS total FROM order_lines`, [org(3), DEFAULT_ORG_ID]);
      assert.equal(counts.wrong, 0, 'a row the tenant wrote has another org');
      assert.ok(counts.by_context > 0, 'no line took the request\'s org');
      assert.ok(counts.own > 0 && counts.own < counts.total);
      const seen = await asTenant(app, org(3), async () => (await app.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id <> $1)::int AS others FROM order_lines`, [org(3)])).rows[0]);
      assert.deepEqual(seen, { n: counts.own, others: 0 });
      const elsewhere = await asTenant(app, org(4), async () => (await app.query(`SELECT count(*)::int AS n FROM order_lines WHERE sku IN ('live', 'after')`)).rows[0].n);
      assert.equal(elsewhere, 0, 'another tenant sees org 3\'s lines');
    } finally {
      await app.end();
    }
  });

  describe('a parent the spec does not migrate', () => {
    async function addPosts(orgColumn = true): Promise<void> {
      await db.client.query(`CREATE TABLE posts (id bigint PRIMARY KEY, shop_id bigint REFERENCES shops (id), title text NOT NULL${orgColumn ? ', org_id uuid' : ''});
        CREATE TABLE comments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, post_id bigint REFERENCES posts (id), body text NOT NULL);
        INSERT INTO posts SELECT i, 1 + i % 40, 'post ' || i${orgColumn ? `, CASE WHEN i % 10 = 0 THEN NULL ELSE ('${ORG_PREFIX}' || lpad(to_hex(1 + i % 5), 12, '0'))::uuid END` : ''} FROM generate_series(1, 100) i;
        INSERT INTO comments (post_id, body) SELECT CASE WHEN i % 50 = 0 THEN NULL ELSE 1 + i % 100 END, 'c' || i FROM generate_series(1, 500) i`);
    }
    const withComments = () => makeWorkspace(spec({ tables: [...GUIDE_SPEC.tables, COMPOSITE_TABLES[0], { name: 'comments', orgFrom: { parent: { table: 'posts', column: 'post_id' } } }] }));

    it('with the org column: read as it is, said in the plan; run, rollback exact and the parent untouched', async () => {
      await addPosts();
      ws = withComments();
      const schema = await schemaFingerprint(db.client);
      const before = await databaseDigest(db.client);
      const posts = await tableDigest(db.client, 'posts');
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const shape = plan.shapes.find((s) => s.kind === 'unmigrated-parent')!;
      assert.match(shape.message, /public\.comments takes its org from public\.posts by post_id, and the spec does not migrate public\.posts: its org_id values are read as they are/);
      assert.equal(shape.blocking, false);
      assert.equal(plan.gaps.tables.find((t) => t.table === 'public.comments')!.rule, 'parent public.posts (not migrated: its org column is read) via post_id');
      const noOrg = plan.gaps.findings.find((f) => f.table === 'public.comments' && f.kind === 'orphan-child')!;
      assert.equal(noOrg.count, 50);
      assert.match(noOrg.message, /50 rows have parents in public\.posts \(not migrated\) without an org_id and get the default org/);
      assert.equal(plan.gaps.tables.find((t) => t.table === 'public.comments')!.toDefault, 60);
      await migrateFully(db.url, ws);
      const { rows: [r] } = await db.client.query(`SELECT count(*) FILTER (WHERE c.org_id IS DISTINCT FROM coalesce(p.org_id, $1::uuid))::int AS wrong FROM comments c LEFT JOIN posts p ON p.id = c.post_id`, [DEFAULT_ORG_ID]);
      assert.equal(r.wrong, 0);
      assert.deepEqual(await tableDigest(db.client, 'posts'), posts, 'the parent was written');
      await db.client.query(`GRANT INSERT, SELECT ON comments TO authenticated`);
      await asTenant(db.client, org(2), () => db.client.query(`INSERT INTO comments (post_id, body) VALUES (1, 'live'), (10, 'live')`));
      const live = (await db.client.query(`SELECT array_agg(org_id::text ORDER BY post_id) AS o FROM comments WHERE body = 'live'`)).rows[0].o;
      assert.deepEqual(live, [org(2), org(2)], 'post 1 is org 2\'s; post 10 holds no org: the request\'s');
      await db.client.query(`DELETE FROM comments WHERE body = 'live'`);
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assertSameDigest(outsideState(before), outsideState(await databaseDigest(db.client)), 'rollback left a change');
    });

    it('refused before any write: a parent org that is not an org; a parent without the org column (the spec entry that migrates it named)', async () => {
      await addPosts();
      await db.client.query(`UPDATE posts SET org_id = '00000000-0000-0000-0000-0000000000ff' WHERE id = 3`);
      ws = withComments();
      const before = await databaseDigest(db.client);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const missing = plan.gaps.findings.find((f) => f.table === 'public.comments' && f.kind === 'missing-org')!;
      assert.equal(missing.blocking, true);
      assert.match(missing.message, /5 rows have parents in public\.posts \(not migrated\) whose org_id is not an org of public\.orgs/);
      assert.equal((await withMigration(db.url, ws, (m) => m.runAll())).ok, false);
      assertSameDigest(before, await databaseDigest(db.client));

      await db.client.query(`ALTER TABLE posts DROP COLUMN org_id`);
      const dropped = await databaseDigest(db.client);
      const error = await withMigration(db.url, ws, (m) => m.plan()).then(() => undefined, (e: Error) => e);
      assert.match(String(error?.message), /tables\[4\]\.orgFrom\.parent\.table public\.posts is not one of the spec's tables and has no org_id column of type uuid/);
      assert.match(String((error as { next?: string }).next), /Add the parent table to "tables" so it gets its org first: \{ "name": "public\.posts", "orgFrom": \{ "parent": \{ "table": "public\.shops", "column": "shop_id" \} \} \}/);
      await assert.rejects(withMigration(db.url, ws, (m) => m.runAll()), /public\.posts is not one of the spec's tables/);
      assertSameDigest(dropped, await databaseDigest(db.client));
    });
  });

  it('refused before any write: a composite key that does not pair, a ledger over a composite primary key', async () => {
    const before = await databaseDigest(db.client);
    const attempt = async (overrides: Record<string, unknown>) => withMigration(db.url, makeWorkspace(spec(overrides)), (m) => m.runAll()).then(() => undefined, (e: Error) => e);
    const unpaired = await attempt({ tables: [...GUIDE_SPEC.tables, ...COMPOSITE_TABLES.slice(0, 2), { name: 'line_allocations', orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order_id'] } } }] });
    assert.match(String(unpaired?.message), /public\.line_allocations has no foreign key from \(shop_id, order_id\) to public\.orders to pair the columns of tables\[5\]\.orgFrom\.parent with/);
    assert.match(String((unpaired as { next?: string }).next), /Set tables\[5\]\.orgFrom\.parent\.references to the parent columns the child columns point to, in the same order \(for example \["shop_id","id"\]\)/);
    const missing = await attempt({ tables: [...GUIDE_SPEC.tables, ...COMPOSITE_TABLES.slice(0, 2), { name: 'line_allocations', orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order'], references: ['shop_id', 'id'] } } }] });
    assert.match(String(missing?.message), /Column "order" \(spec field tables\[5\]\.orgFrom\.parent\.column\[1\]\) does not exist in public\.line_allocations/);
    const types = await attempt({ tables: [...GUIDE_SPEC.tables, ...COMPOSITE_TABLES.slice(0, 2), { name: 'line_allocations', orgFrom: { parent: { table: 'orders', column: ['shop_id', 'warehouse'], references: ['shop_id', 'id'] } } }] });
    assert.match(String(types?.message), /public\.line_allocations\.warehouse is text but public\.orders\.id is bigint/);
    const ledger = await attempt({ tables: COMPOSITE_TABLES.slice(0, 2), tenantCredentials: { table: 'tenant_credentials', from: 'orders' } });
    assert.match(String(ledger?.message), /public\.orders needs a single-column primary key for the tenant_credentials ledger/);
    assertSameDigest(before, await databaseDigest(db.client));
  });
});
