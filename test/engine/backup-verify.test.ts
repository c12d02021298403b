// The backup step reads each new backup once (its digest, computed from the copy as it was written) and checks the
// backups an earlier run took against their recorded digests (issue 17: no digest pass twice over the same copy).
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';

describe('backup step: each backup read once', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({});
  });
  afterEach(async () => {
    await db.drop();
  });

  const scans = async (table: string) => {
    await db.client.query('SELECT pg_stat_clear_snapshot()');
    return Number(
      (
        await db.client.query(
          `SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = 'tenant_migration' AND relname = $1`,
          [table],
        )
      ).rows[0].seq_scan,
    );
  };

  it('a backup just taken is read once; one taken before is checked against its digest, and a changed one fails', async () => {
    const first = await withMigration(db.url, ws, (m) => m.backup());
    assert.equal(first.status, 'done', first.summary);
    assert.match(
      first.checks.find((c) => c.name === 'public.reports: backup')!.detail,
      /its digest computed from the copy as it was written/,
    );
    assert.equal(await scans('backup_reports'), 1, 'the new backup was read more than once (its digest, then again)');

    const again = await withMigration(db.url, ws, (m) => m.backup());
    assert.equal(again.status, 'done', again.summary);
    assert.match(again.checks.find((c) => c.name === 'public.reports: backup')!.detail, /digest matches/);
    assert.equal(await scans('backup_reports'), 2, 'a backup from an earlier run was not checked against its digest');

    await db.client.query(
      `UPDATE tenant_migration.backup_reports SET title = title || ' (changed)' WHERE id = (SELECT min(id) FROM tenant_migration.backup_reports)`,
    );
    const changed = await withMigration(db.url, ws, (m) => m.backup());
    const check = changed.checks.find((c) => c.name === 'public.reports: backup')!;
    assert.equal(check.ok, false);
    assert.match(check.detail, /does not match its recorded digest/);
  });
});
