// The backfill in groups of batches with a VACUUM between them (issue 17, no bloat): the tables grow by about one
// group instead of doubling, every row gets its org, an application writing between groups keeps its rows' org, a
// run killed between groups resumes, and the script still runs under psql -f (VACUUM is a top-level statement).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { runBackfillScript as run, scriptFor } from './support/backfill-script';
import { Session } from '../../src/engine/db/session';
import { runScript } from '../../src/engine/execute/runner';
import { ensureStateSchema } from '../../src/engine/state';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, type Workspace } from '../support/migration-helpers';
import { ORG_PREFIX, type DatasetSize } from '../fixtures/legacy-data';

const SIZE: DatasetSize = { orgs: 5, users: 300, credentials: 4000, reports: 24_000, layouts: 1500 };
const GROUPS = { minGroupBytes: 64 * 1024, maxGroups: 8 };

const heapBytes = async (c: pg.ClientBase, table: string) =>
  Number((await c.query(`SELECT pg_relation_size($1::regclass) AS b`, [table])).rows[0].b);
const totalBytes = async (c: pg.ClientBase, table: string) =>
  Number((await c.query(`SELECT pg_total_relation_size($1::regclass) AS b`, [table])).rows[0].b);
const withoutOrg = async (c: pg.ClientBase) =>
  (
    await c.query(
      `SELECT (SELECT count(*) FROM credentials WHERE org_id IS NULL) + (SELECT count(*) FROM reports WHERE org_id IS NULL) + (SELECT count(*) FROM dashboard_layouts WHERE org_id IS NULL) AS n`,
    )
  ).rows[0].n;

describe('backfill in groups with a VACUUM between them', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase({ seed: SIZE });
    await db.client.query('VACUUM (ANALYZE)');
    ws = makeWorkspace({});
  });
  afterEach(async () => {
    await db.drop();
  });

  it('writes one DO block per group and a top-level VACUUM after each, the last one with ANALYZE', async () => {
    const text = await scriptFor(db.url, ws, GROUPS);
    const backfill = text.slice(
      text.indexOf('-- @tenant-migration step=backfill'),
      text.indexOf('-- @tenant-migration step=constraints'),
    );
    assert.equal(
      (backfill.match(/^VACUUM \(INDEX_CLEANUP OFF\) "public"\."reports";$/gm) ?? []).length,
      GROUPS.maxGroups - 1,
    );
    assert.equal((backfill.match(/^VACUUM \(ANALYZE\) "public"\."reports";$/gm) ?? []).length, 1);
    assert.match(backfill, /group 8 of 8/);
    const reindex = backfill.indexOf('REINDEX TABLE CONCURRENTLY "public"."reports";');
    assert.ok(
      reindex > backfill.indexOf('group 8 of 8') && reindex < backfill.indexOf('VACUUM (ANALYZE) "public"."reports"'),
      'the indexes are not rebuilt between the last group and the last VACUUM',
    );
    assert.equal(
      (await scriptFor(db.url, ws, { minGroupBytes: 1024 ** 3, maxGroups: 8 })).match(/INDEX_CLEANUP OFF/g),
      null,
      'a small table got more than one group',
    );
  });

  it("the table grows by about a group, where one group doubles it; every row gets its org, an app role's rows too", async () => {
    const twin = await createTestDatabase({ seed: SIZE });
    try {
      await twin.client.query('VACUUM (ANALYZE)');
      const before = await heapBytes(db.client, 'reports');
      const totalBefore = await totalBytes(db.client, 'reports');
      const oneGroup = await run(twin.url, await scriptFor(twin.url, ws, { minGroupBytes: 1024 ** 3, maxGroups: 1 }));
      await oneGroup.done;
      // An application (neither owner nor superuser, its org from the JWT claims as PostgREST sets them) inserts while
      // the groups run: each insert lands in the space a VACUUM freed, or at the end, and gets its org.
      const app = new pg.Client(db.url);
      await app.connect();
      const tenant = `${ORG_PREFIX}${(2).toString(16).padStart(12, '0')}`;
      await db.client.query(
        `INSERT INTO legacy_credential_org_map (credential_id, org_id) SELECT 2, $1 WHERE NOT EXISTS (SELECT 1 FROM legacy_credential_org_map WHERE credential_id = 2)`,
        [tenant],
      );
      await db.client.query(`UPDATE legacy_credential_org_map SET org_id = $1 WHERE credential_id = 2`, [tenant]);
      const inserts: Promise<unknown>[] = [];
      const grouped = await run(db.url, await scriptFor(db.url, ws, GROUPS), (e) => {
        if (e.type === 'statement-started' && /^VACUUM \(INDEX_CLEANUP OFF\) "public"\."reports"/.test(e.sql)) {
          inserts.push(
            app.query(`BEGIN; SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claims', '{"org_id":"${tenant}"}', true);
            INSERT INTO reports (credential_id, title) VALUES (2, 'written between groups'); COMMIT;`),
          );
        }
      });
      await grouped.done;
      await Promise.all(inserts);
      await app.end();
      const [grown, doubled] = [
        (await heapBytes(db.client, 'reports')) / before,
        (await heapBytes(twin.client, 'reports')) / before,
      ];
      assert.ok(
        doubled >= 1.8,
        `one group grew reports ${doubled.toFixed(2)}× (the baseline this change is measured against)`,
      );
      assert.ok(grown <= 1.45, `reports grew ${grown.toFixed(2)}× with ${GROUPS.maxGroups} groups`);
      const totalGrown = (await totalBytes(db.client, 'reports')) / totalBefore;
      assert.ok(totalGrown <= 1.45, `reports with its indexes (the new one included) grew ${totalGrown.toFixed(2)}×`);
      assert.equal(Number(await withoutOrg(db.client)), 0);
      const written = (
        await db.client.query(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE org_id = $1)::int AS org FROM reports WHERE title = 'written between groups'`,
          [tenant],
        )
      ).rows[0];
      assert.equal(written.n, GROUPS.maxGroups - 1);
      assert.equal(written.org, written.n, 'a row written between groups lost its org');
      const state = (
        await db.client.query(
          `SELECT table_name, rows_done::int AS rows, completed_at IS NOT NULL AS completed FROM tenant_migration.backfill ORDER BY 1`,
        )
      ).rows;
      assert.deepEqual(
        state.map((s) => [s.table_name, s.completed]),
        [
          ['credentials', true],
          ['dashboard_layouts', true],
          ['reports', true],
        ],
      );
      assert.equal(
        state.find((s) => s.table_name === 'reports')!.rows,
        SIZE.reports,
        'the groups together updated every seeded report once',
      );
    } finally {
      await twin.drop();
    }
  });

  it('killed between groups, a re-run finishes the backfill where it stopped', async () => {
    const text = await scriptFor(db.url, ws, GROUPS);
    const killer = new pg.Client(db.url);
    await killer.connect();
    let killed = false;
    let pid = 0;
    const first = await run(db.url, text, (e) => {
      if (
        !killed &&
        e.type === 'statement-started' &&
        /group 4 of 8/.test(e.sql) &&
        e.sql.includes('"public"."reports"')
      ) {
        killed = true;
        void killer.query('SELECT pg_terminate_backend($1)', [pid]);
      }
    });
    pid = first.pid;
    await assert.rejects(first.done);
    await killer.end();
    assert.ok(killed, 'the kill point was never reached');
    const stopped = (
      await db.client.query(
        `SELECT next_page::int AS next, last_page::int AS last, completed_at FROM tenant_migration.backfill WHERE table_name = 'reports'`,
      )
    ).rows[0];
    assert.ok(
      stopped.next > 0 && stopped.next <= stopped.last && stopped.completed_at === null,
      `stopped part-way: ${JSON.stringify(stopped)}`,
    );
    await (
      await run(db.url, text)
    ).done;
    assert.equal(Number(await withoutOrg(db.client)), 0);
    assert.equal(
      (await db.client.query(`SELECT rows_done::int AS n FROM tenant_migration.backfill WHERE table_name = 'reports'`))
        .rows[0].n,
      SIZE.reports,
    );
  });

  it("killed after a table's last batch committed, before it was marked complete: the re-run marks it complete", async () => {
    const text = await scriptFor(db.url, ws, GROUPS);
    await (
      await run(db.url, text)
    ).done;
    // The state the kill leaves: every page done (next_page past last_page), completed_at not yet set.
    await db.client.query(`UPDATE tenant_migration.backfill SET completed_at = NULL WHERE table_name = 'reports'`);
    await (
      await run(db.url, text)
    ).done;
    const after = (
      await db.client.query(
        `SELECT next_page::int AS next, last_page::int AS last, completed_at FROM tenant_migration.backfill WHERE table_name = 'reports'`,
      )
    ).rows[0];
    assert.ok(after.next > after.last && after.completed_at !== null, `marked complete: ${JSON.stringify(after)}`);
  });

  it('runs unchanged under psql -v ON_ERROR_STOP=1 -f, and drops an index an interrupted REINDEX CONCURRENTLY left invalid', async () => {
    await assert.rejects(
      db.client.query('CREATE UNIQUE INDEX CONCURRENTLY reports_title_ccnew ON reports (credential_id)'),
      /could not create unique index/,
    );
    const file = `${ws.folder}/grouped.sql`;
    fs.writeFileSync(file, await scriptFor(db.url, ws, GROUPS));
    const r = spawnSync('psql', [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], { encoding: 'utf8' });
    assert.equal(
      r.status,
      0,
      r.stderr
        .split('\n')
        .filter((l) => !l.includes('NOTICE'))
        .join('\n'),
    );
    assert.equal(Number(await withoutOrg(db.client)), 0);
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM tenant_migration.backfill WHERE completed_at IS NOT NULL`))
        .rows[0].n,
      3,
    );
    assert.equal(
      (await db.client.query(`SELECT to_regclass('reports_title_ccnew') AS i`)).rows[0].i,
      null,
      'the invalid leftover is still there',
    );
    assert.match(r.stderr, /dropping reports_title_ccnew, left invalid by an interrupted REINDEX CONCURRENTLY/);
    const invalid = (await db.client.query(`SELECT count(*)::int AS n FROM pg_index WHERE NOT indisvalid`)).rows[0].n;
    assert.equal(invalid, 0);
  });

  it('a REINDEX CONCURRENTLY that timed out waiting for a writer and was retried leaves no invalid copy behind', async () => {
    const text = await scriptFor(db.url, ws, GROUPS);
    const from = text.indexOf(
      '-- does: drop an index an interrupted REINDEX CONCURRENTLY left invalid — public.reports',
    );
    const to = text.indexOf('-- does: VACUUM ANALYZE after the backfill — public.reports');
    // The script's rebuild of reports, with a lock timeout short enough for a test (the script's is 10 s).
    const rebuild = text.slice(from, to).replace(/SET lock_timeout = '\d+ms';/g, "SET lock_timeout = '200ms';");
    const indexes = async () =>
      (
        await db.client.query<{ valid: boolean; n: number }>(
          `SELECT indisvalid AS valid, count(*)::int AS n FROM pg_index WHERE indrelid = 'reports'::regclass GROUP BY 1 ORDER BY 1`,
        )
      ).rows;
    const before = await indexes();
    // A writer's open transaction: the REINDEX has made its new copies when it waits for it, and times out.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    await writer.query('BEGIN');
    await writer.query('UPDATE reports SET credential_id = credential_id WHERE ctid = (SELECT min(ctid) FROM reports)');
    const done = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => writer.query('COMMIT'));
    const session = await Session.open(db.url);
    await ensureStateSchema(session); // the retries are audited
    const retries: string[] = [];
    try {
      await runScript(rebuild, {
        session,
        step: 'migrate',
        onEvent: (e) => void (e.type === 'retry' && retries.push(e.reason)),
        retry: { attempts: 40, firstWaitMs: 50 },
      });
    } finally {
      await done;
      await writer.end();
      await session.close();
    }
    assert.ok(
      retries.some((r) => /lock timeout/.test(r)),
      `retried: ${retries.join('; ')}`,
    );
    assert.deepEqual(await indexes(), before, 'as many indexes as before, all valid');
  });
});
