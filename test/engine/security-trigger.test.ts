// The org trigger runs with powers the application lacks: no name a tenant, an application role or another
// database role can create (temp tables and views, pg_temp functions, a schema of its own) may stand in for the
// objects the spec's query names, and the trigger runs as a NOLOGIN role with only the reads it needs.
import assert from 'node:assert/strict';
import { adminQuery, definerRoleName, type TestDatabase } from '../support/database';
import { connectAs, operatorDatabase } from '../support/operators';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { USER_PREFIX } from '../fixtures/legacy-data';

const NEW_USER = `${USER_PREFIX}00000000ffff`;
const OPERATOR = 'tm_sec_operator';

/** A database set up as on Supabase (test/support/operators.ts), migrated by the operator. */
const supabaseLikeDatabase = () => operatorDatabase(OPERATOR, 'op-pw');

describe('security: the org trigger', () => {
  let db: TestDatabase;
  let operatorUrl: string;
  beforeEach(async () => {
    ({ db, operatorUrl } = await supabaseLikeDatabase());
  });
  afterEach(async () => {
    await db.drop();
    await adminQuery('DROP ROLE IF EXISTS tm_mallory').catch(() => undefined);
  });

  it("runs no code of a hostile role that shadows the query's names, and a legacy insert for a new user gets its org", async () => {
    const ws = makeWorkspace();
    await migrateFully(operatorUrl, ws);
    const definer = await definerRoleName(db.name);
    const major =
      Number((await db.client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v) /
      10000;

    // Every SECURITY DEFINER function: pg_temp last, owned by the NOLOGIN role (PostgreSQL 16+) or the operator (15).
    const { rows: functions } = await db.client.query<{ owner: string; config: string[] }>(
      `SELECT pg_get_userbyid(p.proowner) AS owner, p.proconfig AS config FROM pg_proc p WHERE p.prosecdef
        AND p.pronamespace = 'tenant_migration'::regnamespace`,
    );
    assert.ok(functions.length >= 4, 'the org and ledger trigger functions');
    for (const f of functions) {
      assert.deepEqual(f.config, ['search_path=pg_catalog, pg_temp']);
      assert.equal(f.owner, major >= 16 ? definer : OPERATOR);
    }
    if (major >= 16) {
      const {
        rows: [role],
      } = await db.client.query(`SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, [
        definer,
      ]);
      assert.deepEqual(role, { rolcanlogin: false, rolsuper: false, rolbypassrls: true });
      // It reads what the rules need and nothing else: never the credentials' secrets.
      const {
        rows: [secret],
      } = await db.client.query(`SELECT has_column_privilege($1, 'public.credentials', 'secret', 'SELECT') AS can`, [
        definer,
      ]);
      assert.equal(secret!.can, false);
    }
    // No application role may execute them (default privileges granted EXECUTE on every function to anon).
    const { rows: executable } = await db.client.query(
      `SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'tenant_migration'::regnamespace AND p.prosecdef
        AND (has_function_privilege('anon', p.oid, 'EXECUTE') OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))`,
    );
    assert.deepEqual(executable, []);

    // A user added after the migration, in org 3.
    const {
      rows: [org3],
    } = await db.client.query<{ id: string }>(`SELECT id FROM orgs WHERE name = 'Org 3'`);
    await db.client.query(`INSERT INTO users (id, email) VALUES ($1, 'new@example.test')`, [NEW_USER]);
    await db.client.query(`INSERT INTO org_members (org_id, user_id) VALUES ($1, $2)`, [org3!.id, NEW_USER]);

    // The hostile role: INSERT on the table, TEMP (everyone has it), and a schema of its own first on its search_path.
    await db.client.query(`CREATE ROLE tm_mallory LOGIN PASSWORD 'mallory-pw' NOBYPASSRLS`);
    await db.client.query(
      `CREATE SCHEMA mallory AUTHORIZATION tm_mallory; GRANT USAGE ON SCHEMA public TO tm_mallory; GRANT INSERT, SELECT ON dashboard_layouts TO tm_mallory`,
    );
    const mallory = await connectAs(db, 'tm_mallory', 'mallory-pw');
    const notices: string[] = [];
    mallory.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      await mallory.query(
        `CREATE FUNCTION pg_temp.evil() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'evil ran as %', current_user; RETURN '${org3!.id}'; END $$`,
      );
      await mallory.query(
        `CREATE TEMP VIEW org_members AS SELECT '${NEW_USER}'::uuid AS user_id, pg_temp.evil() AS org_id`,
      );
      await mallory.query(`CREATE TEMP TABLE assign_dashboard_layouts (key uuid, org_id uuid)`);
      await mallory.query(
        `CREATE FUNCTION mallory.coalesce_org(uuid) RETURNS uuid LANGUAGE sql AS $$ SELECT pg_temp.evil() $$`,
      );
      await mallory.query(
        `CREATE TABLE mallory.org_members AS SELECT '${NEW_USER}'::uuid AS user_id, pg_temp.evil() AS org_id`,
      );
      notices.length = 0;
      await mallory.query(`SET search_path = mallory, pg_temp, public`);
      await mallory
        .query(`INSERT INTO public.dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), $1, '{}')`, [
          NEW_USER,
        ])
        .catch(() => undefined);
      assert.deepEqual(
        notices.filter((n) => n.startsWith('evil ran as')),
        [],
        'code of the hostile role ran inside the trigger',
      );
    } finally {
      await mallory.end();
    }

    // The legacy application (a role that is neither owner nor superuser), its session shadowing the name too.
    await db.client.query('GRANT INSERT, SELECT ON dashboard_layouts TO service_role');
    await db.client.query('BEGIN');
    try {
      await db.client.query('CREATE TEMP VIEW org_members AS SELECT NULL::uuid AS user_id, NULL::uuid AS org_id');
      await db.client.query('SET LOCAL ROLE service_role');
      const {
        rows: [row],
      } = await db.client.query<{ org_id: string }>(
        `INSERT INTO public.dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), $1, '{}') RETURNING org_id::text`,
        [NEW_USER],
      );
      assert.equal(row!.org_id, org3!.id);
    } finally {
      await db.client.query('ROLLBACK');
    }
  });

  it("keeps the migration's state from application roles whatever the default privileges, and validation says so", async () => {
    const ws = makeWorkspace();
    await migrateFully(operatorUrl, ws);
    const { rows } = await db.client.query(
      `SELECT c.relname, r.rolname FROM pg_class c, (VALUES ('anon'), ('authenticated')) AS r(rolname)
        WHERE c.relnamespace = 'tenant_migration'::regnamespace AND c.relkind IN ('r', 'S')
          AND (has_table_privilege(r.rolname, c.oid, 'SELECT') OR has_table_privilege(r.rolname, c.oid, 'UPDATE') OR has_table_privilege(r.rolname, c.oid, 'INSERT'))`,
    );
    // The one exception: the org ids known at migration time, SELECT for every role because the transition policy reads
    // them as the requesting role; no role can name the table (no USAGE on the schema) nor write it.
    assert.deepEqual(
      rows.filter((r) => r.relname !== 'transition_orgs'),
      [],
    );
    const writable = await db.client.query(
      `SELECT has_table_privilege('anon', 'tenant_migration.transition_orgs', 'INSERT, UPDATE, DELETE, TRUNCATE') AS w`,
    );
    assert.equal(writable.rows[0].w, false);
    await db.client.query('BEGIN');
    await db.client.query('SET LOCAL ROLE anon');
    await assert.rejects(
      db.client.query(`SELECT * FROM tenant_migration.transition_orgs`),
      /permission denied for schema/,
    );
    await db.client.query('ROLLBACK');
    // anon cannot change the assignments the trigger uses (the finding).
    await db.client.query('BEGIN');
    await db.client.query('SET LOCAL ROLE anon');
    await assert.rejects(
      db.client.query(`UPDATE tenant_migration.assign_dashboard_layouts SET org_id = org_id`),
      /permission denied/,
    );
    await db.client.query('ROLLBACK');
    const privacy = async () =>
      withMigration(operatorUrl, ws, async (m) =>
        (await m.validate()).checks.find((c) => c.name === 'No other role can read or write tenant_migration')!,
      );
    assert.equal((await privacy()).ok, true);
    await db.client.query('GRANT SELECT ON tenant_migration.backups TO anon');
    const leaked = await privacy();
    assert.equal(leaked.ok, false);
    assert.match(leaked.detail, /anon \(SELECT on backups\)/);
  });

  it('refuses a state schema another role owns or may create in, naming the role and the fix', async () => {
    const ws = makeWorkspace();
    await db.client.query(`CREATE ROLE tm_mallory LOGIN PASSWORD 'mallory-pw'`);
    await db.client.query(`CREATE SCHEMA tenant_migration AUTHORIZATION tm_mallory`);
    await assert.rejects(
      migrateFully(operatorUrl, ws),
      /tenant_migration is owned by tm_mallory.*ALTER SCHEMA tenant_migration OWNER TO tm_sec_operator/s,
    );
    await db.client.query(`ALTER SCHEMA tenant_migration OWNER TO ${OPERATOR}`);
    await db.client.query(`GRANT CREATE ON SCHEMA tenant_migration TO tm_mallory`);
    await assert.rejects(
      migrateFully(operatorUrl, ws),
      /tm_mallory may create objects in the schema tenant_migration.*REVOKE CREATE ON SCHEMA tenant_migration FROM tm_mallory/s,
    );
    const { rows } = await db.client.query(
      `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'tenant_migration'::regnamespace`,
    );
    assert.equal(rows[0]!.n, 0, 'nothing was written into the foreign schema');
  });
});
