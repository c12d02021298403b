// Partitioned tables and the tenant roles: a partition named directly, and an application writing through the parents
// during the run (the tables and the writer: ./support/partitions).
import assert from 'node:assert/strict';
import type { TestDatabase } from '../support/database';
import { migrateFully, type Workspace } from '../support/migration-helpers';
import { DEFAULT_ORG_ID } from '../fixtures/legacy-data';
import { org, tenantWriter, usePartitionedDatabase } from './support/partitions';

describe(`partitioned tables (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  let ws: Workspace;
  usePartitionedDatabase((d, w) => {
    db = d;
    ws = w;
  });

  it('a tenant role that names a partition directly: no privilege; granted one later, it sees its own org only', async () => {
    await migrateFully(db.url, ws);
    const asTenant = async (sql: string, orgId: string) => {
      await db.client.query('BEGIN');
      try {
        await db.client.query(`SET LOCAL ROLE authenticated`);
        await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify({ sub: 'x', org_id: orgId }),
        ]);
        return (await db.client.query(sql)).rows;
      } finally {
        await db.client.query('ROLLBACK');
      }
    };
    // The org trigger is on the parent: PostgreSQL runs it for a row written into a partition directly, too (an id given:
    // PostgreSQL 15 does not apply the parent's identity to a partition named directly).
    await db.client.query(
      `INSERT INTO events_2025 (id, credential_id, happened_on, payload) VALUES (999999, 1, '2025-05-01', 'direct')`,
    );
    assert.equal(
      (
        await db.client.query(
          `SELECT count(*)::int AS n FROM events_2025 e JOIN credentials c ON c.id = e.credential_id WHERE e.payload = 'direct' AND e.org_id = c.org_id`,
        )
      ).rows[0].n,
      1,
    );
    await assert.rejects(asTenant('SELECT count(*) FROM events_2025', org(1)), /permission denied/);
    await assert.rejects(asTenant('SELECT count(*) FROM usage_eu_1', org(1)), /permission denied/);
    await db.client.query('GRANT SELECT ON events_2025, usage_eu, usage_eu_1 TO authenticated');
    for (const t of ['events_2025', 'usage_eu', 'usage_eu_1']) {
      const {
        rows: [all],
      } = await db.client.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id = $1)::int AS own FROM ${t}`,
        [org(1)],
      );
      assert.ok(all.own > 0 && all.own < all.n, `${t}: the fixture needs rows of org 1 and of others`);
      const seen = await asTenant(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id <> '${org(1)}')::int AS others FROM ${t}`,
        org(1),
      );
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
    const { rows } = await db.client.query(
      `SELECT
      (SELECT count(*)::int FROM events WHERE payload = 'live' AND (org_id IS NULL OR org_id NOT IN ($1, $2))) AS events_wrong,
      (SELECT count(*)::int FROM usage_records WHERE id > 100000 AND (org_id IS NULL OR org_id NOT IN ($1, $2))) AS usage_wrong,
      (SELECT count(*)::int FROM events WHERE payload = 'live' AND org_id = $1) > 0 AS wrote_with_context`,
      [org(3), DEFAULT_ORG_ID],
    );
    assert.deepEqual(rows[0], { events_wrong: 0, usage_wrong: 0, wrote_with_context: true });
  });
});
