// What the org trigger and the isolation policy refuse an application that is neither owner nor superuser:
// a row re-pointed at (or inserted under) another org's parent row, a forged org_id from a request without a
// tenant context, and a malformed context (a claim of "", a setting of 'abc'), which is no org and never an error.
// (How the request's org is read from a malformed value, for every org type: tenant-context-values.test.ts.)
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { ORG_PREFIX, USER_PREFIX, uuidOf } from '../fixtures/legacy-data';

const org = (n: number) => uuidOf(ORG_PREFIX, n);
const USER = uuidOf(USER_PREFIX, 1);

/** One request as `role` with `context` statements, rolled back; the error (code and message) or the rows. */
async function request(
  client: pg.Client,
  role: string,
  context: { sql: string; values: unknown[] }[],
  sql: string,
  values: unknown[] = [],
) {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${role}`);
    for (const c of context) await client.query(c.sql, c.values);
    return { rows: (await client.query(sql, values)).rows, code: undefined as string | undefined, message: '' };
  } catch (e) {
    return { rows: [], code: (e as { code?: string }).code, message: (e as Error).message };
  } finally {
    await client.query('ROLLBACK');
  }
}

const claims = (extra: Record<string, unknown>) => [
  {
    sql: `SELECT set_config('request.jwt.claims', $1, true)`,
    values: [JSON.stringify({ role: 'authenticated', sub: USER, ...extra })],
  },
];
const setting = (value: string | null) =>
  value === null ? [] : [{ sql: `SELECT set_config('app.current_org_id', $1, true)`, values: [value] }];
const OTHER_ORG = /the parent row belongs to another org/;

describe(`the org trigger and the policy refuse cross-org parents, forged orgs and malformed contexts (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  afterEach(async () => {
    await db.drop();
  });

  it('Supabase (authenticated with JWT claims, uuid orgs): transition mode and after enforce', async () => {
    db = await createTestDatabase();
    const ws: Workspace = makeWorkspace();
    await migrateFully(db.url, ws);
    const c = db.client;
    // A report of org 2 and a credential of org 3; a user whose layouts take org 2 by the query rule.
    const {
      rows: [mine],
    } = await c.query(`SELECT r.id, r.credential_id FROM reports r WHERE r.org_id = $1 ORDER BY r.id LIMIT 1`, [
      org(2),
    ]);
    const {
      rows: [theirs],
    } = await c.query(`SELECT id FROM credentials WHERE org_id = $1 ORDER BY id LIMIT 1`, [org(3)]);
    const {
      rows: [member],
    } = await c.query(
      `SELECT user_id, min(org_id::text) AS org FROM org_members GROUP BY user_id HAVING count(*) = 1 ORDER BY user_id LIMIT 1`,
    );
    const missing = 999_999_999;
    const reportsOf = async (context: ReturnType<typeof claims>) =>
      request(c, 'authenticated', context, `SELECT count(*)::int AS n FROM reports`);

    const crossOrg = async (label: string) => {
      const tenant = claims({ org_id: org(2) });
      const repoint = await request(
        c,
        'authenticated',
        tenant,
        `UPDATE reports SET credential_id = $1 WHERE id = $2 RETURNING id`,
        [theirs!.id, mine!.id],
      );
      assert.equal(repoint.code, '23503', `${label}: ${repoint.message}`);
      assert.match(repoint.message, OTHER_ORG);
      assert.doesNotMatch(repoint.message, new RegExp(org(3)), 'the message names no org');
      const inserted = await request(
        c,
        'authenticated',
        tenant,
        `INSERT INTO reports (credential_id, title, org_id) VALUES ($1, 'x', $2) RETURNING id`,
        [theirs!.id, org(2)],
      );
      assert.equal(inserted.code, '23503', `${label}: ${inserted.message}`);
      // A parent that does not exist: the foreign key's own error, of the same SQLSTATE.
      const nowhere = await request(c, 'authenticated', tenant, `UPDATE reports SET credential_id = $1 WHERE id = $2`, [
        missing,
        mine!.id,
      ]);
      assert.equal(nowhere.code, '23503', nowhere.message);
      // Its own parent, and a change of another column, still work.
      const own = await request(
        c,
        'authenticated',
        tenant,
        `UPDATE reports SET credential_id = $1, title = 'moved' WHERE id = $2 RETURNING org_id`,
        [mine!.credential_id, mine!.id],
      );
      assert.deepEqual(own.rows, [{ org_id: org(2) }], own.message);
      // A malformed claim is no org: no rows and no error, never the legacy access of a request without context.
      for (const bad of ['', 'abc', 42]) {
        const seen = await reportsOf(claims({ org_id: bad }));
        assert.deepEqual(
          [seen.code, seen.rows],
          [undefined, [{ n: 0 }]],
          `${label}: claim ${JSON.stringify(bad)}: ${seen.message}`,
        );
      }
    };

    // Transition mode, no org claim (the legacy application): its inserts without org_id get the rule's org;
    // one that agrees is stored; a forged one is refused (parent rule and query rule).
    const legacy = claims({});
    assert.ok(((await reportsOf(legacy)).rows[0] as { n: number }).n > 500, 'the legacy application keeps its access');
    const filled = await request(
      c,
      'authenticated',
      legacy,
      `INSERT INTO reports (credential_id, title) VALUES ($1, 'legacy') RETURNING org_id`,
      [theirs!.id],
    );
    assert.deepEqual(filled.rows, [{ org_id: org(3) }], filled.message);
    const agreeing = await request(
      c,
      'authenticated',
      legacy,
      `INSERT INTO reports (credential_id, title, org_id) VALUES ($1, 'legacy', $2) RETURNING org_id`,
      [theirs!.id, org(3)],
    );
    assert.deepEqual(agreeing.rows, [{ org_id: org(3) }], agreeing.message);
    const forged = await request(
      c,
      'authenticated',
      legacy,
      `INSERT INTO reports (credential_id, title, org_id) VALUES ($1, 'forged', $2) RETURNING org_id`,
      [theirs!.id, org(2)],
    );
    assert.equal(forged.code, '23503', forged.message);
    assert.match(forged.message, OTHER_ORG);
    const anon = await request(
      c,
      'anon',
      [],
      `INSERT INTO reports (credential_id, title, org_id) VALUES ($1, 'forged', $2) RETURNING org_id`,
      [theirs!.id, org(2)],
    );
    assert.equal(anon.code, '23503', anon.message);
    const layout = (orgId?: string) =>
      request(
        c,
        'authenticated',
        legacy,
        `INSERT INTO dashboard_layouts (id, user_id, layout${orgId ? ', org_id' : ''}) VALUES (gen_random_uuid(), $1, '{}'${orgId ? ', $2' : ''}) RETURNING org_id`,
        orgId ? [member!.user_id, orgId] : [member!.user_id],
      );
    assert.deepEqual((await layout()).rows, [{ org_id: member!.org }]);
    assert.deepEqual((await layout(member!.org)).rows, [{ org_id: member!.org }]);
    const forgedLayout = await layout(member!.org === org(4) ? org(5) : org(4));
    assert.equal(forgedLayout.code, '42501', forgedLayout.message);
    assert.match(
      forgedLayout.message,
      /without a tenant context cannot insert a row of public\.dashboard_layouts with another org_id than its rule gives/,
    );
    const legacyRepoint = await request(
      c,
      'authenticated',
      legacy,
      `UPDATE reports SET credential_id = $1 WHERE id = $2`,
      [theirs!.id, mine!.id],
    );
    assert.equal(
      legacyRepoint.code,
      '23503',
      'a request without context cannot move a row to another org by its parent either',
    );
    await crossOrg('transition');

    assert.equal((await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }))).status, 'done');
    await crossOrg('enforced');
    const noContext = await reportsOf(legacy);
    assert.deepEqual(noContext.rows, [{ n: 0 }], noContext.message);
  });

  it('plain PostgreSQL (an app role with a setting, integer orgs, a partitioned child): transition mode and after enforce', async () => {
    db = await createTestDatabase({ seed: false });
    const c = db.client;
    await c.query(`CREATE SCHEMA ref; CREATE TABLE ref.orgs (id int PRIMARY KEY); INSERT INTO ref.orgs VALUES (1), (2), (3);
      CREATE TABLE accounts (id int PRIMARY KEY, name text);
      CREATE TABLE ref.acct_map (account_id int PRIMARY KEY, org_id int);
      CREATE TABLE "Invoices" (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, amount numeric(10,2));
      CREATE TABLE events (id int, account_id int NOT NULL REFERENCES accounts (id), at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO accounts SELECT g, 'acct ' || g FROM generate_series(1, 30) g;
      INSERT INTO ref.acct_map SELECT g, (g % 2) + 2 FROM generate_series(1, 30) g;
      INSERT INTO "Invoices" SELECT g, (g % 30) + 1, g FROM generate_series(1, 300) g;
      INSERT INTO events SELECT g, (g % 30) + 1, date '2026-01-01' + g FROM generate_series(1, 300) g;
      DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tm_guard_app') THEN CREATE ROLE tm_guard_app NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$;
      GRANT USAGE ON SCHEMA public TO tm_guard_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, "Invoices", events, events_2026 TO tm_guard_app;
      -- verify-isolation probes service_role wherever the cluster has one (hostile finding 5, not this test's subject).
      DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA public TO service_role; GRANT ALL ON accounts, "Invoices", events, events_2026 TO service_role; END IF; END $$`);
    const ws = makeWorkspace({
      orgs: { table: 'ref.orgs', idColumn: 'id' },
      defaultOrgId: '1',
      tenantCredentials: undefined,
      mapping: { table: 'ref.acct_map', keyColumn: 'account_id', orgColumn: 'org_id' },
      tables: [
        { name: 'accounts', orgFrom: { mapping: { column: 'id' } } },
        { name: '"Invoices"', orgFrom: { parent: { table: 'accounts', column: 'account_id' } } },
        { name: 'events', orgFrom: { parent: { table: 'accounts', column: 'account_id' } } },
      ],
      tenantContext: { kind: 'setting', name: 'app.current_org_id' },
    });
    await migrateFully(db.url, ws);
    const app = (context: ReturnType<typeof setting>, sql: string, values: unknown[] = []) =>
      request(c, 'tm_guard_app', context, sql, values);
    // Account 1 is org 3's, account 2 org 2's; invoice 1 is on account 2.

    const crossOrg = async (label: string) => {
      const repoint = await app(setting('2'), `UPDATE "Invoices" SET account_id = 1 WHERE id = 1 RETURNING id`);
      assert.equal(repoint.code, '23503', `${label}: ${repoint.message}`);
      assert.match(
        repoint.message,
        /a row of public\."Invoices" cannot reference a row of public\.accounts by account_id: the parent row belongs to another org/,
      );
      const partition = await app(
        setting('2'),
        `INSERT INTO events (id, account_id, at, org_id) VALUES (9001, 1, '2026-05-01', 2)`,
      );
      assert.equal(partition.code, '23503', `${label}: ${partition.message}`);
      const own = await app(
        setting('2'),
        `INSERT INTO events (id, account_id, at) VALUES (9001, 2, '2026-05-01') RETURNING org_id`,
      );
      assert.deepEqual(own.rows, [{ org_id: 2 }], own.message);
      for (const bad of ['abc', '99999999999999999999', '2.0', '0x2']) {
        const seen = await app(setting(bad), `SELECT count(*)::int AS n FROM "Invoices"`);
        assert.deepEqual([seen.code, seen.rows], [undefined, [{ n: 0 }]], `${label}: setting ${bad}: ${seen.message}`);
      }
    };

    // Transition, no context: a forged org on a parent-rule and on a mapping-rule table is refused; left out, it is filled.
    const forged = await app(
      setting(null),
      `INSERT INTO "Invoices" (id, account_id, amount, org_id) VALUES (9001, 2, 1, 3)`,
    );
    assert.equal(forged.code, '23503', forged.message);
    const forgedAccount = await app(setting(null), `INSERT INTO accounts (id, name, org_id) VALUES (9001, 'x', 3)`);
    assert.equal(forgedAccount.code, undefined, 'a key the mapping does not know: the explicit org stands');
    await c.query(`INSERT INTO ref.acct_map VALUES (9002, 2)`);
    const mapped = await app(setting(null), `INSERT INTO accounts (id, name, org_id) VALUES (9002, 'x', 3)`);
    assert.equal(mapped.code, '42501', mapped.message);
    assert.deepEqual(
      (await app(setting(null), `INSERT INTO accounts (id, name) VALUES (9002, 'x') RETURNING org_id`)).rows,
      [{ org_id: 2 }],
    );
    assert.deepEqual(
      (await app(setting(null), `INSERT INTO "Invoices" (id, account_id, amount) VALUES (9001, 1, 1) RETURNING org_id`))
        .rows,
      [{ org_id: 3 }],
    );
    // A setting of '' is what SET LOCAL leaves behind on a pooled connection: no context, the legacy access.
    assert.deepEqual((await app(setting(''), `SELECT count(*)::int AS n FROM "Invoices"`)).rows, [{ n: 300 }]);
    await crossOrg('transition');

    assert.equal((await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }))).status, 'done');
    await crossOrg('enforced');
    assert.deepEqual((await app(setting(null), `SELECT count(*)::int AS n FROM "Invoices"`)).rows, [{ n: 0 }]);
    // Nothing of the above was stored: every invoice still has its account's org.
    const {
      rows: [wrong],
    } = await c.query(
      `SELECT count(*)::int AS n FROM "Invoices" i JOIN accounts a ON a.id = i.account_id WHERE i.org_id <> a.org_id`,
    );
    assert.equal(wrong!.n, 0);
  });
});
