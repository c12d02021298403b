// Shapes the migration cannot handle are refused by the plan and before any write (even the state schema), naming
// the object and the fix; the database is proved unchanged by its schema and data digests.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';
import type { ShapeFinding } from '../../src/engine/shapes';
import type { EngineEvent } from '../../src/engine/events';

describe('schema shapes', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({ batchSize: 100 });
  });
  afterEach(async () => {
    await db.drop();
  });

  describe('refused before any write', () => {
    /** The plan names the shape with its fix; prerequisites fail on it; backup and migrate refuse and change nothing. */
    async function assertRefused(kind: ShapeFinding['kind'], object: RegExp, fix: RegExp): Promise<ShapeFinding> {
      const before = await databaseDigest(db.client);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const finding = plan.shapes.find((s) => s.kind === kind && s.blocking);
      assert.ok(finding, `no blocking ${kind} in ${JSON.stringify(plan.shapes, null, 1)}`);
      assert.match(finding.object, object);
      assert.match(finding.fix ?? '', fix);
      const prerequisites = await withMigration(db.url, ws, (m) => m.prerequisites());
      assert.equal(prerequisites.status, 'failed');
      assert.ok(
        prerequisites.checks.some((c) => !c.ok && c.severity === 'error' && c.name.includes(finding.object)),
        JSON.stringify(prerequisites.checks),
      );
      for (const command of ['backup', 'migrate'] as const) {
        const error = await withMigration(db.url, ws, (m) => m[command]()).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(error instanceof MigrationError && error.kind === 'refused', `${command}: ${String(error)}`);
        assert.match(error.next, /Nothing was changed/);
        assert.match(error.next, fix);
      }
      const all = await withMigration(db.url, ws, (m) => m.runAll());
      assert.equal(all.ok, false);
      assertSameDigest(before, await databaseDigest(db.client), 'a refused shape changes nothing');
      assert.equal(
        (await db.client.query(`SELECT to_regnamespace('tenant_migration') AS s`)).rows[0].s,
        null,
        'the state schema was created',
      );
      return finding;
    }

    it('an inheritance child of a migrated table: refused naming the child', async () => {
      await db.client.query(`CREATE TABLE reports_archive (archived_at timestamptz) INHERITS (reports);
        INSERT INTO reports_archive (id, credential_id, title) VALUES (100000, 1, 'archived');`);
      await assertRefused(
        'inheritance',
        /reports_archive/,
        /ALTER TABLE "public"\."reports_archive" NO INHERIT "public"\."reports";/,
      );
    });

    it('a table in a publication without a replica identity: refused with ALTER TABLE … REPLICA IDENTITY; the publication is named for subscribers', async () => {
      await db.client.query(
        `ALTER TABLE dashboard_layouts REPLICA IDENTITY NOTHING; CREATE PUBLICATION app_changes FOR TABLE dashboard_layouts, credentials;`,
      );
      const finding = await assertRefused(
        'replica-identity',
        /app_changes/,
        /ALTER TABLE "public"\."dashboard_layouts" REPLICA IDENTITY FULL;/,
      );
      assert.equal(finding.table, 'public.dashboard_layouts');
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const subscriberNote = plan.shapes.find((s) => s.kind === 'publication' && s.table === 'public.credentials');
      assert.match(
        subscriberNote?.message ?? '',
        /native logical-replication subscriber of app_changes must add the column.*ADD COLUMN "org_id" uuid/,
      );
    });

    it('an existing org_id holding orgs that do not exist: refused with the fix', async () => {
      await db.client.query(
        `ALTER TABLE reports ADD COLUMN org_id uuid; UPDATE reports SET org_id = '00000000-0000-0000-0000-0000000000ff' WHERE id <= 3;`,
      );
      await assertRefused('org-column', /reports\.org_id/, /UPDATE "public"\."reports" SET "org_id" = NULL/);
    });

    it('an existing org_id whose values disagree with the rule (validation would fail): refused', async () => {
      await db.client.query(
        `ALTER TABLE reports ADD COLUMN org_id uuid; UPDATE reports SET org_id = (SELECT id FROM orgs ORDER BY id DESC LIMIT 1) WHERE id % 3 = 0;`,
      );
      await assertRefused('org-column', /reports\.org_id/, /SET "org_id" = NULL/);
    });

    it('an existing org_id of another type: refused before anything is written', async () => {
      await db.client.query(`ALTER TABLE reports ADD COLUMN org_id text`);
      const before = await databaseDigest(db.client);
      const error = await withMigration(db.url, ws, (m) => m.migrate()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof MigrationError, String(error));
      assert.match(error.message, /already has a column "org_id" of type text, not uuid/);
      assertSameDigest(before, await databaseDigest(db.client));
    });

    it('a trigger set ENABLE ALWAYS: refused with the fix; with the fix applied the backfill changes no legacy column', async () => {
      await db.client.query(`ALTER TABLE credentials ENABLE ALWAYS TRIGGER credentials_touch`);
      await assertRefused(
        'trigger-fires-in-replica',
        /credentials_touch/,
        /ALTER TABLE "public"\."credentials" ENABLE TRIGGER "credentials_touch";.*ENABLE ALWAYS TRIGGER "credentials_touch";/,
      );
      const legacy = async () =>
        (
          await db.client.query(
            `SELECT md5(string_agg(format('%s %s %s %s', id, provider, created_at, updated_at), ',' ORDER BY id)) AS d FROM credentials`,
          )
        ).rows[0].d as string;
      const before = await legacy();
      await db.client.query(`ALTER TABLE credentials ENABLE TRIGGER credentials_touch`);
      const result = await withMigration(db.url, ws, (m) => m.runAll());
      assert.ok(result.ok, result.error?.oneLine);
      await db.client.query(`ALTER TABLE credentials ENABLE ALWAYS TRIGGER credentials_touch`);
      assert.equal(await legacy(), before, 'the backfill changed a legacy column');
    });

    it('a trigger set ENABLE REPLICA: refused, the fix disables it for the migration only', async () => {
      await db.client.query(`ALTER TABLE credentials ENABLE REPLICA TRIGGER credentials_touch`);
      await assertRefused(
        'trigger-fires-in-replica',
        /credentials_touch/,
        /DISABLE TRIGGER "credentials_touch";.*ENABLE REPLICA TRIGGER "credentials_touch";/,
      );
    });
  });

  describe('supported and listed', () => {
    it('an existing, partly filled org_id is used; rollback puts back its nullability, its empty values, and drops only what it added', async () => {
      await db.client.query(`ALTER TABLE reports ADD COLUMN org_id uuid;
        UPDATE reports r SET org_id = (SELECT m.org_id FROM legacy_credential_org_map m JOIN orgs o ON o.id = m.org_id WHERE m.credential_id = r.credential_id LIMIT 1) WHERE r.id % 3 = 0;
        CREATE INDEX reports_org_lookup ON reports (org_id, id);`);
      const schemaBefore = await schemaFingerprint(db.client, ['public']);
      const before = (await databaseDigest(db.client)) as { contents: Record<string, string> };
      const filled = (await db.client.query(`SELECT count(*)::int AS n FROM reports WHERE org_id IS NOT NULL`)).rows[0]
        .n as number;
      assert.ok(filled > 0);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const note = plan.shapes.find((s) => s.kind === 'org-column');
      assert.ok(note && !note.blocking, JSON.stringify(plan.shapes));
      const result = await withMigration(db.url, ws, (m) => m.runAll());
      assert.ok(result.ok, result.error?.oneLine);
      assert.equal((await db.client.query(`SELECT count(*)::int AS n FROM reports WHERE org_id IS NULL`)).rows[0].n, 0);
      // A row changed since to another org than the rule gives does not make a re-run refuse. The org trigger refuses
      // such a change (a report takes its credential's org): made with the triggers off, as a replica would apply it.
      const last = (await db.client.query(`SELECT id, org_id FROM reports ORDER BY id DESC LIMIT 1`)).rows[0];
      const asReplica = (sql: string, values: unknown[]) =>
        db.client
          .query(`BEGIN; SET LOCAL session_replication_role = replica`)
          .then(() => db.client.query(sql, values))
          .finally(() => db.client.query('COMMIT'));
      await asReplica(
        `UPDATE reports SET org_id = (SELECT id FROM orgs WHERE id <> $2 ORDER BY id LIMIT 1) WHERE id = $1`,
        [last.id, last.org_id],
      );
      const rerun = await withMigration(db.url, ws, (m) => m.migrate());
      assert.equal(rerun.status, 'done', rerun.summary);
      await asReplica(`UPDATE reports SET org_id = $2 WHERE id = $1`, [last.id, last.org_id]);
      // the values that were there are kept
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore, 'the schema is as before');
      const after = (await databaseDigest(db.client)) as { contents: Record<string, string> };
      for (const table of ['public.reports', 'public.credentials', 'public.dashboard_layouts'])
        assert.equal(after.contents[table], before.contents[table], `${table} is as before`);
      assert.equal(
        (await db.client.query(`SELECT count(*)::int AS n FROM reports WHERE org_id IS NOT NULL`)).rows[0].n,
        filled,
      );
      // the legacy application's insert without an org works again
      await db.client.query(`INSERT INTO reports (credential_id, title) VALUES (1, 'legacy insert')`);
    });

    it('the plan lists views, materialized views, SECURITY DEFINER functions and global UNIQUE constraints over tenant tables', async () => {
      await db.client.query(`
        CREATE VIEW credential_overview AS SELECT id, provider FROM credentials;
        GRANT SELECT ON credential_overview TO authenticated;
        CREATE MATERIALIZED VIEW report_counts AS SELECT credential_id, count(*) FROM reports GROUP BY 1;
        GRANT SELECT ON report_counts TO authenticated;
        CREATE UNIQUE INDEX credentials_provider_secret ON credentials (provider, secret);
        CREATE FUNCTION public.count_credentials() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM credentials';
        CREATE SCHEMA IF NOT EXISTS auth;
        CREATE TABLE IF NOT EXISTS auth.credentials (id int);
        CREATE FUNCTION auth.own_credentials() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = auth AS 'SELECT count(*) FROM auth.credentials';`);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const of = (kind: ShapeFinding['kind']) => plan.shapes.filter((s) => s.kind === kind);
      assert.ok(
        plan.shapes.every((s) => !s.blocking),
        JSON.stringify(plan.shapes),
      );
      assert.match(
        of('view')[0]?.message ?? '',
        /credential_overview.*bypasses row-level security.*\(anon, authenticated\) see every org's rows/,
      );
      assert.match(of('view')[0]?.fix ?? '', /security_invoker = true/);
      assert.match(of('materialized-view')[0]?.message ?? '', /report_counts holds a copy of every org's rows/);
      assert.doesNotMatch(of('materialized-view')[0]?.fix ?? '', /SET \(security_invoker/);
      assert.match(
        of('global-unique')
          .map((s) => s.object)
          .join(),
        /credentials_provider_secret/,
      );
      assert.match(of('global-unique')[0]?.fix ?? '', /\("org_id", "provider", "secret"\)/);
      assert.deepEqual(
        of('function').map((s) => s.object),
        ['count_credentials()'],
        'a function reading auth.credentials is not public.credentials',
      );
    });

    it('a table never analysed: the plan and the progress give its real row count, not ~0 (and no "500/0 rows")', async () => {
      // A fresh copy has no statistics (reltuples = -1) until it is analysed.
      await db.client.query(`ALTER TABLE dashboard_layouts RENAME TO dashboard_layouts_old;
        CREATE TABLE dashboard_layouts (LIKE dashboard_layouts_old INCLUDING ALL);
        INSERT INTO dashboard_layouts SELECT * FROM dashboard_layouts_old; DROP TABLE dashboard_layouts_old;`);
      const count = (
        await db.client.query(
          `SELECT count(*)::int AS n, (SELECT reltuples FROM pg_class WHERE oid = 'dashboard_layouts'::regclass) AS reltuples FROM dashboard_layouts`,
        )
      ).rows[0];
      assert.equal(count.reltuples, -1);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      assert.equal(plan.tables.find((t) => t.table === 'public.dashboard_layouts')?.estimatedRows, count.n);
      const prerequisites = await withMigration(db.url, ws, (m) => m.prerequisites());
      assert.match(
        prerequisites.checks.find((c) => c.name.startsWith('Index on the mapping'))?.detail ?? '',
        /every row the application inserts into public\.credentials scans it/,
      );
      const events: EngineEvent[] = [];
      const result = await withMigration(db.url, ws, (m) => m.runAll(), events);
      assert.ok(result.ok, result.error?.oneLine);
      const progress = events.flatMap((e) =>
        e.type === 'progress' && e.progress.action === 'backfill' && e.progress.table.endsWith('dashboard_layouts')
          ? [e.progress]
          : [],
      );
      assert.ok(progress.length > 0);
      assert.ok(
        progress.every((p) => p.rowsEstimate === count.n),
        JSON.stringify(progress.slice(0, 3)),
      );
    });

    it('shared tables: not migrated, every tenant reads all their rows, listed in the plan and the report; an unplaced readable table is named', async () => {
      await db.client.query(`CREATE TABLE film (id int PRIMARY KEY, title text NOT NULL);
        INSERT INTO film SELECT i, 'film ' || i FROM generate_series(1, 12) i;
        GRANT SELECT ON film TO authenticated;
        CREATE TABLE staff_notes (id int PRIMARY KEY, note text); GRANT SELECT ON staff_notes TO authenticated;`);
      ws = makeWorkspace({ batchSize: 100, sharedTables: ['film'] });
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      assert.match(
        plan.shapes.find((s) => s.kind === 'shared-table')?.message ?? '',
        /public\.film is shared: not migrated, and every tenant \(.*authenticated.*\) reads all its rows/,
      );
      const unplaced = plan.shapes.find((s) => s.kind === 'unplaced-table' && s.object === 'public.staff_notes');
      assert.match(unplaced?.fix ?? '', /"sharedTables".*REVOKE SELECT ON "public"\."staff_notes" FROM/);
      assert.ok(!plan.shapes.some((s) => s.object === 'public.film' && s.kind === 'unplaced-table'));
      const report = await withMigration(db.url, ws, async (m) => {
        const result = await m.runAll();
        assert.ok(result.ok, result.error?.oneLine);
        return m.writeReport();
      });
      assert.match(fs.readFileSync(report, 'utf8'), /## Shared tables[\s\S]*- public\.film/);
      assert.equal(
        (
          await db.client.query(
            `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'film'::regclass AND attname = 'org_id'`,
          )
        ).rows[0].n,
        0,
      );
      // A tenant of one org reads every film, and only its org's credentials.
      const org = (
        await db.client.query(`SELECT org_id FROM credentials GROUP BY org_id ORDER BY count(*) DESC LIMIT 1`)
      ).rows[0].org_id as string;
      await db.client.query('BEGIN');
      try {
        await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify({ sub: '00000000-0000-0000-0002-000000000001', role: 'authenticated', org_id: org }),
        ]);
        await db.client.query('SET LOCAL ROLE authenticated');
        assert.equal((await db.client.query('SELECT count(*)::int AS n FROM film')).rows[0].n, 12);
        const orgs = (await db.client.query('SELECT DISTINCT org_id FROM credentials')).rows.map(
          (r) => r.org_id as string,
        );
        assert.ok(
          orgs.every((o) => o === org),
          JSON.stringify(orgs),
        );
      } finally {
        await db.client.query('ROLLBACK');
      }
    });

    it('a shared table listed among the migrated tables too is refused by name', async () => {
      ws = makeWorkspace({ batchSize: 100, sharedTables: ['reports'] });
      const error = await withMigration(db.url, ws, (m) => m.plan()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /sharedTables\[0\] public\.reports is also in tables\[1\]/);
    });
  });
});
