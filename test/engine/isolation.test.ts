import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { ORG_PREFIX, USER_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
const user = (n: number) => `${USER_PREFIX}${n.toString(16).padStart(12, '0')}`;

/** Runs a query as a Supabase client would: role and JWT claims, in a transaction rolled back afterwards. */
async function asTenant(
  client: pg.Client,
  role: string,
  claims: Record<string, unknown> | undefined,
  sql: string,
): Promise<{ rows: number; error?: string }> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${role}`);
    if (claims) await client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
    const result = await client.query(sql);
    return { rows: result.rowCount ?? 0 };
  } catch (e) {
    return { rows: 0, error: (e as Error).message };
  } finally {
    await client.query('ROLLBACK');
  }
}

describe('tenant isolation', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('holds whatever policies the tables already have; members reach their own org; once enforced, no context and anon see nothing', async () => {
    // A legacy policy that lets every signed-in user read every report: must not widen access across orgs.
    await db.client.query(
      `ALTER TABLE reports ENABLE ROW LEVEL SECURITY; CREATE POLICY reports_everyone ON reports FOR SELECT TO authenticated USING (true)`,
    );
    const ws = makeWorkspace();
    await migrateFully(db.url, ws);
    const count = async (sql: string) => Number((await db.client.query(sql)).rows[0].n);
    const orgTwoReports = await count(`SELECT count(*) AS n FROM reports WHERE org_id = '${org(2)}'`);
    const own = await asTenant(db.client, 'authenticated', { org_id: org(2) }, `SELECT * FROM reports`);
    assert.equal(own.rows, orgTwoReports, "a member does not see exactly their org's reports");
    assert.equal(
      (
        await asTenant(
          db.client,
          'authenticated',
          { org_id: org(2) },
          `SELECT * FROM reports WHERE org_id <> '${org(2)}'`,
        )
      ).rows,
      0,
    );
    // transition mode: without a context, the legacy policy still decides (every report), as before the migration
    assert.equal(
      (await asTenant(db.client, 'authenticated', undefined, `SELECT * FROM reports`)).rows,
      await count(`SELECT count(*) AS n FROM reports`),
    );
    const enforced = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    assert.equal(enforced.status, 'done', enforced.summary);
    assert.equal((await asTenant(db.client, 'authenticated', undefined, `SELECT * FROM reports`)).rows, 0);
    assert.equal((await asTenant(db.client, 'anon', undefined, `SELECT * FROM reports`)).rows, 0);
    assert.equal(
      (await asTenant(db.client, 'service_role', undefined, `SELECT * FROM reports`)).rows,
      await count(`SELECT count(*) AS n FROM reports`),
    );
    // credentials keep their owner-only legacy policy inside the org: user 1's own credentials, and only in org 2
    const home = (await db.client.query(`SELECT org_id::text FROM credentials WHERE user_id = '${user(1)}' LIMIT 1`))
      .rows[0].org_id as string;
    const userOneInOrg = await count(
      `SELECT count(*) AS n FROM credentials WHERE user_id = '${user(1)}' AND org_id = '${home}'`,
    );
    assert.ok(userOneInOrg > 0);
    assert.equal(
      (await asTenant(db.client, 'authenticated', { org_id: home, sub: user(1) }, `SELECT * FROM credentials`)).rows,
      userOneInOrg,
    );
    assert.ok(
      userOneInOrg < (await count(`SELECT count(*) AS n FROM credentials WHERE org_id = '${home}'`)),
      'the owner-only policy no longer applies',
    );
    assert.equal(
      (
        await asTenant(
          db.client,
          'authenticated',
          { org_id: org(5), sub: user(1) },
          `SELECT * FROM credentials WHERE org_id = '${home}'`,
        )
      ).rows,
      0,
    );
    // writes into another org are refused by the restrictive policy's check
    const moved = await asTenant(
      db.client,
      'authenticated',
      { org_id: org(2) },
      `UPDATE reports SET org_id = '${org(3)}' WHERE org_id = '${org(2)}'`,
    );
    assert.equal(moved.rows, 0, 'a member moved rows out of their org');
    const movedLayout = await asTenant(
      db.client,
      'authenticated',
      { org_id: org(2) },
      `UPDATE dashboard_layouts SET org_id = '${org(3)}' WHERE org_id = '${org(2)}'`,
    );
    assert.match(
      movedLayout.error ?? '',
      /row-level security/,
      'moving a row to another org must fail the policy check',
    );
    const deleted = await asTenant(
      db.client,
      'authenticated',
      { org_id: org(2) },
      `DELETE FROM reports WHERE org_id = '${org(3)}'`,
    );
    assert.deepEqual(deleted, { rows: 0 });
    // the ledger is tenant-scoped too
    assert.equal(
      (
        await asTenant(
          db.client,
          'authenticated',
          { org_id: org(2) },
          `SELECT * FROM tenant_credentials WHERE org_id <> '${org(2)}'`,
        )
      ).rows,
      0,
    );
  });

  it('the isolation step probes every table × operation × actor, and fails when a policy leaks', async () => {
    const ws = makeWorkspace();
    await migrateFully(db.url, ws);
    const transition = (await withMigration(db.url, ws, (m) => m.verifyIsolation())).probes!;
    assert.ok(
      transition.every((p) => p.ok),
      JSON.stringify(transition.filter((p) => !p.ok).slice(0, 3)),
    );
    // transition mode: a request without a context keeps its old access to the orgs of migration time only; the probe
    // rows belong to orgs made for the probe, so it reaches none of them (the application's old access is proven in
    // transition-enforce.test.ts)
    assert.ok(
      transition
        .filter((p) => p.table === 'public.reports' && p.actor === 'no tenant context')
        .every((p) => p.expected === 'deny' && p.outcome !== 'allowed'),
    );
    assert.ok(
      transition
        .filter((p) => p.table === 'public.tenant_credentials' && p.actor === 'no tenant context')
        .every((p) => p.expected === 'deny'),
      'the new ledger is strict from the start',
    );
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    const held = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    assert.equal(held.status, 'done');
    const probes = held.probes!;
    assert.equal(probes.length, 4 * 4 * 5, 'tables × operations × actors');
    assert.ok(probes.every((p) => p.ok));
    assert.ok(
      probes.some((p) => p.actor === 'another org' && p.operation === 'INSERT' && p.outcome === 'denied (error)'),
    );
    assert.ok(
      probes.some((p) => p.actor === 'another org' && p.operation === 'DELETE' && p.outcome === 'denied (no rows)'),
    );
    assert.ok(
      probes
        .filter((p) => p.actor === 'no tenant context' || p.actor === 'anonymous')
        .every((p) => p.expected === 'deny'),
    );
    await db.client.query(
      `DROP POLICY tenant_migration_isolation ON reports; DROP POLICY tenant_migration_legacy_access ON reports; CREATE POLICY leak ON reports USING (true) WITH CHECK (true)`,
    );
    const leaked = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    assert.equal(leaked.status, 'failed');
    const failures = leaked.probes!.filter((p) => !p.ok);
    assert.ok(
      failures.length > 0 && failures.every((p) => p.table === 'public.reports'),
      JSON.stringify(failures.slice(0, 3)),
    );
    assert.ok(failures.some((p) => p.actor === 'another org' && p.operation === 'SELECT'));
  });

  it('works with a plain session setting as the tenant context, for non-Supabase PostgreSQL', async () => {
    const ws = makeWorkspace({ tenantContext: { kind: 'setting', name: 'app.current_org_id' } });
    await migrateFully(db.url, ws);
    await db.client.query('BEGIN');
    await db.client.query(`CREATE ROLE app_user NOLOGIN; GRANT SELECT ON reports TO app_user; SET LOCAL ROLE app_user`);
    await db.client.query(`SELECT set_config('app.current_org_id', $1, true)`, [org(4)]);
    const { rows } = await db.client.query(`SELECT DISTINCT org_id::text FROM reports`);
    await db.client.query('ROLLBACK');
    assert.deepEqual(rows, [{ org_id: org(4) }]);
    const result = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    assert.equal(result.status, 'done', JSON.stringify(result.checks.filter((c) => !c.ok)));
  });

  it('reports the ways around row-level security it can find, and fails on a definer view a tenant can read', async () => {
    const ws = makeWorkspace();
    await migrateFully(db.url, ws);
    // Supabase's default privileges grant every new view in public to the API roles: all_reports is readable by tenants.
    await db.client.query(`CREATE VIEW all_reports AS SELECT * FROM reports`);
    await db.client.query(
      `CREATE VIEW private_reports AS SELECT * FROM reports; REVOKE ALL ON private_reports FROM anon, authenticated`,
    );
    await db.client.query(`CREATE VIEW safe_reports WITH (security_invoker = true) AS SELECT * FROM reports`);
    await db.client.query(
      `CREATE FUNCTION report_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM reports'`,
    );
    const result = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    const byName = (name: string) => result.checks.find((c) => c.name === name);
    assert.equal(byName('View all_reports')?.ok, false);
    assert.match(byName('View all_reports')!.detail, /bypasses row-level security.*showed another org's probe row/);
    assert.equal(byName('View private_reports')?.ok, false);
    assert.equal(
      byName('View private_reports')?.severity,
      'warning',
      'a definer view no tenant role can read is a warning',
    );
    assert.equal(byName('View safe_reports')?.ok, true);
    assert.equal(byName('Function report_count()')?.ok, false);
    assert.equal(result.status, 'failed', "a tenant saw another org's row through all_reports");
    assert.match(result.summary, /through all_reports/);
    assert.ok(
      result.probes!.every((p) => p.ok),
      'the tables themselves held',
    );
    await db.client.query(`DROP VIEW all_reports`);
    const fixed = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    assert.equal(fixed.status, 'done', 'the unreadable view and the function are warnings');
  });
});
