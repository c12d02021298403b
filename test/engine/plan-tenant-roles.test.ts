// The plan's warnings about materialized views, definer views and shared tables name the spec's tenant roles (on plain
// PostgreSQL the application's own role), not Supabase's anon and authenticated; their sentences say who sees what,
// and the isolation step's "no tenant role may read it now" holds for the real grants of the real roles.
import assert from 'node:assert/strict';
import pg from 'pg';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';

const APP = 'tm_pr_app';
const TABLES = 'reports, credentials, dashboard_layouts';

async function countAsApp(client: pg.Client, sql: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${APP}`);
    return Number((await client.query(sql)).rows[0].n);
  } finally {
    await client.query('ROLLBACK');
  }
}

describe("plan warnings name the spec's tenant roles", () => {
  let db: TestDatabase;
  const ws = () =>
    makeWorkspace({
      tenantContext: { kind: 'setting', name: 'app.current_org_id' },
      sharedTables: ['public.plan_tiers', 'public.regions'],
    });
  before(async () => {
    await adminQuery(`DO $$ BEGIN IF to_regrole('${APP}') IS NULL THEN CREATE ROLE ${APP} NOLOGIN; END IF; END $$`);
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(
      `REVOKE ALL ON ${TABLES} FROM anon, authenticated, service_role; DROP POLICY credentials_owner ON credentials`,
    );
    await db.client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${TABLES} TO ${APP}`);
    await db.client.query(
      `CREATE MATERIALIZED VIEW report_counts AS SELECT credential_id, count(*) AS n FROM reports GROUP BY credential_id`,
    );
    await db.client.query(
      `CREATE TABLE plan_tiers (id int PRIMARY KEY, name text); INSERT INTO plan_tiers VALUES (1, 'free')`,
    );
    await db.client.query(`CREATE TABLE regions (id int PRIMARY KEY, name text); GRANT SELECT ON regions TO ${APP}`);
    await db.client.query(
      `REVOKE ALL ON report_counts, plan_tiers, regions FROM anon, authenticated, service_role; GRANT SELECT ON regions TO ${APP}`,
    );
  });
  afterEach(async () => {
    await db.drop();
  });

  it('a materialized view the application role reads, and shared tables: who reads them, and the grant to give', async () => {
    await db.client.query(`GRANT SELECT ON report_counts TO ${APP}`);
    const orgs = Number((await db.client.query(`SELECT count(*) AS n FROM report_counts`)).rows[0].n);
    assert.ok(orgs > 1);
    const plan = await withMigration(db.url, ws(), (m) => m.plan());
    const matview = plan.shapes.find((s) => s.kind === 'materialized-view')!;
    assert.equal(
      matview.message,
      `Materialized view public.report_counts holds a copy of every org's rows of reports, outside row-level security: the tenant roles that can read it (${APP}) see them all`,
    );
    assert.match(matview.fix!, new RegExp(`REVOKE SELECT ON "public"\\."report_counts" FROM "${APP}";`));
    assert.equal(
      await countAsApp(db.client, `SELECT count(*) AS n FROM report_counts`),
      orgs,
      "what the message says: the role sees every org's row",
    );
    const unread = plan.shapes.find((s) => s.kind === 'shared-table' && s.object === 'public.plan_tiers')!;
    assert.match(
      unread.message,
      new RegExp(`public\\.plan_tiers is shared, but no tenant role \\(${APP}\\) can read it`),
    );
    assert.equal(unread.fix, `GRANT SELECT ON "public"."plan_tiers" TO "${APP}";`);
    const read = plan.shapes.find((s) => s.kind === 'shared-table' && s.object === 'public.regions')!;
    assert.match(read.message, new RegExp(`every tenant \\(${APP}\\) reads all its rows`));
    assert.ok(
      plan.shapes.every((s) => !/\banon\b|\bauthenticated\b/.test(`${s.message} ${s.fix ?? ''}`)),
      'no Supabase role named on plain PostgreSQL',
    );
  });

  it('a materialized view no tenant role reads: the plan and the isolation step say so, naming the roles checked', async () => {
    const plan = await withMigration(db.url, ws(), (m) => m.plan());
    const matview = plan.shapes.find((s) => s.kind === 'materialized-view')!;
    assert.match(
      matview.message,
      new RegExp(
        `outside row-level security: no tenant role \\(${APP}, PUBLIC\\) can read it now, so none sees them all$`,
      ),
    );
    await migrateFully(db.url, ws());
    await assert.rejects(
      countAsApp(db.client, `SELECT count(*) AS n FROM report_counts`),
      /permission denied/,
      'true: the application role may not read it',
    );
    const result = await withMigration(db.url, ws(), (m) => m.verifyIsolation());
    const view = result.checks.find((c) => c.name === 'View report_counts')!;
    assert.equal(view.severity, 'warning');
    assert.match(view.detail, new RegExp(`no tenant role \\(${APP}\\) may read it now`));
    // Once the role may read it, the step says so and names it.
    await db.client.query(`GRANT SELECT ON report_counts TO ${APP}`);
    const granted = await withMigration(db.url, ws(), (m) => m.verifyIsolation());
    assert.match(
      granted.checks.find((c) => c.name === 'View report_counts')!.detail,
      new RegExp(`tenant role ${APP} may read it`),
    );
  });
});
