// A table that already has the org column with its own foreign key and index under the names the migration gives
// its own: the migration uses them only when they do the same job, never validates or drops them, and rollback
// leaves them exactly as they were; one that does another job refuses the run, naming it.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';

const FILL_ORG = `ALTER TABLE reports ADD COLUMN org_id uuid;
  UPDATE reports r SET org_id = (SELECT m.org_id FROM legacy_credential_org_map m JOIN orgs o ON o.id = m.org_id WHERE m.credential_id = r.credential_id LIMIT 1) WHERE r.id % 2 = 0;`;

describe('objects of the user named as the migration names its own', function () {
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

  const definitions = async () =>
    (
      await db.client.query(
        `SELECT conname, pg_get_constraintdef(oid) AS def, convalidated FROM pg_constraint WHERE conrelid = 'reports'::regclass AND conname LIKE 'reports_org_id%'
     UNION ALL SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid FROM pg_index WHERE indrelid = 'reports'::regclass AND indexrelid::regclass::text LIKE 'reports_org_id%'
     ORDER BY 1`,
      )
    ).rows;

  it('a foreign key ON DELETE CASCADE and an index of its own: used, kept through migrate, and exactly as before after rollback', async () => {
    await db.client.query(`${FILL_ORG}
      ALTER TABLE reports ADD CONSTRAINT reports_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;
      CREATE INDEX reports_org_id_idx ON reports (org_id, id);`);
    const schemaBefore = await schemaFingerprint(db.client, ['public']);
    const before = await definitions();
    assert.equal(before.length, 2);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const notes = plan.shapes.filter((s) => s.kind === 'same-named-object');
    assert.ok(notes.length === 2 && notes.every((s) => !s.blocking), JSON.stringify(plan.shapes));
    assert.match(
      notes.map((s) => s.message).join('\n'),
      /reports_org_id_fkey \(FOREIGN KEY \(org_id\) REFERENCES orgs\(id\) ON DELETE CASCADE\): the migration uses it.*rollback leaves it/,
    );
    const result = await withMigration(db.url, ws, (m) => m.runAll());
    assert.ok(result.ok, result.error?.oneLine);
    assert.deepEqual(await definitions(), before, "the migration changed the user's key or index");
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await definitions(), before, "rollback dropped or changed the user's key or index");
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore, 'the schema is as before');
  });

  it("with --restore-data too: the user's key and index survive", async () => {
    await db.client.query(`${FILL_ORG}
      ALTER TABLE reports ADD CONSTRAINT reports_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;
      CREATE INDEX reports_org_id_idx ON reports (org_id);`);
    const schemaBefore = await schemaFingerprint(db.client, ['public']);
    const dataBefore = (await databaseDigest(db.client)) as { contents: Record<string, string> };
    const result = await withMigration(db.url, ws, (m) => m.runAll());
    assert.ok(result.ok, result.error?.oneLine);
    const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: true }));
    assert.equal(step.status, 'done', step.summary);
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), schemaBefore);
    const after = (await databaseDigest(db.client)) as { contents: Record<string, string> };
    assert.equal(after.contents['public.reports'], dataBefore.contents['public.reports']);
  });

  for (const variant of [
    {
      name: 'NOT VALID',
      sql: `ALTER TABLE reports ADD CONSTRAINT reports_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE NOT VALID;`,
      object: /reports_org_id_fkey/,
      fix: /VALIDATE CONSTRAINT "reports_org_id_fkey"|RENAME CONSTRAINT "reports_org_id_fkey"/,
    },
    {
      name: 'a CHECK, not a foreign key',
      sql: `ALTER TABLE reports ADD CONSTRAINT reports_org_id_fkey CHECK (org_id IS DISTINCT FROM '00000000-0000-0000-0000-0000000000ff');`,
      object: /reports_org_id_fkey/,
      fix: /RENAME CONSTRAINT "reports_org_id_fkey"/,
    },
    {
      name: 'an index of another column',
      sql: `CREATE INDEX reports_org_id_idx ON reports (title);`,
      object: /reports_org_id_idx/,
      fix: /ALTER INDEX "public"\."reports_org_id_idx" RENAME/,
    },
    {
      name: 'a partial index',
      sql: `CREATE INDEX reports_org_id_idx ON reports (org_id) WHERE org_id IS NOT NULL;`,
      object: /reports_org_id_idx/,
      fix: /RENAME/,
    },
    {
      name: 'a NOT NULL check of its own on a nullable column',
      sql: `ALTER TABLE reports ADD CONSTRAINT reports_org_id_not_null CHECK (org_id IS NOT NULL) NOT VALID;`,
      object: /reports_org_id_not_null/,
      fix: /RENAME CONSTRAINT/,
    },
  ]) {
    it(`same name, not the migration's (${variant.name}): refused naming it, nothing changed, nothing validated`, async () => {
      await db.client.query(`${FILL_ORG} ${variant.sql}`);
      const before = await databaseDigest(db.client);
      const definitionsBefore = await definitions();
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const finding = plan.shapes.find((s) => s.kind === 'same-named-object' && s.blocking);
      assert.ok(finding, JSON.stringify(plan.shapes));
      assert.match(finding.object, variant.object);
      assert.match(finding.fix ?? '', variant.fix);
      const error = await withMigration(db.url, ws, (m) => m.migrate()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof MigrationError && error.kind === 'refused', String(error));
      assert.match(error.message, variant.object);
      assertSameDigest(before, await databaseDigest(db.client), 'a refused run changed something');
      assert.deepEqual(await definitions(), definitionsBefore);
    });
  }
  it("a table of the ledger's name before the migration: refused (rollback would drop it), nothing changed", async () => {
    await db.client
      .query(`CREATE TABLE tenant_credentials (credential_id bigint PRIMARY KEY, org_id uuid NOT NULL, source text NOT NULL, assigned_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO tenant_credentials VALUES (1, '00000000-0000-0000-0000-000000000001', 'mine', now())`);
    const before = await databaseDigest(db.client);
    const error = await withMigration(db.url, ws, (m) => m.migrate()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof MigrationError && error.kind === 'refused', String(error));
    assert.match(
      error.message,
      /tenant_credentials \(tenantCredentials\.table\) exists before the migration.*rollback would drop it/,
    );
    assertSameDigest(before, await databaseDigest(db.client));
  });

  it("a function of the auth hook's name that is the user's own: refused (it would be replaced); the tool's own hook kept by a rollback is not", async () => {
    await db.client
      .query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT; END IF; END $$;
      CREATE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT event'`);
    const hookWs = makeWorkspace({
      batchSize: 100,
      authHook: { function: 'public.custom_access_token_hook', membership: { table: 'org_members' } },
    });
    const before = await databaseDigest(db.client);
    const error = await withMigration(db.url, hookWs, (m) => m.migrate()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof MigrationError && error.kind === 'refused', String(error));
    assert.match(
      error.message,
      /custom_access_token_hook"\(jsonb\) \(authHook\.function\) exists and is not a hook this tool generated/,
    );
    assertSameDigest(before, await databaseDigest(db.client));
    const ownWs = makeWorkspace({ batchSize: 100, authHook: { membership: { table: 'org_members' } } });
    const first = await withMigration(db.url, ownWs, (m) => m.runAll());
    assert.ok(first.ok, first.error?.oneLine);
    await withMigration(db.url, ownWs, (m) => m.rollback({ restoreData: false }));
    const again = await withMigration(db.url, ownWs, (m) => m.runAll());
    assert.ok(again.ok, again.error?.oneLine);
  });
});
