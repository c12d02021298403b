import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, openMigration, withMigration, type Workspace } from '../support/migration-helpers';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../fixtures/legacy-data';
import type { EngineEvent } from '../../src/engine/events';
import { LOCK_RETRY } from '../../src/engine/execute/runner';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;

/** An application that does not know about org_id: inserts reports and credentials, updates credentials. */
function legacyWriter(url: string) {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  let stop = false;
  const failures: string[] = [];
  let writes = 0;
  const done = (async () => {
    await client.connect();
    while (!stop) {
      try {
        await client.query(
          `INSERT INTO reports (credential_id, title) VALUES (1 + floor(random() * 200)::int, 'live')`,
        );
        await client.query(`INSERT INTO reports (credential_id, title) VALUES (NULL, 'live, no credential')`);
        await client.query(
          `INSERT INTO credentials (user_id, provider, secret) SELECT user_id, 'live', 'sk' FROM credentials WHERE id = 3`,
        );
        await client.query(`UPDATE credentials SET provider = provider WHERE id = 1 + floor(random() * 200)::int`);
        writes++;
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    await client.end();
  })();
  return {
    stop: async () => {
      stop = true;
      await done;
      return { failures, writes };
    },
  };
}

describe('live traffic', () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({ batchSize: 100 });
  });
  afterEach(async () => {
    await db.drop();
  });

  it('rows written during the migration get their org, and NOT NULL never fails because of them', async () => {
    const writer = legacyWriter(db.url);
    const events: EngineEvent[] = [];
    try {
      const result = await withMigration(db.url, ws, (m) => m.runAll(), events);
      assert.ok(result.ok, result.error?.oneLine);
    } finally {
      const { failures, writes } = await writer.stop();
      assert.deepEqual(failures, [], 'the application saw errors');
      assert.ok(writes > 0, 'the writer made no write while the migration ran');
    }
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM reports WHERE org_id IS NULL) AS null_reports,
      (SELECT count(*)::int FROM credentials WHERE org_id IS NULL) AS null_credentials,
      (SELECT count(*)::int FROM reports r JOIN credentials c ON c.id = r.credential_id WHERE r.org_id <> c.org_id) AS wrong_parent,
      (SELECT count(*)::int FROM reports WHERE title = 'live, no credential' AND org_id <> '${DEFAULT_ORG_ID}') AS wrong_default,
      (SELECT count(*)::int FROM reports WHERE title LIKE 'live%') AS live_rows`);
    assert.deepEqual(
      { ...rows[0], live_rows: undefined },
      { null_reports: 0, null_credentials: 0, wrong_parent: 0, wrong_default: 0, live_rows: undefined },
    );
    assert.ok(rows[0].live_rows > 0);
    assert.ok(
      events.some((e) => e.type === 'progress' && e.progress.action === 'backfill'),
      'no progress was reported',
    );
  });

  it('a row an application transaction committed behind the backfill is swept up before NOT NULL is validated', async () => {
    // Stop the run as its constraints step starts: every backfill is complete.
    const killer = new pg.Client(db.url);
    await killer.connect();
    let pid = 0;
    let killed = false;
    const events = {
      push: (e: EngineEvent) => {
        if (!killed && e.type === 'statement-started' && e.phase === 'constraints') {
          killed = true;
          void killer.query('SELECT pg_terminate_backend($1)', [pid]);
        }
        return 0;
      },
    } as unknown as EngineEvent[];
    const m = await openMigration(db.url, ws, events);
    pid = m.session.pid;
    await m.migrate().then(
      () => undefined,
      () => undefined,
    );
    await m.close();
    await killer.end();
    assert.ok(killed, 'the constraints step was never reached');
    // What a long application transaction leaves: rows without an org on pages the backfill has passed (replica mode
    // stands in for "inserted before the trigger could see its parent's org").
    await db.client.query('BEGIN');
    await db.client.query('SET LOCAL session_replication_role = replica');
    await db.client.query(
      `INSERT INTO reports (credential_id, title) VALUES (5, 'behind the backfill'), (NULL, 'behind the backfill, no credential')`,
    );
    await db.client.query(
      `INSERT INTO dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), '00000000-0000-0000-0002-000000000002', '{"behind": true}')`,
    );
    await db.client.query('COMMIT');
    const resumed = await withMigration(db.url, ws, (mm) => mm.runAll());
    assert.ok(resumed.ok, resumed.error?.oneLine);
    const { rows } = await db.client.query(`SELECT
      (SELECT r.org_id = c.org_id FROM reports r JOIN credentials c ON c.id = r.credential_id WHERE r.title = 'behind the backfill') AS parent_org,
      (SELECT org_id::text FROM reports WHERE title = 'behind the backfill, no credential') AS default_org,
      (SELECT l.org_id = m.org_id FROM dashboard_layouts l JOIN org_members m ON m.user_id = l.user_id WHERE l.layout = '{"behind": true}'::jsonb ORDER BY m.org_id LIMIT 1) AS query_org,
      (SELECT bool_and(attnotnull) FROM pg_attribute WHERE attname = 'org_id' AND attrelid IN ('reports'::regclass, 'dashboard_layouts'::regclass)) AS not_null`);
    assert.deepEqual(rows[0], { parent_org: true, default_org: DEFAULT_ORG_ID, query_org: true, not_null: true });
  });

  it('an application that does not set org_id keeps working after the migration, until finalize', async () => {
    await withMigration(db.url, ws, (m) => m.runAll());
    await db.client.query(`INSERT INTO reports (credential_id, title) VALUES (1, 'after')`);
    const inserted = await db.client.query(
      `SELECT r.org_id = c.org_id AS same FROM reports r JOIN credentials c ON c.id = r.credential_id WHERE r.title = 'after'`,
    );
    assert.equal(inserted.rows[0].same, true);
    // a tenant session inserting without org_id gets its own org
    await db.client.query('BEGIN');
    await db.client.query(`SET LOCAL ROLE authenticated`);
    await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ org_id: org(3), role: 'authenticated' }),
    ]);
    await db.client.query(
      `INSERT INTO dashboard_layouts (id, user_id, layout) VALUES (gen_random_uuid(), '00000000-0000-0000-0002-000000000002', '{}')`,
    );
    const mine = await db.client.query(`SELECT count(*)::int AS n FROM dashboard_layouts WHERE layout = '{}'::jsonb`);
    await db.client.query('COMMIT');
    assert.equal(mine.rows[0].n, 1, 'the tenant cannot see the row it just inserted');
    assert.equal(
      (await db.client.query(`SELECT org_id::text FROM dashboard_layouts WHERE layout = '{}'::jsonb`)).rows[0].org_id,
      org(3),
    );
    const finalized = await withMigration(db.url, ws, (m) => m.finalize());
    assert.equal(finalized.status, 'done');
    await assert.rejects(
      db.client.query(`INSERT INTO reports (credential_id, title) VALUES (1, 'after finalize')`),
      /null value in column "org_id"/,
    );
    await db.client.query(
      `INSERT INTO reports (credential_id, title, org_id) SELECT 1, 'sets org', org_id FROM credentials WHERE id = 1`,
    );
  });

  it('a lock held by the application makes a statement wait and retry, then fail clearly naming what to do', async () => {
    const holder = new pg.Client(db.url);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE dashboard_layouts IN ROW EXCLUSIVE MODE'); // what an open UPDATE transaction holds
      const events: EngineEvent[] = [];
      const m = await openMigration(db.url, makeWorkspace({ lockTimeoutMs: 50 }), events);
      const error = await m.migrate().then(
        () => undefined,
        (e: Error & { next?: string }) => e,
      );
      await m.close();
      assert.ok(error, 'the migration did not wait for the lock');
      assert.match(error.message, new RegExp(`Could not get a lock .* after ${LOCK_RETRY.attempts} attempts`));
      assert.match(error.next ?? '', /pg_stat_activity/);
      assert.equal(events.filter((e) => e.type === 'retry').length, LOCK_RETRY.attempts - 1);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const resumed = await withMigration(db.url, ws, (m) => m.runAll());
    assert.ok(resumed.ok, resumed.error?.oneLine);
  });
});
