import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  makeWorkspace,
  openMigration,
  withMigration,
  migrateFully,
  type Workspace,
} from '../support/migration-helpers';
import { dataFingerprint, legacyColumns, schemaFingerprint, tableDigest, LEGACY_TABLES } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';
import type { EngineEvent } from '../../src/engine/events';

describe('rollback', () => {
  let db: TestDatabase;
  let ws: Workspace;
  let schemaBefore: string[];
  let dataBefore: Awaited<ReturnType<typeof dataFingerprint>>;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({ batchSize: 100 });
    schemaBefore = await schemaFingerprint(db.client, ['public']);
    dataBefore = await dataFingerprint(db.client);
  });
  afterEach(async () => {
    await db.drop();
  });

  const sequences = async () =>
    (await db.client.query(`SELECT last_value FROM credentials_id_seq`)).rows[0].last_value as string;

  it('after a full migration: the legacy schema and data are back, rows written since are kept', async () => {
    await migrateFully(db.url, ws);
    await db.client.query(
      `INSERT INTO credentials (user_id, provider, secret) SELECT user_id, 'written since', 'sk' FROM credentials WHERE id = 5`,
    );
    await db.client.query(
      `INSERT INTO reports (credential_id, title) SELECT max(id), 'written since' FROM credentials`,
    );
    await db.client.query(
      `UPDATE dashboard_layouts SET layout = '{"changed": true}' WHERE user_id = '00000000-0000-0000-0002-000000000001'`,
    );
    const seq = await sequences();
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done');
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM credentials WHERE provider = 'written since'`)).rows[0].n,
      1,
    );
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM reports WHERE title = 'written since'`)).rows[0].n,
      1,
    );
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM dashboard_layouts WHERE layout ? 'changed'`)).rows[0].n >
        0,
      true,
    );
    assert.equal(await sequences(), seq, 'the identity sequence moved');
    // the legacy trigger still fires, the legacy policy is still there, RLS settings as before
    await db.client.query(`UPDATE credentials SET provider = provider WHERE id = 2`);
    assert.ok(
      (await db.client.query(`SELECT updated_at > created_at AS touched FROM credentials WHERE id = 2`)).rows[0]
        .touched,
    );
    const backups = (await db.client.query(`SELECT backup_table, status FROM tenant_migration.backups ORDER BY 1`))
      .rows;
    assert.ok(
      backups.every((b) => b.status === 'superseded' && /_\d{14}$/.test(b.backup_table)),
      JSON.stringify(backups),
    );
    // the next migration takes fresh backups and works again
    await migrateFully(db.url, ws);
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM tenant_migration.backups WHERE status = 'current'`))
        .rows[0].n,
      3,
    );
  });

  it('after a cancelled, partial migration: the same', async () => {
    await db.drop();
    db = await createTestDatabase({ seed: { orgs: 5, users: 60, credentials: 2000, reports: 20_000, layouts: 80 } });
    schemaBefore = await schemaFingerprint(db.client, ['public']);
    dataBefore = await dataFingerprint(db.client);
    const controller = new AbortController();
    // Cancel from inside the event stream, as the first reports batch is reported: mid-backfill.
    const events = {
      push: (e: EngineEvent) => {
        if (e.type === 'progress' && e.progress.action === 'backfill' && e.progress.table === 'public.reports')
          controller.abort();
        return 0;
      },
    } as unknown as EngineEvent[];
    const m = await openMigration(db.url, ws, events, controller.signal);
    const error = await m.migrate().then(
      () => undefined,
      (e: MigrationError) => e,
    );
    await m.close();
    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /Cancelled/);
    const partial = (
      await db.client.query(`SELECT count(*) FILTER (WHERE org_id IS NULL)::int AS pending FROM reports`)
    ).rows[0].pending;
    assert.ok(partial > 0, 'the cancel came too late to leave a partial migration');
    await withMigration(db.url, ws, (mm) => mm.rollback({ restoreData: false }));
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    assert.deepEqual(await dataFingerprint(db.client), dataBefore);
  });

  it('--restore-data equals the backups exactly, refusing first when rows written since would be lost', async () => {
    await migrateFully(db.url, ws);
    await db.client.query(
      `INSERT INTO credentials (user_id, provider, secret) SELECT user_id, 'written since', 'sk' FROM credentials WHERE id = 5`,
    );
    await db.client.query(`DELETE FROM reports WHERE id <= 10`);
    const refusedError = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true })).then(
      () => undefined,
      (e: MigrationError) => e,
    );
    assert.ok(refusedError instanceof MigrationError);
    assert.equal(refusedError.exitCode, 3);
    assert.match(refusedError.message, /public\.credentials: 1/);
    assert.ok(
      (
        await db.client.query(
          `SELECT 1 FROM pg_attribute WHERE attrelid = 'credentials'::regclass AND attname = 'org_id'`,
        )
      ).rows.length === 1,
      'a refused rollback changed the schema',
    );
    await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true, acceptDataLoss: true }));
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    for (const t of LEGACY_TABLES) {
      const backup = (
        await db.client.query(`SELECT backup_table FROM tenant_migration.backups WHERE table_name = $1`, [t])
      ).rows[0].backup_table;
      assert.deepEqual(
        await tableDigest(db.client, t),
        await tableDigest(db.client, `tenant_migration."${backup}"`, await legacyColumns(db.client, t)),
        t,
      );
    }
    assert.deepEqual(await dataFingerprint(db.client), dataBefore);
  });

  it('--restore-data refuses when a backup no longer matches its recorded digest', async () => {
    await migrateFully(db.url, ws);
    await db.client.query(`UPDATE tenant_migration.backup_credentials SET secret = 'tampered' WHERE id = 1`);
    const error = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true, acceptDataLoss: true })).then(
      () => undefined,
      (e: MigrationError) => e,
    );
    assert.ok(error instanceof MigrationError);
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /backup_credentials no longer matches its recorded digest/);
    assert.ok(
      (
        await db.client.query(
          `SELECT 1 FROM pg_attribute WHERE attrelid = 'credentials'::regclass AND attname = 'org_id'`,
        )
      ).rows.length === 1,
    );
  });

  it('refuses, changing nothing, when another object depends on the org column', async () => {
    await migrateFully(db.url, ws);
    await db.client.query(`CREATE VIEW org_credentials AS SELECT id, org_id FROM credentials`);
    const schema = await schemaFingerprint(db.client, ['public']);
    const error = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false })).then(
      () => undefined,
      (e: MigrationError) => e,
    );
    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /Cannot drop public\.credentials\.org_id/);
    assert.match(error.next, /Nothing was changed/);
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schema);
  });
});
