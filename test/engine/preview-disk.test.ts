// The plan's estimate of the bytes a run writes, against what a real run grows the database by, and the prerequisite
// that refuses a run the disk cannot hold (a smaller free figure passed through the seam, not a full disk).
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { spec as partitionedSpec } from './support/partitions';
import { growPartitioned, LARGE } from './support/preview';
import { preflight } from '../../src/engine/preflight';
import { serverFreeSpace, type FreeSpaceReader } from '../../src/engine/disk-estimate';
import type { CheckResult } from '../../src/engine/events';

const sizeOf = async (db: TestDatabase, what: string, tables: string[]) =>
  Number(
    (
      await db.client.query(
        `SELECT sum(${what}(c.oid))::bigint AS n FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace`,
        [tables],
      )
    ).rows[0].n,
  );
const HEAPS = ['credentials', 'reports', 'dashboard_layouts', 'events_2025', 'events_2026', 'events_default'];
const HEAPS_USAGE = ['usage_eu_0', 'usage_eu_1', 'usage_us_low', 'usage_us_rest', 'usage_other'];

describe('preview: the bytes the run writes, against the free disk', function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    db = await createTestDatabase({ seed: LARGE });
    await growPartitioned(db.client);
    ws = makeWorkspace(partitionedSpec({ batchSize: 20_000 }));
  });
  after(async () => {
    await db?.drop();
  });

  const disk = async (reader?: FreeSpaceReader) =>
    withMigration(db.url, ws, async (m) => (await m.plan({ readFreeSpace: reader })).disk!);
  const spaceCheck = async (reader: FreeSpaceReader): Promise<CheckResult> =>
    withMigration(db.url, ws, async (m) => {
      const checks = await preflight(m.session, await m.model(), () => m.gaps({ quick: true }), reader);
      return checks.find((c) => c.name === 'Disk space')!;
    });

  it('backups are the heaps and TOAST of every migrated table (leaf partitions included); a real run grows the database by no more than the estimate', async () => {
    const d = await disk();
    const heaps = await sizeOf(db, 'pg_table_size', [...HEAPS, ...HEAPS_USAGE]);
    const total = await sizeOf(db, 'pg_total_relation_size', [...HEAPS, ...HEAPS_USAGE]);
    assert.equal(d.backups, heaps, 'backups: heap and TOAST, no indexes');
    assert.ok(d.backups < total);
    assert.ok(d.orgIndexes > 0 && d.backfill > 0 && d.reindex > 0 && d.walWritten > d.backups);
    assert.equal(d.needed, d.backups + d.backfill + d.orgIndexes + d.helperTables + d.reindex + d.walKept);

    const before = Number((await db.client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    await withMigration(db.url, ws, async (m) => {
      assert.equal((await m.backup()).status, 'done');
      const migrated = await m.migrate();
      assert.equal(migrated.status, 'done', migrated.summary);
    });
    const after = Number((await db.client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    const grown = after - before;
    const onDisk = d.needed - d.walKept; // the database's share; the rebuilt indexes' copies are gone by the end
    assert.ok(grown <= onDisk, `grown ${grown} > estimated ${onDisk}`);
    assert.ok(grown >= 0.5 * (onDisk - d.reindex), `grown ${grown} is far under the estimate ${onDisk - d.reindex}`);
  });

  it('the free space of a server on this machine is read from its data directory, as a role that may read it', async () => {
    const d = await disk();
    assert.equal(d.free.known, true, d.free.known ? '' : d.free.why);
    const dir = (await db.client.query('SHOW data_directory')).rows[0].data_directory;
    assert.equal(d.free.known && d.free.where, dir);
  });

  it('a role that may not read data_directory: the free space is unknown, and the prerequisite warns with what must be free', async () => {
    const asApp: FreeSpaceReader = async (session) => {
      await session.query('SET ROLE authenticated');
      try {
        return await serverFreeSpace(session);
      } finally {
        await session.query('RESET ROLE');
      }
    };
    const check = await spaceCheck(asApp);
    assert.equal(check.ok, false);
    assert.equal(check.severity, 'warning');
    assert.match(check.detail, /the free space is unknown: this role may not read the server’s data_directory/);
    assert.match(check.detail, /Check that at least [\d.]+ [kMG]B is free/);
  });

  it('less free space than the run needs: the prerequisite fails, naming both figures and the fix', async () => {
    const check = await spaceCheck(async () => ({ known: true, bytes: 1024 * 1024, where: '/srv/pg (test figure)' }));
    assert.equal(check.ok, false);
    assert.equal(check.severity, 'error');
    assert.match(
      check.detail,
      /^about [\d.]+ MB must be free .*, but only 1\.0 MB is free at \/srv\/pg \(test figure\): the run would fail partway\. Free at least [\d.]+ MB on that disk/,
    );
    const roomy = await spaceCheck(async () => ({ known: true, bytes: 1024 ** 4, where: '/srv/pg' }));
    assert.equal(roomy.ok, true, roomy.detail);
  });
});
