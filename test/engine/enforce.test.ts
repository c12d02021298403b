// The enforce step's refusals and what it changes besides the policies: definer-rights views kept from tenant roles,
// given back by undo and by rollback.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { MigrationError } from '../../src/engine/errors';

const privileges = async (db: TestDatabase) =>
  (
    await db.client.query(`SELECT
    has_table_privilege('authenticated', 'all_reports', 'SELECT') AS view,
    has_table_privilege('authenticated', 'report_totals', 'SELECT') AS matview,
    has_table_privilege('authenticated', 'safe_reports', 'SELECT') AS invoker_view,
    has_table_privilege('service_role', 'all_reports', 'SELECT') AS service_view,
    (SELECT bool_or(relforcerowsecurity) FROM pg_class WHERE relname IN ('reports', 'credentials', 'dashboard_layouts')) AS forced`)
  ).rows[0];

describe('enforce', () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace();
    await migrateFully(db.url, ws);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('refuses while a SECURITY DEFINER function tenant roles may call reads tenant tables across orgs, and says what it will deny', async () => {
    await db.client.query(
      `CREATE FUNCTION report_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM reports'`,
    );
    const refusal = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refusal instanceof MigrationError && refusal.kind === 'refused', String(refusal));
    assert.match(refusal.message, /report_count\(\) reads tenant tables as .*public/);
    assert.ok(
      refusal.details.some((d) => /public\.reports: requests without a tenant context: will see none of its/.test(d)),
      refusal.details.join('\n'),
    );
    const forced = await db.client.query(
      `SELECT bool_or(relforcerowsecurity) AS f FROM pg_class WHERE relname IN ('reports', 'credentials', 'dashboard_layouts')`,
    );
    assert.equal(forced.rows[0].f, false, 'a refusal changes nothing');
    await db.client.query(`REVOKE EXECUTE ON FUNCTION report_count() FROM PUBLIC`);
    const enforced = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(enforced.status, 'done', enforced.summary);
  });

  it('keeps definer-rights views and materialized views from tenant roles; undo and rollback give the grants back', async () => {
    await db.client.query(`CREATE VIEW all_reports AS SELECT * FROM reports;
      CREATE VIEW safe_reports WITH (security_invoker = true) AS SELECT * FROM reports;
      CREATE MATERIALIZED VIEW report_totals AS SELECT org_id, count(*) AS n FROM reports GROUP BY org_id;
      GRANT SELECT ON all_reports, safe_reports, report_totals TO authenticated, service_role`);
    assert.deepEqual(await privileges(db), {
      view: true,
      matview: true,
      invoker_view: true,
      service_view: true,
      forced: false,
    });
    const enforced = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(enforced.status, 'done', enforced.summary);
    assert.ok(
      enforced.checks.some((c) => c.name === 'View all_reports' && /revoked from authenticated/.test(c.detail)),
      JSON.stringify(enforced.checks),
    );
    assert.deepEqual(await privileges(db), {
      view: false,
      matview: false,
      invoker_view: true,
      service_view: true,
      forced: true,
    });
    const undone = await withMigration(db.url, ws, (m) => m.enforce({ undo: true }));
    assert.equal(undone.status, 'done');
    assert.deepEqual(await privileges(db), {
      view: true,
      matview: true,
      invoker_view: true,
      service_view: true,
      forced: false,
    });
    const again = await withMigration(db.url, ws, (m) => m.enforce({ undo: true }));
    assert.equal(again.status, 'skipped', 'undo without enforcement is a no-op');

    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    await db.client.query(`DROP VIEW all_reports, safe_reports; DROP MATERIALIZED VIEW report_totals`);
    await db.client.query(
      `CREATE VIEW all_reports AS SELECT id, title FROM reports; GRANT SELECT ON all_reports TO authenticated`,
    );
    const rolled = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(rolled.step.status, 'done', rolled.step.summary);
    const after = await db.client.query(
      `SELECT count(*)::int AS policies FROM pg_policy WHERE polname LIKE 'tenant_migration%'`,
    );
    assert.equal(after.rows[0].policies, 0);
    const forced = await db.client.query(
      `SELECT bool_or(relforcerowsecurity) AS f, bool_or(relrowsecurity) FILTER (WHERE relname = 'reports') AS reports_rls FROM pg_class WHERE relname IN ('reports', 'credentials', 'dashboard_layouts')`,
    );
    assert.deepEqual(forced.rows[0], { f: false, reports_rls: false }, 'row-level security as before the migration');
  });
});
