// The partitioned shapes the migration refuses, each before anything is written: a foreign-table partition, a table
// partitioned by the org column itself, a partition the migrating role does not own. The refusal names the object
// and the fix; the database is proved unchanged by its schema and data digests (and no state schema appears).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';

const withTable = (table: Record<string, unknown>) => ({ batchSize: 100, tables: [...GUIDE_SPEC.tables, table] });

describe(`partitioned shapes refused before any write (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(120_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  const stateSchema = async () =>
    (await db.client.query(`SELECT to_regnamespace('tenant_migration')::text AS s`)).rows[0].s as string | null;
  const fingerprints = async () => ({
    schema: await schemaFingerprint(db.client, ['public']),
    digest: await databaseDigest(db.client),
  });

  /** plan, prerequisites, backup, migrate and run each refuse with `problem` and `fix`; nothing changed. */
  async function assertRefusedEverywhere(ws: Workspace, problem: RegExp, fix: RegExp): Promise<void> {
    const before = await fingerprints();
    const plan = await withMigration(db.url, ws, (m) => m.plan()).then(
      (p) => ({ p }),
      (e: unknown) => ({ e }),
    );
    if ('e' in plan) {
      assert.ok(plan.e instanceof MigrationError, String(plan.e));
      assert.match(plan.e.message, problem);
      assert.match(plan.e.next, fix);
    } else {
      const finding = plan.p.shapes.find((s) => s.blocking && problem.test(s.message));
      assert.ok(finding, JSON.stringify(plan.p.shapes, null, 1));
      assert.match(finding.fix ?? '', fix);
      const pre = await withMigration(db.url, ws, (m) => m.prerequisites());
      assert.equal(pre.status, 'failed');
      assert.ok(
        pre.checks.some((c) => !c.ok && c.severity === 'error' && problem.test(c.detail)),
        JSON.stringify(pre.checks),
      );
    }
    for (const command of ['backup', 'migrate'] as const) {
      const error = await withMigration(db.url, ws, (m) => m[command]()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof MigrationError, `${command}: ${String(error)}`);
      assert.match(`${error.message} ${error.next}`, problem);
      assert.match(`${error.message} ${error.next}`, fix);
    }
    const all = await withMigration(db.url, ws, (m) => m.runAll()).then(
      (r) => r.ok,
      () => false,
    );
    assert.equal(all, false);
    const after = await fingerprints();
    assert.deepEqual(after.schema, before.schema, 'the schema changed');
    assertSameDigest(before.digest, after.digest, 'a refused partitioned shape changes nothing');
    assert.equal(await stateSchema(), null, 'the state schema was created');
  }

  it('a foreign-table partition: refused naming the partition, with DETACH PARTITION', async () => {
    const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tm-fdw-')), 'archive.csv');
    fs.writeFileSync(csv, '1,7,2019-05-01\n2,8,2019-06-01\n');
    fs.chmodSync(path.dirname(csv), 0o755);
    await db.client.query(`CREATE EXTENSION file_fdw; CREATE SERVER archive_files FOREIGN DATA WRAPPER file_fdw;
      CREATE TABLE logins (id bigint NOT NULL, credential_id bigint, happened_on date NOT NULL) PARTITION BY RANGE (happened_on);
      CREATE TABLE logins_recent PARTITION OF logins FOR VALUES FROM ('2024-01-01') TO (MAXVALUE);
      CREATE FOREIGN TABLE logins_archive PARTITION OF logins FOR VALUES FROM (MINVALUE) TO ('2024-01-01')
        SERVER archive_files OPTIONS (filename '${csv}', format 'csv');
      INSERT INTO logins_recent SELECT i, 1 + i % 50, date '2024-02-01' + i FROM generate_series(1, 200) i;`);
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM logins`)).rows[0].n,
      202,
      'the foreign partition is readable',
    );
    const ws = makeWorkspace(withTable({ name: 'logins', orgFrom: { mapping: { column: 'credential_id' } } }));
    await assertRefusedEverywhere(
      ws,
      /public\.logins_archive is a foreign-table partition of public\.logins/,
      /DETACH PARTITION public\.logins_archive/,
    );
  });

  it('a table partitioned by the org column: refused, naming the table and the key', async () => {
    await db.client
      .query(`CREATE TABLE org_notes (id bigint NOT NULL, credential_id bigint, org_id uuid, note text) PARTITION BY LIST (org_id);
      CREATE TABLE org_notes_any PARTITION OF org_notes DEFAULT;
      INSERT INTO org_notes SELECT i, 1 + i % 50, NULL, 'n' FROM generate_series(1, 100) i;`);
    const ws = makeWorkspace(withTable({ name: 'org_notes', orgFrom: { mapping: { column: 'credential_id' } } }));
    await assertRefusedEverywhere(
      ws,
      /public\.org_notes is partitioned by org_id, the column the migration fills in/,
      /Set "orgColumn" in the spec to another name, or repartition public\.org_notes/,
    );
  });

  it('a partition the migrating role does not own: refused naming the partition and its owner', async () => {
    const migrator = `tm_migrator_${db.name.slice(-10)}`;
    const stranger = `tm_stranger_${db.name.slice(-10)}`;
    await db.client
      .query(`CREATE ROLE ${migrator} LOGIN PASSWORD 'migrator-pw' BYPASSRLS; CREATE ROLE ${stranger} NOLOGIN;
      GRANT CREATE ON DATABASE ${db.name} TO ${migrator}; GRANT CREATE, USAGE ON SCHEMA public TO ${migrator};
      CREATE TABLE visits (id bigint NOT NULL, credential_id bigint, day date NOT NULL) PARTITION BY RANGE (day);
      CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      CREATE TABLE visits_rest PARTITION OF visits DEFAULT;
      INSERT INTO visits SELECT i, 1 + i % 50, date '2025-06-01' + i FROM generate_series(1, 400) i;`);
    await db.client.query(`DO $$ DECLARE t record; BEGIN
      FOR t IN SELECT c.oid::regclass AS r FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO ${migrator}', t.r);
      END LOOP; END $$;
      ALTER TABLE visits_rest OWNER TO ${stranger};`);
    const url = new URL(db.url);
    url.username = migrator;
    url.password = 'migrator-pw';
    const asMigrator = url.toString();
    const ws = makeWorkspace(withTable({ name: 'visits', orgFrom: { mapping: { column: 'credential_id' } } }));
    const original = db.url;
    try {
      (db as { url: string }).url = asMigrator;
      await assertRefusedEverywhere(
        ws,
        new RegExp(`public\\.visits_rest, a partition of public\\.visits, is owned by ${stranger}`),
        new RegExp(`ALTER TABLE "public"\\."visits_rest" OWNER TO "${migrator}";`),
      );
    } finally {
      (db as { url: string }).url = original;
      await db.client.query(
        `REASSIGN OWNED BY ${migrator}, ${stranger} TO CURRENT_USER; DROP OWNED BY ${migrator}; DROP OWNED BY ${stranger}; DROP ROLE ${migrator}; DROP ROLE ${stranger}`,
      );
    }
  });
});
