import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { dataFingerprint, legacyColumns, schemaFingerprint, tableDigest, LEGACY_TABLES } from '../support/fingerprint';

describe('migrate', () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('adds org_id and changes nothing else in any existing row (triggers such as updated_at do not fire)', async () => {
    const before = await dataFingerprint(db.client);
    await migrateFully(db.url, ws);
    assert.deepEqual(await dataFingerprint(db.client), before);
    for (const t of LEGACY_TABLES) {
      const { rows } = await db.client.query(`SELECT count(*)::int AS n FROM ${t} WHERE org_id IS NULL`);
      assert.equal(rows[0].n, 0, `${t} has rows without org`);
    }
  });

  it('takes backups once that equal the pre-migration data, never overwritten, readable by no application role', async () => {
    const pre: Record<string, { rows: number; digest: string }> = {};
    for (const t of LEGACY_TABLES) pre[t] = await tableDigest(db.client, t);
    await migrateFully(db.url, ws);
    for (const t of LEGACY_TABLES)
      assert.deepEqual(
        await tableDigest(db.client, `tenant_migration.backup_${t}`, await legacyColumns(db.client, t)),
        pre[t],
      );
    const takenAt = (await db.client.query(`SELECT backup_table, taken_at FROM tenant_migration.backups ORDER BY 1`))
      .rows;
    await db.client.query(`UPDATE credentials SET provider = 'changed' WHERE id = 1`);
    await withMigration(db.url, ws, (m) => m.backup());
    await migrateFully(db.url, ws);
    assert.deepEqual(
      (await db.client.query(`SELECT backup_table, taken_at FROM tenant_migration.backups ORDER BY 1`)).rows,
      takenAt,
    );
    assert.deepEqual(
      await tableDigest(
        db.client,
        'tenant_migration.backup_credentials',
        await legacyColumns(db.client, 'credentials'),
      ),
      pre.credentials,
    );
    for (const role of ['anon', 'authenticated', 'service_role']) {
      const { rows } = await db.client.query(
        `SELECT has_table_privilege($1, 'tenant_migration.backup_credentials', 'SELECT') AS t, has_schema_privilege($1, 'tenant_migration', 'USAGE') AS s`,
        [role],
      );
      assert.deepEqual(rows[0], { t: false, s: false }, `${role} can reach the backups`);
    }
    await db.client.query('BEGIN');
    await db.client.query('SET LOCAL ROLE authenticated');
    await assert.rejects(db.client.query('SELECT * FROM tenant_migration.backup_credentials'), /permission denied/);
    await db.client.query('ROLLBACK');
  });

  it('is idempotent: a second run changes no row and no schema object', async () => {
    await migrateFully(db.url, ws);
    const schema = await schemaFingerprint(db.client, ['public']);
    const versions = async () =>
      (
        await db.client.query(
          `SELECT (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM credentials) AS c, (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM reports) AS r, (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM dashboard_layouts) AS d`,
        )
      ).rows[0];
    const rowVersions = await versions();
    await migrateFully(db.url, ws);
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schema);
    assert.deepEqual(await versions(), rowVersions, 'a row was rewritten by the second run');
  });

  it('writes the tenant_credentials ledger: one row per credential, its org and source, RLS enabled and forced', async () => {
    await migrateFully(db.url, ws);
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM credentials) AS credentials,
      (SELECT count(*)::int FROM tenant_credentials) AS ledger,
      (SELECT count(*)::int FROM tenant_credentials t JOIN credentials c ON c.id = t.credential_id AND c.org_id = t.org_id) AS agreeing,
      (SELECT count(*)::int FROM tenant_credentials WHERE source = 'default') AS defaults,
      (SELECT count(*)::int FROM tenant_credentials WHERE source = 'mapping') AS mapped,
      (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'tenant_credentials'::regclass) AS rls`);
    assert.deepEqual(rows[0], { credentials: 200, ledger: 200, agreeing: 200, defaults: 28, mapped: 172, rls: true });
    await db.client.query(
      `INSERT INTO credentials (user_id, provider, secret, org_id) SELECT user_id, 'new', 'x', org_id FROM credentials WHERE id = 1`,
    );
    assert.equal(
      (
        await db.client.query(
          `SELECT count(*)::int AS n FROM tenant_credentials t JOIN credentials c ON c.id = t.credential_id WHERE c.provider = 'new' AND t.source = 'live'`,
        )
      ).rows[0].n,
      1,
    );
  });

  it('the generated script runs unchanged under psql -v ON_ERROR_STOP=1 -f with the same result', async () => {
    const twin = await createTestDatabase();
    try {
      await withMigration(db.url, ws, (m) => m.generate());
      await migrateFully(db.url, ws);
      const r = spawnSync(
        'psql',
        [twin.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        await schemaFingerprint(twin.client, ['public']),
        await schemaFingerprint(db.client, ['public']),
      );
      for (const t of [...LEGACY_TABLES, 'tenant_credentials']) {
        const cols = (await legacyColumns(db.client, t)).filter((c) => !c.endsWith('_at')); // timestamps differ between two seedings
        assert.deepEqual(
          await tableDigest(twin.client, t, [...cols, 'org_id']),
          await tableDigest(db.client, t, [...cols, 'org_id']),
          t,
        );
      }
    } finally {
      await twin.drop();
    }
  });

  it('warns when the mapping has no index on its key (the org trigger looks up every new row there), and names the fix', async () => {
    const check = async () =>
      (await withMigration(db.url, ws, (m) => m.prerequisites())).checks.find(
        (c) => c.name === "Index on the mapping's credential_id",
      )!;
    const before = await check();
    assert.equal(before.ok, false);
    assert.equal(before.severity, 'warning');
    assert.match(
      before.detail,
      /CREATE INDEX CONCURRENTLY ON "public"\."legacy_credential_org_map" \("credential_id"\)/,
    );
    await db.client.query('CREATE INDEX ON legacy_credential_org_map (credential_id)');
    assert.equal((await check()).ok, true);
  });

  it('never lets row-level security silently filter its own counts', async () => {
    await migrateFully(db.url, ws);
    // An owner without BYPASSRLS, with RLS forced, would see 0 rows: the tool must fail loudly instead.
    await db.client.query(`CREATE ROLE tm_owner LOGIN PASSWORD 'tm-owner-pw' NOBYPASSRLS`);
    await db.client.query(
      `GRANT ALL ON ALL TABLES IN SCHEMA public, tenant_migration TO tm_owner; GRANT USAGE ON SCHEMA tenant_migration TO tm_owner; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tenant_migration TO tm_owner`,
    );
    for (const t of ['credentials', 'reports', 'dashboard_layouts', 'tenant_credentials'])
      await db.client.query(`ALTER TABLE ${t} OWNER TO tm_owner`);
    await db.client.query('ALTER SCHEMA tenant_migration OWNER TO tm_owner'); // a state schema of another owner is refused
    const url = new URL(db.url);
    url.username = 'tm_owner';
    url.password = 'tm-owner-pw';
    try {
      const result = await withMigration(url.toString(), ws, async (m) => {
        const pre = await m.prerequisites().catch((e: Error) => e);
        const validation = await m.validate().catch((e: Error) => e);
        return { pre, validation };
      });
      assert.ok(!(result.pre instanceof Error), String(result.pre));
      assert.ok(result.pre.checks.some((c) => c.name === 'Bypasses row-level security' && !c.ok));
      assert.ok(result.validation instanceof Error, 'validation returned results under row-level security');
      assert.match(result.validation.message, /row-level security/);
    } finally {
      await db.client.query(`REASSIGN OWNED BY tm_owner TO postgres; DROP OWNED BY tm_owner; DROP ROLE tm_owner`);
    }
  });
});
