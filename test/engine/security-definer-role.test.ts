// The role the triggers run as is one per database: two databases of one cluster, migrated by two operators, each get
// their own; a role made a member of one database's role is refused there; rollback takes back what the role was
// granted (and drops it); the script that names it is the same text whatever the database.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { adminQuery, createTestDatabase, definerRoleName, type TestDatabase } from '../support/database';
import { operatorDatabase } from '../support/operators';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { schemaFingerprint } from '../support/fingerprint';
import { USER_PREFIX } from '../fixtures/legacy-data';
import type { EngineEvent } from '../../src/engine/events';

const THIRD = 'tm_def_third';

async function serverMajor(db: TestDatabase): Promise<number> {
  return Math.floor(
    Number((await db.client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v) /
      10000,
  );
}

/** The owners of the migration's SECURITY DEFINER functions. */
async function definerOwners(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.client.query<{ owner: string }>(
    `SELECT DISTINCT pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE prosecdef AND pronamespace = 'tenant_migration'::regnamespace`,
  );
  return rows.map((r) => r.owner);
}

/** What a role holds in this database: ACL entries and owned objects (pg_shdepend), in any database. */
async function holdings(db: TestDatabase, role: string): Promise<number> {
  const { rows } = await db.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [role],
  );
  return rows[0]!.n;
}

/** An insert by the application (service_role, neither owner nor superuser, RLS applies), through the org trigger. */
async function applicationInsert(db: TestDatabase): Promise<string> {
  await db.client.query('GRANT INSERT, SELECT ON dashboard_layouts TO service_role');
  await db.client.query('BEGIN');
  try {
    await db.client.query('SET LOCAL ROLE service_role');
    const {
      rows: [row],
    } = await db.client.query<{ org_id: string }>(
      `INSERT INTO dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), $1, '{}') RETURNING org_id::text`,
      [`${USER_PREFIX}000000000001`],
    );
    return row!.org_id;
  } finally {
    await db.client.query('ROLLBACK');
  }
}

describe("security: one triggers' role per database", function () {
  this.timeout(180_000);
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
    await adminQuery(`DROP ROLE IF EXISTS ${THIRD}`);
  });

  it('two databases of one server, migrated by two non-superuser operators: both succeed, each with its own role', async () => {
    const a = await operatorDatabase('tm_def_op_a', 'pw-a');
    const b = await operatorDatabase('tm_def_op_b', 'pw-b');
    dbs.push(a.db, b.db);
    const major = await serverMajor(a.db);
    const events: EngineEvent[] = [];
    for (const { operatorUrl } of [a, b]) {
      const result = await withMigration(operatorUrl, makeWorkspace(), (m) => m.runAll(), events);
      assert.ok(result.ok, result.error?.oneLine);
    }
    const roleA = await definerRoleName(a.db.name);
    const roleB = await definerRoleName(b.db.name);
    assert.notEqual(roleA, roleB);
    assert.match(roleA, /^tenant_migration_definer_[0-9a-f]{12}$/);
    if (major >= 16) {
      assert.deepEqual(await definerOwners(a.db), [roleA]);
      assert.deepEqual(await definerOwners(b.db), [roleB]);
      // NOLOGIN, NOINHERIT, BYPASSRLS; its one member is its database's operator, who may SET it but inherits nothing.
      const { rows } = await a.db.client.query(
        `SELECT r.rolname AS role, r.rolcanlogin, r.rolinherit, r.rolbypassrls, pg_get_userbyid(m.member) AS member, m.inherit_option, m.set_option
           FROM pg_roles r JOIN pg_auth_members m ON m.roleid = r.oid WHERE r.rolname = ANY($1) AND m.set_option ORDER BY 1`,
        [[roleA, roleB]],
      );
      assert.deepEqual(
        rows,
        [roleA, roleB].sort().map((role) => ({
          role,
          rolcanlogin: false,
          rolinherit: false,
          rolbypassrls: true,
          member: role === roleA ? 'tm_def_op_a' : 'tm_def_op_b',
          inherit_option: false,
          set_option: true,
        })),
      );
    } else {
      // PostgreSQL 15: a non-superuser cannot create a BYPASSRLS role; the functions stay the operator's, as the script says.
      assert.deepEqual(await definerOwners(a.db), ['tm_def_op_a']);
      assert.deepEqual(await definerOwners(b.db), ['tm_def_op_b']);
      const notices = events.filter((e) => e.type === 'notice').map((e) => (e as { message: string }).message);
      assert.ok(
        notices.some((n) => n.includes(`tm_def_op_a cannot create the BYPASSRLS role ${roleA}`)),
        notices.join('\n'),
      );
      assert.ok(
        notices.some((n) => n.includes(`tm_def_op_b cannot create the BYPASSRLS role ${roleB}`)),
        notices.join('\n'),
      );
    }
    // The application's inserts get their org from the triggers in both databases.
    const orgOf = async (db: TestDatabase) =>
      (
        await db.client.query<{ id: string }>(`SELECT org_id::text AS id FROM org_members WHERE user_id = $1`, [
          `${USER_PREFIX}000000000001`,
        ])
      ).rows[0]!.id;
    assert.equal(await applicationInsert(a.db), await orgOf(a.db));
    assert.equal(await applicationInsert(b.db), await orgOf(b.db));
  });

  it("refuses a third role made a member of this database's role, naming the fix; another database is not concerned", async () => {
    // As a superuser, so that the role exists on PostgreSQL 15 too.
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    dbs.push(a, b);
    const ws = makeWorkspace();
    await migrateFully(a.url, ws);
    const roleA = await definerRoleName(a.name);
    await adminQuery(`CREATE ROLE ${THIRD} LOGIN`);
    await adminQuery(`GRANT ${roleA} TO ${THIRD}`);
    await migrateFully(b.url, makeWorkspace());
    assert.deepEqual(await definerOwners(b), [await definerRoleName(b.name)]);
    await assert.rejects(migrateFully(a.url, ws), (e: Error) => {
      assert.match(e.message, new RegExp(`other roles are members of ${roleA}.*${THIRD}`));
      assert.match(e.message, new RegExp(`REVOKE ${roleA} FROM ${THIRD}`));
      return true;
    });
    await adminQuery(`REVOKE ${roleA} FROM ${THIRD}`);
    await migrateFully(a.url, ws);
  });

  it('rollback takes back every grant the role received and drops it; kept (granted nothing) when something elsewhere refers to it', async () => {
    for (const keep of [false, true]) {
      const db = await createTestDatabase();
      dbs.push(db);
      const before = await schemaFingerprint(db.client, ['public']);
      assert.ok(
        before.some((l) => l.startsWith('grants on ')),
        'the fingerprint covers ACLs',
      );
      const ws = makeWorkspace();
      await migrateFully(db.url, ws);
      const role = await definerRoleName(db.name);
      const granted = await schemaFingerprint(db.client, ['public']);
      assert.ok(
        granted.some((l) => l.startsWith('grants on ') && l.includes('tenant_migration_definer=')),
        'the role was granted reads on public',
      );
      if (keep) await adminQuery(`GRANT CONNECT ON DATABASE postgres TO ${role}`);
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      assert.deepEqual(await schemaFingerprint(db.client, ['public']), before);
      const { rows: left } = await db.client.query(
        `SELECT c.oid::regclass::text AS rel FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = to_regrole($1)
          UNION SELECT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = to_regrole($1)
          UNION SELECT attrelid::regclass::text FROM pg_attribute, aclexplode(attacl) a WHERE a.grantee = to_regrole($1)`,
        [role],
      );
      assert.deepEqual(left, [], 'no grant of the role is left in the database');
      const exists = (await db.client.query(`SELECT to_regrole($1) IS NOT NULL AS e`, [role])).rows[0].e as boolean;
      if (keep) {
        assert.equal(exists, true);
        assert.match(step.summary ?? '', new RegExp(`kept the role ${role}: it holds privileges on pg_database`));
        assert.equal(await holdings(db, role), 1, 'only the CONNECT granted outside the migration');
        await adminQuery(`REVOKE CONNECT ON DATABASE postgres FROM ${role}`);
      } else {
        assert.equal(exists, false, 'the role is dropped');
      }
    }
  });

  it("the script does not depend on the database's name: one text, run on a rehearsal and on another database", async () => {
    const rehearsal = await createTestDatabase();
    const production = await createTestDatabase();
    dbs.push(rehearsal, production);
    const texts: string[] = [];
    for (const db of [rehearsal, production]) {
      const ws = makeWorkspace();
      const { path } = await withMigration(db.url, ws, (m) => m.generate());
      texts.push(fs.readFileSync(path, 'utf8'));
    }
    assert.equal(texts[0], texts[1]);
    for (const db of [rehearsal, production]) {
      assert.ok(!texts[0]!.includes(db.name));
      assert.ok(!texts[0]!.includes(await definerRoleName(db.name)));
    }
    // The rehearsal's script file, run on production, makes production's own role the owner.
    const ws = makeWorkspace();
    await withMigration(rehearsal.url, ws, (m) => m.generate());
    await migrateFully(rehearsal.url, ws);
    await migrateFully(production.url, ws);
    assert.deepEqual(await definerOwners(rehearsal), [await definerRoleName(rehearsal.name)]);
    assert.deepEqual(await definerOwners(production), [await definerRoleName(production.name)]);
  });
});
