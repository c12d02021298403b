// The spec's "views": a view over tenant tables switched to security_invoker by the migration (PostgreSQL 15+), so
// the policies apply through it; a tenant role reading it sees only its org. Rollback puts the view's options back
// exactly (also a view that was security_invoker already, or security_barrier). A view left as it is, readable by a
// tenant role, makes the isolation step fail; a materialized view is never offered security_invoker.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, scriptUnderPsql, withMigration } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';

const VIEWS = ['credential_list', 'report_titles', 'safe_layouts'];
const SETUP = `
  CREATE VIEW credential_list AS SELECT id, provider FROM credentials;
  CREATE VIEW report_titles WITH (security_barrier = true) AS SELECT r.id, r.title, c.provider FROM reports r JOIN credentials c ON c.id = r.credential_id;
  CREATE VIEW safe_layouts WITH (security_invoker = on) AS SELECT * FROM dashboard_layouts;
  GRANT SELECT ON credential_list, report_titles, safe_layouts TO authenticated;`;
const reloptions = async (db: TestDatabase) =>
  Object.fromEntries(
    (
      await db.client.query(`SELECT relname, reloptions FROM pg_class WHERE relname = ANY($1) ORDER BY 1`, [VIEWS])
    ).rows.map((r) => [r.relname, r.reloptions]),
  );

/** What the tenant of `org` reads through `view`, as PostgREST runs a request: authenticated with JWT claims. */
async function asTenant(db: TestDatabase, org: string, sql: string): Promise<Record<string, unknown>[]> {
  await db.client.query('BEGIN');
  try {
    await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ role: 'authenticated', sub: '00000000-0000-0000-0002-000000000001', org_id: org }),
    ]);
    await db.client.query('SET LOCAL ROLE authenticated');
    return (await db.client.query(sql)).rows;
  } finally {
    await db.client.query('ROLLBACK');
  }
}

describe(`views switched to security_invoker by the spec (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(SETUP);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('switches each named view, a tenant sees only its org through it; a re-run changes nothing; rollback puts the options back exactly', async () => {
    const ws = makeWorkspace({
      batchSize: 100,
      views: Object.fromEntries(VIEWS.map((v) => [`public.${v}`, 'security_invoker'])),
    });
    const optionsBefore = await reloptions(db);
    assert.deepEqual(optionsBefore, {
      credential_list: null,
      report_titles: ['security_barrier=true'],
      safe_layouts: ['security_invoker=on'],
    });
    const schemaBefore = await schemaFingerprint(db.client, ['public']);
    const before = (await databaseDigest(db.client)) as { contents: Record<string, string> };

    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const listed = plan.shapes.find((s) => s.kind === 'view' && s.object === 'public.credential_list');
    assert.match(listed?.message ?? '', /switched to security_invoker by the migration/);
    assert.ok(
      plan.shapes.every((s) => !s.blocking),
      JSON.stringify(plan.shapes),
    );

    const result = await withMigration(db.url, ws, (m) => m.runAll());
    assert.ok(result.ok, result.error?.oneLine);
    const switched = await reloptions(db);
    assert.deepEqual(switched, {
      credential_list: ['security_invoker=true'],
      report_titles: ['security_barrier=true', 'security_invoker=true'],
      safe_layouts: ['security_invoker=on'],
    });

    const {
      rows: [busiest],
    } = await db.client.query(
      `SELECT org_id, count(*)::int AS n FROM credentials GROUP BY org_id ORDER BY 2 DESC LIMIT 1`,
    );
    const total = (await db.client.query(`SELECT count(*)::int AS n FROM credentials`)).rows[0].n as number;
    const ids = (rows: Record<string, unknown>[]) => rows.map((r) => String(r.id)).sort();
    const seen = ids(await asTenant(db, busiest.org_id, 'SELECT id FROM credential_list'));
    // Through the view a tenant sees what the table's policies let it see directly: its org's rows, never another's.
    assert.deepEqual(seen, ids(await asTenant(db, busiest.org_id, 'SELECT id FROM credentials')));
    assert.ok(seen.length > 0 && seen.length < total, `${seen.length} of ${total}`);
    const ownIds = new Set(
      (await db.client.query(`SELECT id FROM credentials WHERE org_id = $1`, [busiest.org_id])).rows.map((r) =>
        String(r.id),
      ),
    );
    assert.ok(seen.every((id) => ownIds.has(id)));
    const joined = await asTenant(
      db,
      busiest.org_id,
      'SELECT DISTINCT r.org_id FROM report_titles t JOIN reports r USING (id)',
    );
    assert.deepEqual(
      joined.map((r) => r.org_id),
      joined.length ? [busiest.org_id] : [],
    );

    const rerun = await withMigration(db.url, ws, (m) => m.migrate());
    assert.equal(rerun.status, 'done', rerun.summary);
    assert.deepEqual(await reloptions(db), switched, 'a re-run changes no view');
    assert.deepEqual(
      await scriptUnderPsql(ws, SETUP, (twin) => reloptions(twin)),
      switched,
      'the script under psql -f switches the same views',
    );

    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await reloptions(db), optionsBefore, "the views' options are exactly as before");
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    const after = (await databaseDigest(db.client)) as { contents: Record<string, string> };
    for (const table of ['public.credentials', 'public.reports', 'public.dashboard_layouts'])
      assert.equal(after.contents[table], before.contents[table]);
  });

  it('a definer-rights view a tenant role can read fails the isolation step naming it; switched by the spec, isolation holds', async () => {
    const asIs = makeWorkspace({ batchSize: 100 });
    const first = await withMigration(db.url, asIs, (m) => m.runAll());
    assert.equal(first.ok, false, "isolation was claimed while a view showed other orgs' rows");
    const isolation = first.steps.find((s) => s.step === 'isolation');
    assert.equal(isolation?.status, 'failed');
    assert.match(isolation?.summary ?? '', /through .*credential_list/);
    assert.ok(
      isolation?.checks.some(
        (c) => /^View (public\.)?credential_list$/.test(c.name) && !c.ok && c.severity === 'error',
      ),
      JSON.stringify(isolation?.checks),
    );

    const chosen = makeWorkspace({
      batchSize: 100,
      views: { 'public.credential_list': 'security_invoker', report_titles: 'security_invoker' },
    });
    const second = await withMigration(db.url, chosen, async (m) => {
      await m.generate(true);
      return m.runAll();
    });
    assert.ok(second.ok, second.error?.oneLine);
    const checks = second.steps.find((s) => s.step === 'isolation')?.checks ?? [];
    assert.ok(
      checks.some((c) => /^View (public\.)?credential_list$/.test(c.name) && c.ok),
      JSON.stringify(checks),
    );
  });

  it('refuses in the plan a materialized view, and a view whose readers lack SELECT on its base tables; nothing changed', async () => {
    await db.client
      .query(`CREATE MATERIALIZED VIEW credential_counts AS SELECT provider, count(*) FROM credentials GROUP BY 1;
      GRANT SELECT ON credential_counts TO authenticated;`);
    const before = await databaseDigest(db.client);
    const matview = makeWorkspace({ batchSize: 100, views: { 'public.credential_counts': 'security_invoker' } });
    const error = await withMigration(db.url, matview, (m) => m.plan()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.match(
      error.message,
      /views\["public\.credential_counts"\]: public\.credential_counts is a materialized view, which has no security_invoker/,
    );
    assert.doesNotMatch(error.next, /SET \(security_invoker/);
    const plan = await withMigration(db.url, makeWorkspace({ batchSize: 100 }), (m) => m.plan());
    assert.doesNotMatch(plan.shapes.find((s) => s.kind === 'materialized-view')?.fix ?? '', /security_invoker = true/);

    await db.client.query(`REVOKE SELECT ON reports FROM authenticated`);
    const revoked = await databaseDigest(db.client);
    const ungranted = makeWorkspace({ batchSize: 100, views: { 'public.report_titles': 'security_invoker' } });
    const refusedPlan = await withMigration(db.url, ungranted, (m) => m.plan());
    const finding = refusedPlan.shapes.find((s) => s.object === 'public.report_titles');
    assert.ok(finding?.blocking, JSON.stringify(refusedPlan.shapes));
    assert.match(finding.message, /authenticated may read it and not reports/);
    assert.match(finding.fix ?? '', /GRANT SELECT ON reports TO "authenticated";/);
    const migrate = await withMigration(db.url, ungranted, (m) => m.migrate()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(migrate instanceof MigrationError && migrate.kind === 'refused', String(migrate));
    assertSameDigest(revoked, await databaseDigest(db.client));
    assert.equal((await db.client.query(`SELECT to_regnamespace('tenant_migration')::text AS s`)).rows[0].s, null);
    assert.ok(before);
  });
});
