// Parent rules over a composite key, with the application writing as a tenant role during and after the run: every
// row gets its org, each tenant sees only its own (the tables and spec: ./support/composite-keys).
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, type Workspace } from '../support/migration-helpers';
import { asTenant } from '../support/tenant-session';
import { DEFAULT_ORG_ID } from '../fixtures/legacy-data';
import { addCompositeTables, org, spec } from './support/composite-keys';

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
          await asTenant(app, org(3), () =>
            app.query(
              `INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (1 + $1 % 30, (ARRAY[2, 12, 17])[1 + $1 % 3], 'live', 1), (NULL, 2, 'live', 1)`,
              [writes],
            ),
          );
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
      await asTenant(app, org(3), () =>
        app.query(`INSERT INTO order_lines (order_id, shop_id, sku, qty) VALUES (7, 12, 'after', 2)`),
      );
      // A line without an order gets the request's org from the trigger; one written before the trigger existed, the
      // default (its rule's org, given by the backfill).
      const {
        rows: [counts],
      } = await db.client.query(
        `SELECT count(*) FILTER (WHERE sku IN ('live', 'after') AND org_id <> $1 AND (order_id IS NOT NULL OR org_id <> $2))::int AS wrong,
          count(*) FILTER (WHERE sku = 'live' AND order_id IS NULL AND org_id = $1)::int AS by_context,
          count(*) FILTER (WHERE org_id = $1)::int AS own, count(*)::int AS total FROM order_lines`,
        [org(3), DEFAULT_ORG_ID],
      );
      assert.equal(counts.wrong, 0, 'a row the tenant wrote has another org');
      assert.ok(counts.by_context > 0, "no line took the request's org");
      assert.ok(counts.own > 0 && counts.own < counts.total);
      const seen = await asTenant(
        app,
        org(3),
        async () =>
          (
            await app.query(
              `SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id <> $1)::int AS others FROM order_lines`,
              [org(3)],
            )
          ).rows[0],
      );
      assert.deepEqual(seen, { n: counts.own, others: 0 });
      const elsewhere = await asTenant(
        app,
        org(4),
        async () =>
          (await app.query(`SELECT count(*)::int AS n FROM order_lines WHERE sku IN ('live', 'after')`)).rows[0].n,
      );
      assert.equal(elsewhere, 0, "another tenant sees org 3's lines");
    } finally {
      await app.end();
    }
  });
});
