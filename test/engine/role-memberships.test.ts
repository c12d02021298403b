// The roles the isolation matrix probes are the spec's, not whatever exists on the server (roles are cluster-wide):
// on plain PostgreSQL (a session setting as tenant context) the application's own role and the spec's crossTenantRoles,
// never a service_role the spec does not name. A tenant role that is a member of a role reading every org (directly or
// through a chain; SET ROLE, or INHERIT of an owner's rights) is named in the plan and prerequisites, fails
// verify-isolation and stops enforce until the membership is revoked.
import assert from 'node:assert/strict';
import pg from 'pg';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';

const APP = 'tm_rm_app';
const AUDITOR = 'tm_rm_auditor';
const MIDDLE = 'tm_rm_middle';
const OWNER = 'tm_rm_owner';
const TABLES = 'reports, credentials, dashboard_layouts';

async function serverMajor(client: pg.Client): Promise<number> {
  return Math.floor(
    Number((await client.query(`SELECT current_setting('server_version_num') AS v`)).rows[0].v) / 10000,
  );
}

/** Reads as the application does: its own role, a transaction-local org setting, row-level security applying. */
async function asApp(
  client: pg.Client,
  org: string,
  sql: string,
  setRole?: string,
): Promise<{ n: number; orgs: number }> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${APP}`);
    if (setRole) await client.query(`SET LOCAL ROLE ${setRole}`);
    await client.query(`SELECT set_config('app.current_org_id', $1, true)`, [org]);
    const { rows } = await client.query(sql);
    return { n: Number(rows[0].n), orgs: Number(rows[0].orgs) };
  } finally {
    await client.query('ROLLBACK');
  }
}

describe("isolation roles: the spec's tenant and cross-tenant roles, and memberships around row-level security", () => {
  let db: TestDatabase;
  const ws = () =>
    makeWorkspace({ tenantContext: { kind: 'setting', name: 'app.current_org_id' }, crossTenantRoles: [AUDITOR] });
  before(async () => {
    for (const role of [APP, AUDITOR, MIDDLE, OWNER])
      await adminQuery(`DO $$ BEGIN IF to_regrole('${role}') IS NULL THEN CREATE ROLE ${role} NOLOGIN; END IF; END $$`);
    // credentials keeps its own policies (its owner's rows only): the auditor reads the others.
    // A service_role that bypasses row-level security but has no grant here: the spec does not name it.
    await adminQuery(
      `DO $$ BEGIN IF to_regrole('service_role') IS NULL THEN CREATE ROLE service_role NOLOGIN BYPASSRLS; END IF; END $$`,
    );
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(`REVOKE ALL ON ${TABLES} FROM anon, authenticated, service_role`);
    await db.client.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${TABLES} TO ${APP}; GRANT SELECT ON reports, dashboard_layouts TO ${AUDITOR}`,
    );
  });
  afterEach(async () => {
    for (const [role, member] of [
      [AUDITOR, APP],
      [MIDDLE, APP],
      [AUDITOR, MIDDLE],
      [OWNER, MIDDLE],
    ])
      await adminQuery(`REVOKE ${role} FROM ${member}`).catch(() => undefined);
    await db.drop();
  });
  after(async () => {
    await adminQuery(`DROP OWNED BY ${OWNER}`).catch(() => undefined);
  });

  it("probes the application's role and the spec's cross-tenant role, not a service_role the spec does not name", async () => {
    await migrateFully(db.url, ws());
    const result = await withMigration(db.url, ws(), (m) => m.verifyIsolation());
    assert.equal(
      result.status,
      'done',
      `${result.summary}: ${JSON.stringify(result.checks.filter((c) => !c.ok).slice(0, 3))}`,
    );
    const probes = result.probes!;
    const roles = new Set(probes.map((p) => p.role));
    assert.ok(roles.has(APP) && roles.has(AUDITOR), [...roles].join(', '));
    assert.ok(
      !roles.has('service_role') && !roles.has('tenant_migration_probe'),
      `the real roles, no probe role, no service_role: ${[...roles].join(', ')}`,
    );
    const cell = (table: string, actor: string, op: string) =>
      probes.find(
        (p) => p.table === table && p.actor === actor && p.operation === op && [APP, AUDITOR].includes(p.role),
      )!;
    assert.equal(cell('public.reports', 'own org', 'SELECT').outcome, 'allowed');
    assert.equal(cell('public.reports', 'another org', 'SELECT').outcome, 'denied (no rows)');
    assert.equal(
      cell('public.reports', 'cross-tenant role', 'SELECT').outcome,
      'allowed',
      'the auditor reads across orgs',
    );
    assert.equal(
      cell('public.reports', 'cross-tenant role', 'DELETE').expected,
      'deny',
      'the auditor has no DELETE grant',
    );
    assert.equal(cell('public.reports', 'cross-tenant role', 'DELETE').outcome, 'denied (error)');
    assert.ok(result.checks.some((c) => c.name === `public.reports SELECT as cross-tenant role ${AUDITOR}` && c.ok));
  });

  it('names a tenant role that may SET ROLE a cross-tenant role, fails verify-isolation and refuses enforce until revoked', async () => {
    await migrateFully(db.url, ws());
    await db.client.query(`GRANT ${AUDITOR} TO ${APP}`);
    const [{ org_id: org }] = (await db.client.query(`SELECT org_id::text FROM reports LIMIT 1`)).rows;
    const plan = await withMigration(db.url, ws(), (m) => m.plan());
    const shape = plan.shapes.find((s) => s.kind === 'role-membership');
    assert.ok(shape, JSON.stringify(plan.shapes.map((s) => s.kind)));
    assert.match(
      shape.message,
      new RegExp(`tenant role ${APP} is a member of ${AUDITOR} and may SET ROLE to ${AUDITOR}, a cross-tenant role`),
    );
    assert.equal(shape.fix, `REVOKE "${AUDITOR}" FROM "${APP}"; ("enforce" refuses while it holds)`);
    const prerequisites = await withMigration(db.url, ws(), (m) => m.prerequisites());
    assert.ok(prerequisites.checks.some((c) => c.name === `Shape: role ${APP}` && !c.ok && /REVOKE/.test(c.detail)));

    const verified = await withMigration(db.url, ws(), (m) => m.verifyIsolation());
    assert.equal(verified.status, 'failed');
    assert.match(verified.summary, new RegExp(`tenant role ${APP} may take a role that reads every org`));
    assert.ok(
      verified.checks.some(
        (c) => c.name === `Role ${APP}` && !c.ok && c.detail.includes(`REVOKE "${AUDITOR}" FROM "${APP}"`),
      ),
    );
    await assert.rejects(
      withMigration(db.url, ws(), (m) => m.enforce({ appSendsContext: true })),
      new RegExp(`tenant role ${APP} is a member of ${AUDITOR}`),
    );
    // What the finding is about: as the auditor, the tenant's session reads every org.
    const all = Number((await db.client.query(`SELECT count(DISTINCT org_id) AS n FROM reports`)).rows[0].n);
    assert.equal(
      (await asApp(db.client, org, `SELECT count(*) AS n, count(DISTINCT org_id) AS orgs FROM reports`, AUDITOR)).orgs,
      all,
    );

    await db.client.query(`REVOKE ${AUDITOR} FROM ${APP}`);
    assert.equal((await withMigration(db.url, ws(), (m) => m.verifyIsolation())).status, 'done');
    const enforced = await withMigration(db.url, ws(), (m) => m.enforce({ appSendsContext: true }));
    assert.equal(enforced.status, 'done', enforced.summary);
    assert.equal(
      (await asApp(db.client, org, `SELECT count(*) AS n, count(DISTINCT org_id) AS orgs FROM reports`)).orgs,
      1,
      'held to its org',
    );
  });

  it("follows a chain of grants, and an owner's rights inherited; a PostgreSQL 16+ grant without SET or INHERIT is no way around", async () => {
    await migrateFully(db.url, ws());
    await db.client.query(`GRANT ${MIDDLE} TO ${APP}; GRANT ${AUDITOR} TO ${MIDDLE}`);
    const chained = await withMigration(db.url, ws(), (m) => m.plan());
    assert.ok(
      chained.shapes.some(
        (s) =>
          s.kind === 'role-membership' &&
          s.message.includes(`member of ${AUDITOR} (through ${MIDDLE})`) &&
          s.fix?.startsWith(`REVOKE "${MIDDLE}" FROM "${APP}";`),
      ),
      JSON.stringify(chained.shapes.filter((s) => s.kind === 'role-membership')),
    );
    await db.client.query(`REVOKE ${AUDITOR} FROM ${MIDDLE}`);
    // A member of the tables' owner inherits its rights: it may switch row-level security off.
    await db.client.query(`ALTER TABLE reports OWNER TO ${OWNER}; GRANT ${OWNER} TO ${MIDDLE}`);
    const owned = await withMigration(db.url, ws(), (m) => m.plan());
    assert.ok(
      owned.shapes.some(
        (s) =>
          s.kind === 'role-membership' &&
          s.message.includes(`member of ${OWNER} (through ${MIDDLE})`) &&
          s.message.includes('the owner of tenant tables'),
      ),
      JSON.stringify(owned.shapes.filter((s) => s.kind === 'role-membership')),
    );
    await db.client.query(`REVOKE ${OWNER} FROM ${MIDDLE}`);
    if ((await serverMajor(db.client)) >= 16) {
      await db.client.query(`GRANT ${AUDITOR} TO ${APP} WITH INHERIT FALSE, SET FALSE`);
      const harmless = await withMigration(db.url, ws(), (m) => m.plan());
      assert.equal(
        harmless.shapes.filter((s) => s.kind === 'role-membership').length,
        0,
        'neither SET ROLE nor inherited rights: no way around',
      );
      await db.client.query(`REVOKE ${AUDITOR} FROM ${APP}; GRANT ${AUDITOR} TO ${APP} WITH INHERIT TRUE, SET FALSE`);
      const inheritOnly = await withMigration(db.url, ws(), (m) => m.plan());
      assert.equal(
        inheritOnly.shapes.filter((s) => s.kind === 'role-membership').length,
        0,
        "inheriting a cross-tenant role's grants leaves current_user the tenant's",
      );
    } else {
      // Before 16 every grant allows SET ROLE, even to a NOINHERIT member.
      await db.client.query(`ALTER ROLE ${APP} NOINHERIT; GRANT ${AUDITOR} TO ${APP}`);
      const noinherit = await withMigration(db.url, ws(), (m) => m.plan());
      await db.client.query(`ALTER ROLE ${APP} INHERIT`);
      assert.ok(noinherit.shapes.some((s) => s.kind === 'role-membership' && s.message.includes('may SET ROLE to')));
    }
  });
});
