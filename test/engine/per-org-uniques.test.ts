// The spec's "uniques": a global UNIQUE constraint or unique index on a tenant table made per org by the migration
// (built CONCURRENTLY, swapped in under a short lock), so two orgs can hold the same slug; rollback puts the original
// back exactly (name, definition, deferrability), refusing while two orgs share a value; a unique that a foreign key
// references is refused in the plan, naming the foreign key.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, scriptUnderPsql, withMigration, writeInLoop } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';

const definitions = async (db: TestDatabase) =>
  (
    await db.client.query(
      `SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'credentials'::regclass AND contype = 'u'
   UNION ALL SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN ('credentials'::regclass, 'reports'::regclass) AND indisunique AND NOT indisprimary
   ORDER BY 1`,
    )
  ).rows.map((r) => r.d as string);

/** An insert as the tenant of `org`, as PostgREST runs it: authenticated with JWT claims. */
async function insertAs(db: TestDatabase, tenant: { org: string; user: string }, sql: string): Promise<void> {
  await db.client.query('BEGIN');
  try {
    await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ role: 'authenticated', sub: tenant.user, org_id: tenant.org }),
    ]);
    await db.client.query('SET LOCAL ROLE authenticated');
    await db.client.query(sql);
    await db.client.query('COMMIT');
  } catch (e) {
    await db.client.query('ROLLBACK');
    throw e;
  }
}

const SETUP = `
  ALTER TABLE credentials ADD COLUMN slug text;
  UPDATE credentials SET slug = 'cred-' || id;
  ALTER TABLE credentials ADD CONSTRAINT credentials_slug_key UNIQUE (slug) DEFERRABLE INITIALLY DEFERRED;
  ALTER TABLE reports ADD COLUMN code text;
  UPDATE reports SET code = 'R-' || id WHERE id % 2 = 0;
  CREATE UNIQUE INDEX reports_code_live ON reports (lower(code)) WHERE code IS NOT NULL;`;

/**
 * The legacy application, as a role that owns nothing and bypasses nothing, with no tenant context: it inserts reports
 * with codes of its own (the index being swapped) and updates them, while the migration runs.
 */
const legacyWriter = (url: string) =>
  writeInLoop(url, async (client, round) => {
    await client.query(
      `INSERT INTO reports (credential_id, title, code) VALUES (1 + floor(random() * 200)::int, 'live', 'live-' || $1::text)`,
      [round],
    );
    await client.query(`UPDATE reports SET title = title WHERE code = 'live-' || $1::text`, [round]);
  });

describe(`global uniques made per org by the spec (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(SETUP);
  });
  afterEach(async () => {
    await db.drop();
  });

  const spec = {
    batchSize: 100,
    uniques: { 'public.credentials_slug_key': 'per-org', 'public.reports_code_live': 'per-org' },
  };

  it('two orgs can then hold the same slug; a re-run changes nothing; rollback puts the original back exactly', async () => {
    const ws = makeWorkspace(spec);
    const original = await definitions(db);
    assert.deepEqual(original, [
      'constraint credentials_slug_key UNIQUE (slug) DEFERRABLE INITIALLY DEFERRED',
      'index CREATE UNIQUE INDEX credentials_slug_key ON public.credentials USING btree (slug)',
      'index CREATE UNIQUE INDEX reports_code_live ON public.reports USING btree (lower(code)) WHERE (code IS NOT NULL)',
    ]);
    const app = `tm_app_${db.name.slice(-10)}`;
    await db.client.query(`CREATE ROLE ${app} LOGIN PASSWORD 'app-pw' NOSUPERUSER NOBYPASSRLS;
      GRANT SELECT, INSERT, UPDATE ON reports, credentials TO ${app}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${app};`);
    const appUrl = new URL(db.url);
    appUrl.username = app;
    appUrl.password = 'app-pw';
    const schemaBefore = await schemaFingerprint(db.client, ['public']);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const listed = plan.shapes.filter((s) => s.kind === 'global-unique');
    assert.deepEqual(
      listed.map((s) => [s.object, s.blocking]),
      [
        ['public.credentials_slug_key', false],
        ['public.reports_code_live', false],
      ],
    );
    assert.match(listed[0]!.message, /made per org by the migration.*\("org_id", "slug"\) is built CONCURRENTLY/);

    const writer = legacyWriter(appUrl.toString());
    let result;
    try {
      result = await withMigration(db.url, ws, (m) => m.runAll());
    } finally {
      const { failures, writes } = await writer.stop();
      assert.deepEqual(failures, [], 'the legacy application saw errors');
      assert.ok(writes > 0, 'the application wrote nothing while the migration ran');
    }
    assert.ok(
      result.ok,
      `${result.error?.oneLine} ${JSON.stringify(result.steps.flatMap((st) => st.checks.filter((c) => !c.ok && c.severity !== 'warning')))}`,
    );
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM reports WHERE org_id IS NULL`)).rows[0].n,
      0,
      'a live row has no org',
    );
    const perOrg = await definitions(db);
    const stateGrants = await db.client
      .query(`SELECT relname, relacl::text FROM pg_class WHERE oid IN ('tenant_migration.unique_choices'::regclass, 'tenant_migration.view_options'::regclass)
      AND (has_table_privilege('authenticated', oid, 'SELECT') OR has_table_privilege('anon', oid, 'SELECT'))`);
    assert.deepEqual(stateGrants.rows, [], 'the recorded originals are readable by the owner only');
    assert.deepEqual(perOrg, [
      'constraint credentials_slug_key_per_org UNIQUE (org_id, slug) DEFERRABLE INITIALLY DEFERRED',
      'index CREATE UNIQUE INDEX credentials_slug_key_per_org ON public.credentials USING btree (org_id, slug)',
      'index CREATE UNIQUE INDEX reports_code_live_per_org ON public.reports USING btree (org_id, lower(code)) WHERE (code IS NOT NULL)',
    ]);
    const orgs = (
      await db.client.query(
        `SELECT DISTINCT ON (org_id) org_id AS org, user_id AS user FROM credentials WHERE user_id IS NOT NULL ORDER BY org_id, user_id LIMIT 2`,
      )
    ).rows as { org: string; user: string }[];
    assert.equal(orgs.length, 2);
    const insert = `INSERT INTO credentials (user_id, provider, secret, slug) VALUES (auth.uid(), 'github', 's', 'shared-slug')`;
    await insertAs(db, orgs[0]!, insert);
    await insertAs(db, orgs[1]!, insert);
    assert.equal(
      (await db.client.query(`SELECT count(DISTINCT org_id)::int AS n FROM credentials WHERE slug = 'shared-slug'`))
        .rows[0].n,
      2,
      'two orgs hold the same slug',
    );
    await assert.rejects(
      insertAs(db, orgs[0]!, insert),
      /duplicate key value violates unique constraint "credentials_slug_key_per_org"/,
      'within one org it stays unique',
    );

    const rerun = await withMigration(db.url, ws, (m) => m.migrate());
    assert.equal(rerun.status, 'done', rerun.summary);
    assert.deepEqual(await definitions(db), perOrg, 'a re-run changes nothing');

    // The same script under psql -f, on a database as this one was: the same uniques.
    assert.deepEqual(await scriptUnderPsql(ws, SETUP, (twin) => definitions(twin)), perOrg);

    // While two orgs share the slug the global constraint cannot come back: refused, nothing changed.
    const shared = {
      schema: await schemaFingerprint(db.client, ['public', 'tenant_migration']),
      definitions: await definitions(db),
      data: ((await databaseDigest(db.client)) as { contents: Record<string, string> }).contents,
    };
    const refusedRollback = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refusedRollback instanceof MigrationError && refusedRollback.kind === 'refused', String(refusedRollback));
    assert.match(refusedRollback.next, /Nothing was changed/);
    assert.match(
      refusedRollback.message,
      /Cannot put back the UNIQUE constraint public\.credentials_slug_key.*rows of different orgs now share a value/,
    );
    const data = ((await databaseDigest(db.client)) as { contents: Record<string, string> }).contents;
    for (const key of Object.keys(shared.data).filter((k) => !/^tenant_migration\.(runs|steps)$/.test(k)))
      assert.equal(data[key], shared.data[key], `${key} changed`);
    assert.deepEqual(
      {
        schema: await schemaFingerprint(db.client, ['public', 'tenant_migration']),
        definitions: await definitions(db),
      },
      { schema: shared.schema, definitions: shared.definitions },
    );

    await db.client.query(`DELETE FROM credentials WHERE slug = 'shared-slug'`);
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(
      await definitions(db),
      original,
      'the original constraint and index, by name, definition and deferrability',
    );
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    await db.client.query(`DROP OWNED BY ${app}; DROP ROLE ${app}`);
  });

  it('a unique that a foreign key references: refused in the plan naming the foreign key; nothing changed', async () => {
    await db.client
      .query(`ALTER TABLE credentials DROP CONSTRAINT credentials_slug_key, ADD CONSTRAINT credentials_slug_key UNIQUE (slug);
      CREATE TABLE credential_aliases (alias text PRIMARY KEY, slug text REFERENCES credentials (slug));`);
    const ws = makeWorkspace(spec);
    const before = await databaseDigest(db.client);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const finding = plan.shapes.find((s) => s.object === 'public.credentials_slug_key');
    assert.ok(finding?.blocking, JSON.stringify(plan.shapes));
    assert.match(finding.message, /foreign key credential_aliases_slug_fkey on credential_aliases references it/);
    assert.match(finding.fix ?? '', /Remove "public\.credentials_slug_key" from "uniques"/);
    for (const command of ['backup', 'migrate'] as const) {
      const error = await withMigration(db.url, ws, (m) => m[command]()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof MigrationError && error.kind === 'refused', `${command}: ${String(error)}`);
      assert.match(error.next, /Nothing was changed/);
    }
    assertSameDigest(before, await databaseDigest(db.client));
    assert.equal((await db.client.query(`SELECT to_regnamespace('tenant_migration')::text AS s`)).rows[0].s, null);
  });

  it('a name in "uniques" that is not a unique of a migrated table is refused by its field', async () => {
    const ws = makeWorkspace({ batchSize: 100, uniques: { 'public.credentials_pkey': 'per-org' } });
    const error = await withMigration(db.url, ws, (m) => m.plan()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.match(
      error.message,
      /uniques\["public\.credentials_pkey"\]: public\.credentials_pkey is not a UNIQUE constraint or unique index of a migrated table/,
    );
  });
});
