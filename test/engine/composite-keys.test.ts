// Parent rules over a composite key (orders keyed by (shop_id, id), lines referencing (order_id, shop_id)): the plan's
// gaps, run, re-run, psql -f, rollback exact, and the specs refused before any write. (The application writing as a
// tenant role: composite-keys-tenant-writes.test.ts; a parent the spec does not migrate: unmigrated-parents.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { findGaps } from '../../src/engine/gaps';
import { outsideState } from '../support/tenant-session';
import { DEFAULT_ORG_ID } from '../fixtures/legacy-data';
import {
  addCompositeTables,
  COMPOSITE_TABLES,
  legacyData,
  org,
  spec,
  TABLES,
  wronglyAssigned,
} from './support/composite-keys';

describe(`composite keys and unmigrated parents (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    await addCompositeTables(db.client);
    ws = makeWorkspace(spec());
  });
  afterEach(async () => {
    await db.drop();
  });

  it('the plan counts the gaps by every key column and names rows with a NULL in any of them', async () => {
    const before = await databaseDigest(db.client);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const finding = (table: string, kind: string) =>
      plan.gaps.findings.find((f) => f.table === `public.${table}` && f.kind === kind);
    const lines = plan.gaps.tables.find((t) => t.table === 'public.order_lines')!;
    assert.equal(lines.rule, 'parent public.orders via (order_id, shop_id)');
    assert.deepEqual({ rows: lines.rows, toDefault: lines.toDefault }, { rows: 3000, toDefault: 229 });
    assert.equal(finding('order_lines', 'null-key')!.count, 229);
    assert.match(finding('order_lines', 'null-key')!.message, /229 rows have no one of order_id, shop_id \(NULL\)/);
    const samples = finding('order_lines', 'null-key')!.samples;
    assert.ok(
      samples.some((x) => /^\(NULL, \d+\)$/.test(x.key) && x.detail === 'no order_id'),
      JSON.stringify(samples),
    );
    assert.ok(
      samples.some((x) => /^\(\d+, NULL\)$/.test(x.key) && x.detail === 'no shop_id'),
      JSON.stringify(samples),
    );
    assert.equal(
      finding('order_lines', 'orphan-child'),
      undefined,
      'the validated composite foreign key proves every full key has its order',
    );
    // Without a foreign key: an order id that exists in other shops but not in this one is a missing parent.
    assert.equal(finding('line_allocations', 'null-key')!.count, 19);
    assert.equal(finding('line_allocations', 'orphan-child')!.count, 34);
    assert.ok(
      finding('line_allocations', 'orphan-child')!.samples.every(
        (x) => /^\(\d+, 31\)$/.test(x.key) && x.detail === 'parent missing',
      ),
    );
    assert.equal(plan.gaps.tables.find((t) => t.table === 'public.line_allocations')!.toDefault, 53);
    // The quick preview's sampled count (a table this small is sampled whole) agrees, by every column too.
    const quick = await withMigration(db.url, ws, async (m) =>
      findGaps(m.session, await m.model(), { quick: true, estimateAboveRows: 0 }),
    );
    const counts = (tables: typeof plan.gaps.tables) =>
      tables.filter((t) => TABLES.includes(t.table.slice('public.'.length))).map((t) => [t.table, t.rows, t.toDefault]);
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
      assert.ok(
        validation.checks.some((c) => c.name === 'public.order_lines: same org as parent' && c.ok),
        JSON.stringify(validation.checks.filter((c) => !c.ok)),
      );
      // The org trigger reads the parent by both columns: an order id alone would find 40 orders.
      await db.client.query(
        `INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (5, 2, 'after', 1), (5, 3, 'after', 1), (NULL, 3, 'after', 1)`,
      );
      const after = (
        await db.client.query(`SELECT array_agg(org_id::text ORDER BY id) AS o FROM order_lines WHERE sku = 'after'`)
      ).rows[0].o;
      assert.deepEqual(after, [org(3), org(4), DEFAULT_ORG_ID]);
      await db.client.query(`DELETE FROM order_lines WHERE sku = 'after'`);

      const schema = await schemaFingerprint(db.client);
      const data = await legacyData(db.client, true);
      const versions = async () =>
        (await db.client.query(`SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) AS v FROM order_lines`)).rows[0].v;
      const written = await versions();
      assert.equal((await withMigration(db.url, ws, (m) => m.migrate())).status, 'done');
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assert.deepEqual(await legacyData(db.client, true), data);
      assert.equal(await versions(), written, 'the second run rewrote a row');

      const r = spawnSync(
        'psql',
        [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
        { encoding: 'utf8' },
      );
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
    await db.client.query(
      `UPDATE orders SET placed_on = placed_on + 1 WHERE id = 3; UPDATE line_allocations SET warehouse = 'moved' WHERE order_id = 3`,
    );
    const restored = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true, acceptDataLoss: true }));
    assert.equal(restored.step.status, 'done', restored.step.summary);
    assert.deepEqual(await schemaFingerprint(db.client), schema);
    assert.deepEqual(await legacyData(db.client), data);
  });

  it('refused before any write: a composite key that does not pair, a ledger over a composite primary key', async () => {
    const before = await databaseDigest(db.client);
    const attempt = async (overrides: Record<string, unknown>) =>
      withMigration(db.url, makeWorkspace(spec(overrides)), (m) => m.runAll()).then(
        () => undefined,
        (e: Error) => e,
      );
    const unpaired = await attempt({
      tables: [
        ...GUIDE_SPEC.tables,
        ...COMPOSITE_TABLES.slice(0, 2),
        { name: 'line_allocations', orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order_id'] } } },
      ],
    });
    assert.match(
      String(unpaired?.message),
      /public\.line_allocations has no foreign key from \(shop_id, order_id\) to public\.orders to pair the columns of tables\[5\]\.orgFrom\.parent with/,
    );
    assert.match(
      String((unpaired as { next?: string }).next),
      /Set tables\[5\]\.orgFrom\.parent\.references to the parent columns the child columns point to, in the same order \(for example \["shop_id","id"\]\)/,
    );
    const missing = await attempt({
      tables: [
        ...GUIDE_SPEC.tables,
        ...COMPOSITE_TABLES.slice(0, 2),
        {
          name: 'line_allocations',
          orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order'], references: ['shop_id', 'id'] } },
        },
      ],
    });
    assert.match(
      String(missing?.message),
      /Column "order" \(spec field tables\[5\]\.orgFrom\.parent\.column\[1\]\) does not exist in public\.line_allocations/,
    );
    const types = await attempt({
      tables: [
        ...GUIDE_SPEC.tables,
        ...COMPOSITE_TABLES.slice(0, 2),
        {
          name: 'line_allocations',
          orgFrom: { parent: { table: 'orders', column: ['shop_id', 'warehouse'], references: ['shop_id', 'id'] } },
        },
      ],
    });
    assert.match(
      String(types?.message),
      /public\.line_allocations\.warehouse is text but public\.orders\.id is bigint/,
    );
    const ledger = await attempt({
      tables: COMPOSITE_TABLES.slice(0, 2),
      tenantCredentials: { table: 'tenant_credentials', from: 'orders' },
    });
    assert.match(
      String(ledger?.message),
      /public\.orders needs a single-column primary key for the tenant_credentials ledger/,
    );
    assertSameDigest(before, await databaseDigest(db.client));
  });
});
