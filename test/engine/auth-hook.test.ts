// The generated Supabase Custom Access Token Hook, called as Supabase Auth calls it (as supabase_auth_admin, with the
// event), its claims applied as PostgREST applies them (SET LOCAL ROLE authenticated, request.jwt.claims); and the
// roles that read across orgs (an existing hook reading user_roles) keep what they read.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { schemaFingerprint } from '../support/fingerprint';
import { ORG_PREFIX, USER_PREFIX, uuidOf, legacySpec } from '../fixtures/legacy-data';

const org = (n: number) => uuidOf(ORG_PREFIX, n);
const user = (n: number) => uuidOf(USER_PREFIX, n);
const HOOK = 'public.tenant_migration_access_token_hook';

const event = (userId: string, extra: Record<string, unknown> = {}) => ({
  user_id: userId,
  authentication_method: 'password',
  claims: {
    aud: 'authenticated',
    sub: userId,
    role: 'authenticated',
    app_metadata: {},
    user_metadata: { org_id: org(1) },
    ...extra,
  },
});

/** As Supabase Auth: the hook runs as supabase_auth_admin. */
async function callHook(db: TestDatabase, input: unknown, fn = HOOK): Promise<Record<string, unknown>> {
  await db.client.query('BEGIN');
  try {
    await db.client.query('SET LOCAL ROLE supabase_auth_admin');
    const { rows } = await db.client.query(`SELECT ${fn}($1::jsonb) AS e`, [JSON.stringify(input)]);
    await db.client.query('COMMIT');
    return rows[0].e as Record<string, unknown>;
  } catch (e) {
    await db.client.query('ROLLBACK');
    throw e;
  }
}

/** As PostgREST: the token's claims for the transaction, as authenticated. */
async function asClaims(db: TestDatabase, claims: unknown, sql: string): Promise<number> {
  await db.client.query('BEGIN');
  try {
    await db.client.query('SET LOCAL ROLE authenticated');
    await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
    return Number((await db.client.query(sql)).rows[0].n);
  } finally {
    await db.client.query('ROLLBACK');
  }
}

describe('Supabase Custom Access Token Hook', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(
      `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT; END IF; END $$`,
    );
  });
  afterEach(async () => {
    await db.drop();
  });

  it("gives a member's JWT the org claim from the membership table, never from user_metadata, and never raises", async () => {
    const ws = makeWorkspace({ authHook: { membership: { table: 'org_members' } } });
    await migrateFully(db.url, ws);
    const fn = await db.client
      .query(`SELECT p.prosecdef, has_function_privilege('supabase_auth_admin', p.oid, 'EXECUTE') AS admin,
      has_function_privilege('authenticated', p.oid, 'EXECUTE') AS authenticated, has_function_privilege('anon', p.oid, 'EXECUTE') AS anon
      FROM pg_proc p WHERE p.oid = '${HOOK}(jsonb)'::regprocedure`);
    assert.deepEqual(fn.rows[0], { prosecdef: false, admin: true, authenticated: false, anon: false });

    // user 1 is in org 2 only; user 13 in orgs 4 and 5; user 9 in none (and says org 1 in user_metadata)
    const member = await callHook(db, event(user(1)));
    const claims = member.claims as Record<string, unknown>;
    assert.equal(claims.org_id, org(2));
    assert.equal(claims.tenant_org_source, 'membership');
    assert.equal(claims.sub, user(1), 'the other claims are kept');
    const several = (await callHook(db, event(user(13)))).claims as Record<string, unknown>;
    assert.deepEqual([several.org_id, several.tenant_org_source], [undefined, 'ambiguous']);
    const none = (await callHook(db, event(user(9)))).claims as Record<string, unknown>;
    assert.deepEqual(
      [none.org_id, none.tenant_org_source],
      [undefined, 'none'],
      'user_metadata must never give an org',
    );
    const broken = (await callHook(db, { user_id: 'not-a-uuid', claims: { role: 'authenticated', org_id: org(3) } }))
      .claims as Record<string, unknown>;
    assert.deepEqual(
      [broken.org_id, broken.tenant_org_source],
      [undefined, 'error'],
      'a failing lookup gives no org, and no error',
    );
    assert.deepEqual(await callHook(db, { user_id: user(1), claims: 'not an object' }), {
      user_id: user(1),
      claims: 'not an object',
    });

    // The claims as PostgREST applies them: held to org 2 (transition mode already holds a request with a context).
    const orgTwo = Number(
      (await db.client.query(`SELECT count(*) AS n FROM reports WHERE org_id = '${org(2)}'`)).rows[0].n,
    );
    assert.equal(await asClaims(db, claims, 'SELECT count(*) AS n FROM reports'), orgTwo);

    // Enforcement waits until tokens issued before the hook first ran have expired (default one hour).
    await assert.rejects(
      withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true })),
      /may still be valid until/,
    );
    const later = new Date(Date.now() + 3601_000);
    const enforced = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true, now: later }));
    assert.equal(enforced.status, 'done', enforced.summary);
    assert.equal(await asClaims(db, claims, 'SELECT count(*) AS n FROM reports'), orgTwo);
    assert.equal(await asClaims(db, none.claims, 'SELECT count(*) AS n FROM reports'), 0, 'hook ran, no org: nothing');
  });

  it('activeOrg from app_metadata, checked against membership', async () => {
    await migrateFully(
      db.url,
      makeWorkspace({
        authHook: { membership: { table: 'org_members' }, activeOrg: { kind: 'app-metadata', key: 'active_org' } },
      }),
    );
    const chosen = (await callHook(db, event(user(13), { app_metadata: { active_org: org(5) } }))).claims as Record<
      string,
      unknown
    >;
    assert.equal(chosen.org_id, org(5));
    const notMember = (await callHook(db, event(user(13), { app_metadata: { active_org: org(1) } }))).claims as Record<
      string,
      unknown
    >;
    assert.deepEqual([notMember.org_id, notMember.tenant_org_source], [undefined, 'ambiguous']);
    const single = (await callHook(db, event(user(1), { app_metadata: { active_org: org(4) } }))).claims as Record<
      string,
      unknown
    >;
    assert.equal(single.org_id, org(2), 'an org the user is not a member of is ignored');
  });

  it("an existing hook reading user_roles as supabase_auth_admin keeps every admin's role; the plan lists the role", async () => {
    await db.client.query(`CREATE TABLE user_roles (user_id uuid PRIMARY KEY REFERENCES users (id), role text NOT NULL);
      INSERT INTO user_roles SELECT id, CASE WHEN email LIKE 'user1@%' OR email LIKE 'user13@%' THEN 'admin' ELSE 'member' END FROM users;
      ALTER TABLE user_roles ENABLE ROW LEVEL SECURITY;
      GRANT SELECT ON user_roles TO supabase_auth_admin;
      CREATE POLICY auth_admin_reads ON user_roles FOR SELECT TO supabase_auth_admin USING (true);
      CREATE FUNCTION public.role_hook(event jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_set(event, '{claims,user_role}', to_jsonb(coalesce((SELECT role FROM public.user_roles WHERE user_id = (event->>'user_id')::uuid), 'none')))
      $$;
      GRANT EXECUTE ON FUNCTION public.role_hook(jsonb) TO supabase_auth_admin`);
    const spec = legacySpec({ crossTenantRoles: ['supabase_auth_admin'] });
    (spec.tables as unknown[]).push({
      name: 'user_roles',
      orgFrom: {
        query: {
          column: 'user_id',
          sql: 'SELECT DISTINCT ON (user_id) user_id AS key, org_id FROM org_members ORDER BY user_id, org_id',
        },
      },
    });
    const ws = makeWorkspace(spec);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const listed = plan.accessRoles?.find((r) => r.role === 'supabase_auth_admin');
    assert.ok(
      listed?.crossTenant && listed.via.includes('grant') && listed.via.includes('policy'),
      JSON.stringify(plan.accessRoles),
    );
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
    for (const admin of [user(1), user(13)]) {
      const claims = (await callHook(db, event(admin), 'public.role_hook')).claims as Record<string, unknown>;
      assert.equal(claims.user_role, 'admin', 'an admin lost their role');
    }
    const verified = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    const cross = verified.checks.filter((c) => c.name.includes('cross-tenant role supabase_auth_admin'));
    assert.ok(cross.length > 0 && cross.every((c) => c.ok), JSON.stringify(cross));
    assert.equal(verified.status, 'done', JSON.stringify(verified.checks.filter((c) => !c.ok).slice(0, 3)));
  });
  it("rollback takes back the hook's read policy and grants on the membership table; keeps only the hook function and what calling it needs, and says so", async () => {
    // The membership table has RLS of its own, as on Supabase: the hook reads it through its policy.
    await db.client.query(
      `ALTER TABLE org_members ENABLE ROW LEVEL SECURITY; CREATE POLICY members_read_own ON org_members FOR SELECT TO authenticated USING (true)`,
    );
    const ws = makeWorkspace({ authHook: { membership: { table: 'org_members' } } });
    const before = await schemaFingerprint(db.client, ['public']);
    await migrateFully(db.url, ws);
    const admin = async () =>
      (
        await db.client.query(`SELECT has_table_privilege('supabase_auth_admin', 'org_members', 'SELECT') AS read,
      EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'org_members'::regclass AND polname = 'tenant_migration_auth_hook_read') AS policy`)
      ).rows[0];
    assert.deepEqual(await admin(), { read: true, policy: true });
    assert.equal(((await callHook(db, event(user(1)))) as { claims: Record<string, unknown> }).claims.org_id, org(2));
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await admin(), { read: false, policy: false });
    assert.match(
      step.summary ?? '',
      /the auth hook "public"\."tenant_migration_access_token_hook"\(jsonb\) is kept.*EXECUTE and USAGE ON SCHEMA "public" for supabase_auth_admin.*switch the hook off.*DROP FUNCTION.*DROP SCHEMA "tenant_migration_auth" CASCADE; REVOKE USAGE ON SCHEMA "public" FROM supabase_auth_admin;/,
    );
    // Sign-ins keep working: the hook never raises; it adds no org claim, which nothing uses after rollback.
    const after = (await callHook(db, event(user(1)))) as { claims: Record<string, unknown> };
    assert.equal(after.claims.org_id, undefined);
    assert.equal(after.claims.sub, user(1));
    // Exactly what the summary names is left: the function with its EXECUTE grant, and USAGE on public for supabase_auth_admin.
    const afterSchema = await schemaFingerprint(db.client, ['public']);
    const publicUsage = (lines: string[]) => lines.find((l) => l.startsWith('grants on schema public: '))!;
    assert.deepEqual(
      afterSchema.filter((l) => !before.includes(l)),
      [
        'function public.tenant_migration_access_token_hook(jsonb)',
        'grants on function tenant_migration_access_token_hook(jsonb): postgres=X/postgres,supabase_auth_admin=X/postgres',
        `${publicUsage(before)},supabase_auth_admin=U/pg_database_owner`,
      ].sort(),
    );
    assert.deepEqual(
      before.filter((l) => !afterSchema.includes(l)),
      [publicUsage(before)],
    );
    // A second migration and rollback give the same result.
    await migrateFully(db.url, ws);
    await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), afterSchema);
  });
});
