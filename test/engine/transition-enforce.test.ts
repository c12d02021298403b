// The decisive test of transition mode: an application connecting as a role that is neither owner nor superuser
// (Supabase's authenticated with JWT claims, a plain app role with a session setting) and as the tables' owner keeps
// every read and write working during and after migrate; enforce then holds it to its org; undo goes back.
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { ORG_PREFIX, USER_PREFIX, uuidOf } from '../fixtures/legacy-data';

const org = (n: number) => uuidOf(ORG_PREFIX, n);
const USER = uuidOf(USER_PREFIX, 1);
const NEW_ORG = org(99);

interface App {
  readonly name: string;
  readonly role: string;
  readonly spec: Record<string, unknown>;
  /** The statements that set the tenant context in a transaction (none: the request carries no context). */
  context(orgId: string | null): { sql: string; values: unknown[] }[];
  /** What the role could read of credentials before the migration, as SQL for the superuser ('' when it had no access). */
  readonly credentialsBefore: string;
  setup(client: pg.Client): Promise<void>;
}

const appRoleGrants = (role: string) => `GRANT USAGE ON SCHEMA public TO ${role};
  GRANT SELECT, INSERT, UPDATE, DELETE ON reports, dashboard_layouts TO ${role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`;

/** Roles are cluster-wide: created once, reused by every test database. */
const createRole = (role: string) =>
  `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$`;

const APPS: App[] = [
  {
    name: 'Supabase: authenticated with JWT claims',
    role: 'authenticated',
    spec: {},
    context: (o) => [
      {
        sql: `SELECT set_config('request.jwt.claims', $1, true)`,
        values: [JSON.stringify({ role: 'authenticated', sub: USER, ...(o ? { org_id: o } : {}) })],
      },
    ],
    credentialsBefore: `SELECT count(*)::int AS n FROM credentials WHERE user_id = '${USER}'`,
    setup: async () => {},
  },
  {
    name: 'plain PostgreSQL: an app role with a per-transaction setting',
    role: 'tm_app_user',
    spec: { tenantContext: { kind: 'setting', name: 'app.current_org_id' } },
    context: (o) => (o ? [{ sql: `SELECT set_config('app.current_org_id', $1, true)`, values: [o] }] : []),
    credentialsBefore: '',
    setup: async (c) => {
      await c.query(`${createRole('tm_app_user')}; ${appRoleGrants('tm_app_user')}`);
    },
  },
  {
    name: "plain PostgreSQL: the application connects as the tables' owner",
    role: 'tm_app_owner',
    spec: { tenantContext: { kind: 'setting', name: 'app.current_org_id' } },
    context: (o) => (o ? [{ sql: `SELECT set_config('app.current_org_id', $1, true)`, values: [o] }] : []),
    credentialsBefore: `SELECT count(*)::int AS n FROM credentials`,
    setup: async (c) => {
      await c.query(`${createRole('tm_app_owner')}; GRANT USAGE, CREATE ON SCHEMA public TO tm_app_owner`);
      for (const t of ['credentials', 'reports', 'dashboard_layouts'])
        await c.query(`ALTER TABLE ${t} OWNER TO tm_app_owner`);
    },
  },
];

interface Seen {
  reports: number;
  layouts: number;
  credentials?: number;
}

/** One request of the application, rolled back or committed: reads in one snapshot, then writes. */
class Application {
  readonly failures: string[] = [];
  readonly mismatches: string[] = [];
  writes = 0;
  constructor(
    private readonly client: pg.Client,
    private readonly app: App,
  ) {}

  private async begin(orgId: string | null, mode = ''): Promise<void> {
    await this.client.query(`BEGIN ${mode}`);
    await this.client.query(`SET LOCAL ROLE ${this.app.role}`);
    for (const s of this.app.context(orgId)) await this.client.query(s.sql, s.values);
  }

  async read(orgId: string | null): Promise<Seen> {
    await this.begin(orgId, 'ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const n = async (sql: string) => Number((await this.client.query(sql)).rows[0].n);
      return {
        reports: await n('SELECT count(*) AS n FROM reports'),
        layouts: await n('SELECT count(*) AS n FROM dashboard_layouts'),
        credentials: this.app.credentialsBefore ? await n('SELECT count(*) AS n FROM credentials') : undefined,
      };
    } finally {
      await this.client.query('ROLLBACK');
    }
  }

  /** Reads as the application and, in the same snapshot, what it saw before the migration (as the superuser). */
  async readAndCompare(orgId: null): Promise<void> {
    await this.begin(orgId, 'ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const n = async (sql: string) => Number((await this.client.query(sql)).rows[0].n);
      const seen = [
        await n('SELECT count(*) AS n FROM reports'),
        await n('SELECT count(*) AS n FROM dashboard_layouts'),
        this.app.credentialsBefore ? await n('SELECT count(*) AS n FROM credentials') : 0,
      ];
      await this.client.query('RESET ROLE');
      const before = [
        await n('SELECT count(*) AS n FROM reports'),
        await n('SELECT count(*) AS n FROM dashboard_layouts'),
        this.app.credentialsBefore ? await n(this.app.credentialsBefore) : 0,
      ];
      if (seen.join() !== before.join()) this.mismatches.push(`saw ${seen.join('/')} of ${before.join('/')}`);
    } finally {
      await this.client.query('ROLLBACK');
    }
  }

  /** Insert, update and delete a report, add a layout, touch the user's credentials; every statement must do its rows. */
  async write(orgId: string | null): Promise<void> {
    await this.begin(orgId);
    try {
      const inserted = await this.client.query(
        `INSERT INTO reports (credential_id, title) VALUES (NULL, 'app') RETURNING id`,
      );
      const id = inserted.rows[0].id as string;
      const updated = await this.client.query(`UPDATE reports SET title = 'app, updated' WHERE id = $1`, [id]);
      const layout = await this.client.query(
        `INSERT INTO dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), $1, '{}')`,
        [USER],
      );
      if (this.app.credentialsBefore)
        await this.client.query(`UPDATE credentials SET provider = provider WHERE user_id = $1`, [USER]);
      const deleted = await this.client.query(`DELETE FROM reports WHERE id = $1`, [id]);
      if (updated.rowCount !== 1 || layout.rowCount !== 1 || deleted.rowCount !== 1)
        throw new Error(`rows: update ${updated.rowCount}, layout ${layout.rowCount}, delete ${deleted.rowCount}`);
      await this.client.query('COMMIT');
      this.writes++;
    } catch (e) {
      await this.client.query('ROLLBACK');
      throw e;
    }
  }

  async attempt(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      this.failures.push((e as Error).message);
    }
  }
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Requests without and with a context, in a loop, while `during` runs. */
async function whileRunning<T>(
  url: string,
  app: App,
  during: () => Promise<T>,
): Promise<{ result: T; apps: Application[] }> {
  const clients = [await connect(url), await connect(url)];
  const noContext = new Application(clients[0]!, app);
  const withContext = new Application(clients[1]!, app);
  let stop = false;
  const loops = [
    (async () => {
      while (!stop) {
        await noContext.attempt(() => noContext.readAndCompare(null));
        await noContext.attempt(() => noContext.write(null));
      }
    })(),
    (async () => {
      while (!stop) {
        await withContext.attempt(() => withContext.read(org(2)).then(() => undefined));
        await withContext.attempt(() => withContext.write(org(2)));
      }
    })(),
  ];
  try {
    return { result: await during(), apps: [noContext, withContext] };
  } finally {
    stop = true;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.end()));
  }
}

const count = async (db: TestDatabase, sql: string) => Number((await db.client.query(sql)).rows[0].n);

for (const app of APPS) {
  describe(`transition mode and enforce: ${app.name}`, () => {
    let db: TestDatabase;
    let ws: Workspace;
    beforeEach(async () => {
      db = await createTestDatabase();
      await app.setup(db.client);
      ws = makeWorkspace({ batchSize: 100, ...app.spec });
    });
    afterEach(async () => {
      await db.drop();
    });

    it('keeps every read and write working during and after migrate; enforce holds it to its org; undo goes back', async () => {
      const { result, apps } = await whileRunning(db.url, app, () => withMigration(db.url, ws, (m) => m.runAll()));
      assert.ok(result.ok, result.error?.oneLine);
      assert.equal(
        result.steps.find((s) => s.step === 'enforce'),
        undefined,
        'run stops before enforce',
      );
      for (const a of apps) {
        assert.deepEqual(a.failures, [], 'the application saw errors during the run');
        assert.ok(a.writes > 0, 'the application wrote nothing while the migration ran');
      }
      assert.deepEqual(
        apps[0]!.mismatches,
        [],
        'a request without a context did not see what it saw before the migration',
      );

      // After migrate: without a context, exactly the old access; with one, its org only.
      const client = await connect(db.url);
      const application = new Application(client, app);
      try {
        await application.readAndCompare(null);
        await application.write(null);
        await application.write(org(2));
        assert.deepEqual(application.mismatches, []);
        // The owner is held only once FORCE is on (enforce): until then row-level security does not apply to it at all.
        const own = await application.read(org(2));
        const scope = app.role === 'tm_app_owner' ? '' : ` WHERE org_id = '${org(2)}'`;
        assert.equal(own.reports, await count(db, `SELECT count(*) AS n FROM reports${scope}`));
        assert.equal(own.layouts, await count(db, `SELECT count(*) AS n FROM dashboard_layouts${scope}`));

        // A new org's rows stay out of reach of requests without a context; no such request moves a row to another org.
        await db.client.query(
          `INSERT INTO orgs (id, name) VALUES ('${NEW_ORG}', 'new'); INSERT INTO reports (title, org_id) VALUES ('new org', '${NEW_ORG}')`,
        );
        const all = await count(db, 'SELECT count(*) AS n FROM reports');
        const noContext = await application.read(null);
        assert.equal(
          noContext.reports,
          app.role === 'tm_app_owner' ? all : all - 1,
          'the owner is not held until enforce; any other role is',
        );
        const move = (table: string) => async () => {
          await client.query('BEGIN');
          try {
            await client.query(`SET LOCAL ROLE ${app.role}`);
            await client.query(
              `UPDATE ${table} SET org_id = '${org(3)}' WHERE id = (SELECT id FROM ${table} WHERE org_id = '${org(2)}' ORDER BY id LIMIT 1)`,
            );
          } finally {
            await client.query('ROLLBACK');
          }
        };
        await assert.rejects(move('dashboard_layouts'), /cannot move a row/);
        // A report takes its credential's org: the org trigger refuses first, for any writer.
        await assert.rejects(move('reports'), /the parent row belongs to another org/);

        // enforce: refused without the operator's confirmation, then no context, no rows; with one, its org only.
        await assert.rejects(
          withMigration(db.url, ws, (m) => m.enforce()),
          /application sends the tenant context/,
        );
        const enforced = await withMigration(db.url, ws, (m) => m.enforce({ appSendsContext: true }));
        assert.equal(enforced.status, 'done', enforced.summary);
        assert.deepEqual(await application.read(null), {
          reports: 0,
          layouts: 0,
          credentials: app.credentialsBefore ? 0 : undefined,
        });
        await assert.rejects(application.write(null), /row-level security/);
        await application.write(org(2));
        assert.equal(
          (await application.read(org(2))).reports,
          await count(db, `SELECT count(*) AS n FROM reports WHERE org_id = '${org(2)}'`),
        );
        assert.equal((await application.read(NEW_ORG)).reports, 1);
        const forced = await db.client.query(
          `SELECT bool_and(relforcerowsecurity) AS f FROM pg_class WHERE relname IN ('reports', 'credentials', 'dashboard_layouts')`,
        );
        assert.equal(forced.rows[0].f, true);
        const validated = await withMigration(db.url, ws, (m) => m.validate());
        assert.equal(validated.status, 'done', JSON.stringify(validated.checks.filter((c) => !c.ok)));
        const audited = await count(
          db,
          `SELECT count(*) AS n FROM tenant_migration.audit WHERE step = 'enforce' AND statement LIKE 'ALTER TABLE%FORCE ROW LEVEL SECURITY'`,
        );
        assert.equal(audited, 3);

        // undo: back to transition mode.
        const undone = await withMigration(db.url, ws, (m) => m.enforce({ undo: true }));
        assert.equal(undone.status, 'done', undone.summary);
        const back = await application.read(null);
        assert.equal(back.reports, app.role === 'tm_app_owner' ? all : all - 1);
        await application.write(null);
        const unforced = await db.client.query(
          `SELECT bool_or(relforcerowsecurity) AS f FROM pg_class WHERE relname IN ('reports', 'credentials', 'dashboard_layouts')`,
        );
        assert.equal(unforced.rows[0].f, false);
      } finally {
        await client.end();
      }
    });
  });
}
