// A fault of the server rather than of one connection: the server restarted in the middle of a backfill; and a
// standby in recovery refused. (Statement timeouts are statement-timeouts.test.ts; the lock timeout while the application
// holds a lock — retried with backoff, then a clear failure — is test/engine/live-traffic.test.ts "a lock held by the
// application makes a statement wait and retry…".)
import assert from 'node:assert/strict';
import { figures } from './support/figures';
import { FAULT_DATASET, connect } from './support/databases';
import { backupIntact, backupStates, legacyRows, migratedState, rowsLost, stateDiff } from './support/states';
import { makeWorkspace, openMigration, withMigration } from '../support/migration-helpers';
import { startEmbeddedServer, type EmbeddedServer, type PgMajor } from '../support/embedded-server';
import { createLegacySchema, legacySpec, seedLegacyData } from '../fixtures/legacy-data';
import { databaseDigest, digestChanges, buildCli, Workspace } from '../support/cli';
import type { EngineEvent } from '../../src/engine/events';

const fig = figures(__filename);
const SPEC = { batchSize: 100 };

describe('a server of its own: restarted in the middle of a backfill, and restarted as a standby', function () {
  this.timeout(240_000);
  // A server of its own: restarting the shared one would cut every other test's connections.
  let server: EmbeddedServer;
  before(async () => {
    server = await startEmbeddedServer(Number(process.env.TEST_PG_MAJOR ?? 17) as PgMajor);
    await buildCli();
    const admin = await connect(server.adminUrl);
    try {
      await admin.query('CREATE DATABASE restart_template');
      const seed = await connect(server.urlFor('restart_template'));
      await createLegacySchema(seed);
      await seedLegacyData(seed, FAULT_DATASET);
      await seed.query('VACUUM ANALYZE');
      await seed.end();
    } finally {
      await admin.end();
    }
  });
  after(async () => {
    await server?.stop();
  });

  it('the run fails saying to run again; the committed batches survive; the re-run resumes and converges', async () => {
    const admin = await connect(server.adminUrl);
    try {
      await admin.query('CREATE DATABASE restart_reference TEMPLATE restart_template');
      await admin.query('CREATE DATABASE restart_victim TEMPLATE restart_template');
    } finally {
      await admin.end();
    }
    const reference = await (async () => {
      const r = await withMigration(server.urlFor('restart_reference'), makeWorkspace(SPEC), (m) => m.runAll());
      assert.ok(r.ok, r.error?.oneLine);
      const c = await connect(server.urlFor('restart_reference'));
      try {
        return await migratedState(c);
      } finally {
        await c.end();
      }
    })();

    const url = server.urlFor('restart_victim');
    let client = await connect(url);
    const original = await legacyRows(client);
    await client.end();
    const ws = makeWorkspace(SPEC);
    let restarting: Promise<void> | undefined;
    const events = {
      push: (e: EngineEvent) => {
        if (
          !restarting &&
          e.type === 'progress' &&
          e.progress.action === 'backfill' &&
          e.progress.table === 'public.reports' &&
          e.progress.done > 1 &&
          e.progress.done < e.progress.total / 2
        ) {
          restarting = server.restart();
        }
        return 0;
      },
    } as unknown as EngineEvent[];
    const m = await openMigration(url, ws, events);
    const first = await m.runAll();
    await m.close();
    assert.ok(restarting, 'the reports backfill never reported progress');
    await restarting;
    assert.equal(first.ok, false, 'the run did not notice the restart');
    assert.match(first.error!.oneLine, /connection was lost.*again|again/i);

    client = await connect(url);
    try {
      const backfill = (
        await client.query(
          `SELECT next_page::int, rows_done::int, completed_at FROM tenant_migration.backfill WHERE table_name = 'reports'`,
        )
      ).rows[0];
      assert.ok(
        backfill && backfill.next_page > 0 && backfill.rows_done > 0 && backfill.completed_at === null,
        `the batches committed before the restart are kept, the backfill is not finished: ${JSON.stringify(backfill)}`,
      );
      const pending = Number(
        (await client.query(`SELECT count(*) FILTER (WHERE org_id IS NULL) AS n FROM reports`)).rows[0].n,
      );
      assert.ok(pending > 0, 'the restart came too late to interrupt the backfill');

      const resumed: EngineEvent[] = [];
      const rerun = await withMigration(url, ws, (mm) => mm.runAll(), resumed);
      assert.ok(rerun.ok, rerun.error?.oneLine);
      const firstReports = resumed.find(
        (e) => e.type === 'progress' && e.progress.action === 'backfill' && e.progress.table === 'public.reports',
      );
      assert.ok(
        firstReports?.type === 'progress' && firstReports.progress.rowsDone > backfill.rows_done,
        'the re-run resumed the backfill where it stopped',
      );
      const diff = stateDiff(reference, await migratedState(client));
      const lost = await rowsLost(client, original);
      const backups = await backupStates(client, original);
      const intact = backups.length === 3 && backups.every(backupIntact);
      const rowsLostTotal = Object.values(lost).reduce((a, b) => a + b, 0);
      fig.record({
        kind: 'fault',
        point: 'server restart during the reports backfill',
        step: 'migrate',
        where: 'server restart',
        fault: 'server restart',
        interrupted: true,
        converged: diff.length === 0,
        rowsLost: rowsLostTotal,
        backupsIntact: intact,
      });
      assert.deepEqual(diff, [], 'the re-run converges to the state of an uninterrupted run');
      assert.equal(rowsLostTotal, 0, JSON.stringify(lost));
      assert.ok(intact, JSON.stringify(backups));
      const runs = (await client.query(`SELECT status FROM tenant_migration.runs ORDER BY id`)).rows.map(
        (r) => r.status,
      );
      assert.deepEqual(runs, ['interrupted', 'succeeded'], 'the run cut by the restart is recorded as interrupted');
    } finally {
      await client.end();
    }
  });

  it('bad input: a standby in recovery is refused in one line naming it and the fix, and nothing changes', async () => {
    const admin = await connect(server.adminUrl);
    await admin.query('CREATE DATABASE standby_case TEMPLATE restart_template').finally(() => admin.end());
    const url = server.urlFor('standby_case');
    let client = await connect(url);
    const before = await databaseDigest(client);
    await client.end();
    const ws = new Workspace(legacySpec(SPEC));
    await server.restart({ standby: true });
    try {
      client = await connect(url);
      assert.equal(
        (await client.query('SELECT pg_is_in_recovery() AS r')).rows[0].r,
        true,
        'the server came back as a standby',
      );
      const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: url });
      const lines = r.stderr.trimEnd().split('\n');
      const changes = digestChanges(before, await databaseDigest(client));
      await client.end();
      const clear =
        r.code === 1 &&
        lines.length === 1 &&
        /^tenant-migrate: 127\.0\.0\.1:\d+ is a standby in recovery: it cannot be migrated — Connect to the primary server\.$/.test(
          lines[0]!,
        );
      const files = ws
        .files()
        .filter(
          (f) =>
            f !== 'tenant-migration.json' &&
            f !== 'scripts/migrate_to_multitenant.sql' &&
            !f.startsWith('.tenant-migration/reports/'),
        );
      fig.record({
        kind: 'bad-input',
        case: 'a standby in recovery',
        clearError: clear,
        nothingChanged: changes.length === 0 && files.length === 0,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        /^tenant-migrate: 127\.0\.0\.1:\d+ is a standby in recovery: it cannot be migrated — Connect to the primary server\.$/,
      );
      assert.deepEqual(changes, []);
      assert.deepEqual(files, [], 'no run log');
    } finally {
      ws.remove();
      await server.restart({ standby: false });
    }
  });
});
