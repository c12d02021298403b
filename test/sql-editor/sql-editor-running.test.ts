// Running statements from the SQL editor against a migrated database: read-only and rolled back by default, as a
// tenant, writes only when asked (audited, under the run lock), and \d+ from the catalog.
import assert from 'node:assert/strict';
import { summarize } from '../../src/engine/sql-editor/expectations';
import { runStatement } from '../../src/engine/sql-editor/run-statement';
import { describeRelation } from '../../src/engine/sql-editor/describe';
import { Session } from '../../src/engine/db/session';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrateFully, makeWorkspace } from '../support/migration-helpers';
import { ORG_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;

describe('SQL editor engine', () => {
  describe('running statements', () => {
    let db: TestDatabase;
    let session: Session;
    before(async () => {
      db = await createTestDatabase();
      await migrateFully(db.url, makeWorkspace());
      session = await Session.open(db.url);
    });
    after(async () => {
      await session.close();
      await db.drop();
    });

    it('runs read-only and rolls back by default', async () => {
      const r = await runStatement(
        session,
        'SELECT count(*) FROM credentials WHERE org_id IS NULL',
        { kind: 'read' },
        { timeoutMs: 5000 },
      );
      assert.equal(summarize(r), '→ 0');
      await assert.rejects(
        runStatement(session, `DELETE FROM reports`, { kind: 'read' }, { timeoutMs: 5000 }),
        /read-only transaction/,
      );
      assert.ok(Number((await db.client.query('SELECT count(*) FROM reports')).rows[0].count) > 0);
    });

    it("runs as a tenant: only that org's rows, rolled back", async () => {
      const r = await runStatement(
        session,
        'SELECT DISTINCT org_id::text FROM reports',
        { kind: 'tenant', org: org(2), role: 'authenticated', context: { kind: 'supabase-jwt', claim: 'org_id' } },
        { timeoutMs: 5000 },
      );
      assert.deepEqual(r.rows, [{ org_id: org(2) }]);
      const role = await session.query<{ u: string }>('SELECT current_user AS u');
      assert.equal(role.rows[0]!.u, 'postgres', 'the tenant role leaked out of the transaction');
    });

    it('writes only when asked, and applies the statement timeout', async () => {
      await runStatement(
        session,
        `UPDATE reports SET title = 'edited' WHERE id = 1`,
        { kind: 'write' },
        { timeoutMs: 5000 },
      );
      assert.equal((await db.client.query('SELECT title FROM reports WHERE id = 1')).rows[0].title, 'edited');
      await assert.rejects(
        runStatement(session, 'SELECT pg_sleep(2)', { kind: 'read' }, { timeoutMs: 100 }),
        /statement timeout/,
      );
      const plan = await runStatement(
        session,
        'SELECT * FROM reports WHERE org_id = $$x$$::uuid',
        { kind: 'explain' },
        { timeoutMs: 5000 },
      ).catch((e: Error) => e);
      assert.ok(plan instanceof Error, 'a bad uuid should fail');
      const explain = await runStatement(session, 'SELECT * FROM reports', { kind: 'explain' }, { timeoutMs: 5000 });
      assert.match(String(explain.rows[0]!['QUERY PLAN']), /Seq Scan on reports/);
    });

    it('a write: audited with the write, refused while a run holds the lock, CONCURRENTLY and VACUUM outside a transaction', async () => {
      const audit = async () =>
        (
          await db.client.query(
            `SELECT statement, outcome, rows, error FROM tenant_migration.audit WHERE step = 'sql-editor' ORDER BY id`,
          )
        ).rows;
      const before = (await audit()).length;
      await runStatement(
        session,
        `UPDATE reports SET title = 'audited' WHERE id = 2`,
        { kind: 'write' },
        { timeoutMs: 5000 },
      );
      await assert.rejects(
        runStatement(
          session,
          `UPDATE reports SET title = 'never' WHERE id = 2 / 0`,
          { kind: 'write' },
          { timeoutMs: 5000 },
        ),
        /division by zero/,
      );
      assert.deepEqual(
        (await audit()).slice(before).map((r) => [r.statement, r.outcome, r.rows]),
        [
          [`UPDATE reports SET title = 'audited' WHERE id = 2`, 'ok', '1'],
          [`UPDATE reports SET title = 'never' WHERE id = 2 / 0`, 'error', null],
        ],
      );

      const run = await Session.open(db.url);
      try {
        await run.query('SELECT pg_advisory_lock(7447313001)');
        await assert.rejects(
          runStatement(
            session,
            `UPDATE reports SET title = 'during a run' WHERE id = 3`,
            { kind: 'write' },
            { timeoutMs: 5000 },
          ),
          (e: Error) => /Another migration run holds the lock/.test(e.message) && e.message.includes(`pid ${run.pid}`),
        );
        assert.notEqual(
          (await db.client.query('SELECT title FROM reports WHERE id = 3')).rows[0].title,
          'during a run',
        );
      } finally {
        await run.close();
      }

      await runStatement(
        session,
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS reports_title_editor ON reports (title)',
        { kind: 'write' },
        { timeoutMs: 5000 },
      );
      assert.deepEqual(
        (await db.client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'reports_title_editor'::regclass`))
          .rows,
        [{ indisvalid: true }],
      );
      await runStatement(session, 'VACUUM (ANALYZE) reports', { kind: 'write' }, { timeoutMs: 5000 });
      const shown = (await session.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!;
      assert.notEqual(
        shown.statement_timeout,
        '5s',
        'the statement timeout of a statement run alone is reset after it',
      );
      const locks = await db.client.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`, [
        session.pid,
      ]);
      assert.equal(locks.rowCount, 0, 'the run lock is released after every write');
    });

    it('answers \\d+ from the catalog', async () => {
      const text = await describeRelation(session, 'credentials', true);
      assert.match(text, /Table "public\.credentials"/);
      assert.match(text, /org_id +\| uuid +\| not null/);
      assert.match(text, /POLICY "tenant_migration_isolation" AS RESTRICTIVE FOR ALL/);
      assert.match(text, /Policies \(row security enabled\)/);
      assert.doesNotMatch(text, /forced row security/, 'transition mode: FORCE waits for the enforce step');
      assert.match(await describeRelation(session, 'nope', false), /Did not find any relation named "nope"/);
    });
  });
});
