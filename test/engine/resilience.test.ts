import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  makeWorkspace,
  openMigration,
  withMigration,
  migrateFully,
  type Workspace,
} from '../support/migration-helpers';
import { legacyColumns, schemaFingerprint, tableDigest, LEGACY_TABLES } from '../support/fingerprint';
import { MigrationError } from '../../src/engine/errors';
import type { EngineEvent } from '../../src/engine/events';

/** Final state without timestamps (two seedings differ in created_at): schema, and every table with its org. */
async function finalState(client: pg.ClientBase): Promise<unknown> {
  const data: Record<string, unknown> = {};
  for (const t of [...LEGACY_TABLES, 'tenant_credentials']) {
    const cols = (await legacyColumns(client, t)).filter((c) => !c.endsWith('_at') && c !== 'source');
    data[t] = await tableDigest(client, t, [...cols, 'org_id']);
  }
  const backups = (
    await client.query(
      `SELECT backup_table, row_count FROM tenant_migration.backups WHERE status = 'current' ORDER BY 1`,
    )
  ).rows;
  return { schema: await schemaFingerprint(client, ['public']), data, backups };
}

describe('resilience', () => {
  let reference: unknown;
  before(async () => {
    const db = await createTestDatabase();
    try {
      await migrateFully(db.url, makeWorkspace({ batchSize: 100 }));
      reference = await finalState(db.client);
    } finally {
      await db.drop();
    }
  });

  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({ batchSize: 100 });
  });
  afterEach(async () => {
    await db.drop();
  });

  // Statement indexes spread over every phase of the script (67 statements), plus the middle of a backfill.
  const points: { at: string; kill: (e: EngineEvent) => boolean }[] = [
    ...[1, 8, 13, 16, 20, 27, 33, 40, 48, 55, 60, 64].map((index) => ({
      at: `statement ${index}`,
      kill: (e: EngineEvent) => e.type === 'statement-started' && e.step === 'migrate' && e.index === index,
    })),
    {
      at: 'the middle of the reports backfill',
      kill: (e: EngineEvent) =>
        e.type === 'progress' &&
        e.progress.action === 'backfill' &&
        e.progress.table === 'public.reports' &&
        e.progress.done > 1,
    },
  ];
  for (const point of points) {
    it(`killed at ${point.at}, a re-run converges to the same state`, async () => {
      const killer = new pg.Client(db.url);
      await killer.connect();
      let killed = false;
      let pid = 0;
      const events = {
        push: (e: EngineEvent) => {
          if (!killed && point.kill(e)) {
            killed = true;
            void killer.query('SELECT pg_terminate_backend($1)', [pid]);
          }
          return 0;
        },
      } as unknown as EngineEvent[];
      const m = await openMigration(db.url, ws, events);
      pid = m.session.pid;
      const error = await m.migrate().then(
        () => undefined,
        (e: MigrationError) => e,
      );
      await m.close();
      await killer.end();
      assert.ok(killed, 'the kill point was never reached');
      assert.ok(error instanceof MigrationError, 'the run survived its connection being killed');
      assert.match(error.next, /again/);
      const rerun = await withMigration(db.url, ws, (mm) => mm.runAll());
      assert.ok(rerun.ok, rerun.error?.oneLine);
      assert.deepEqual(await finalState(db.client), reference);
      const invalid = await db.client.query(`SELECT count(*)::int AS n FROM pg_index WHERE NOT indisvalid`);
      assert.equal(invalid.rows[0].n, 0, 'an INVALID index was left behind');
    });
  }

  it('two runs at once: the second is refused naming who holds the lock and since when; the lock dies with its holder', async () => {
    // The first run waits behind the application's lock for up to a minute, holding the run lock all along.
    const first = await openMigration(db.url, makeWorkspace({ batchSize: 100, lockTimeoutMs: 60_000 }));
    let holderError: MigrationError | undefined;
    const blocker = new pg.Client(db.url);
    blocker.on('error', () => undefined); // dropped with the database if the test fails early
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE dashboard_layouts IN ROW EXCLUSIVE MODE');
    const running = first.migrate().catch((e: MigrationError) => {
      holderError = e;
    });
    // wait until the first run holds the advisory lock (generous: CI machines are shared)
    let held = false;
    for (let i = 0; i < 1200 && !held; i++) {
      const { rows } = await db.client.query(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1)
        AND to_regclass('tenant_migration.runs') IS NOT NULL AS held`,
        [first.session.pid],
      );
      held =
        rows[0].held &&
        (await db.client.query(`SELECT 1 FROM tenant_migration.runs WHERE status = 'running'`)).rows.length > 0;
      if (!held) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(held, 'the first run never took the lock');
    const second = await withMigration(db.url, ws, (m) => m.migrate()).then(
      () => undefined,
      (e: MigrationError) => e,
    );
    assert.ok(second instanceof MigrationError, 'the second run was not refused');
    assert.equal(second.exitCode, 3);
    assert.match(
      second.message,
      new RegExp(`pid ${first.session.pid}.*running "migrate"\\) since \\d{4}-\\d\\d-\\d\\dT`),
    );
    await db.client.query('SELECT pg_terminate_backend($1)', [first.session.pid]);
    await blocker.query('ROLLBACK');
    await blocker.end();
    await running;
    await first.close();
    assert.ok(holderError, 'the first run did not notice its connection died');
    const third = await withMigration(db.url, ws, (m) => m.runAll());
    assert.ok(third.ok, third.error?.oneLine);
    const runs = (await db.client.query(`SELECT status FROM tenant_migration.runs ORDER BY id`)).rows.map(
      (r) => r.status,
    );
    assert.deepEqual(runs, ['interrupted', 'succeeded']);
  });
});
