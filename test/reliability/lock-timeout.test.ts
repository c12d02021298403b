// A lock timeout while the application holds a lock: the statement that needs the table waits lock_timeout, is retried
// with a growing wait (backoff), and after the last attempt the run fails with one clear line naming the statement and
// what to do; nothing half-done is left behind: once the application lets go, a re-run converges to the state of an
// uninterrupted run, no row lost, backups intact. The statement that waits is whichever of the run first needs the
// table: the test reads it off the events, never off the script's text.
import assert from 'node:assert/strict';
import pg from 'pg';
import { figures } from './support/figures';
import { FAULT_DATASET, cloneDatabase, referenceRun, templateDatabase } from './support/databases';
import { backupIntact, backupStates, migratedState, rowsLost, stateDiff } from './support/states';
import { makeWorkspace, withMigration } from '../support/migration-helpers';
import type { EngineEvent } from '../../src/engine/events';

const fig = figures(__filename);
const SPEC = { batchSize: 100 };

describe('a lock timeout while the application holds a lock', function () {
  this.timeout(180_000);

  it('is retried with backoff, then fails in one line naming the statement and the fix; the re-run converges', async () => {
    const template = await templateDatabase(FAULT_DATASET);
    const reference = await referenceRun(template, SPEC);
    const db = await cloneDatabase(template);
    const app = new pg.Client(db.url);
    app.on('error', () => undefined);
    try {
      await app.connect();
      // What an application's open UPDATE transaction holds on a table, for as long as the run takes.
      await app.query('BEGIN');
      await app.query('LOCK TABLE dashboard_layouts IN ROW EXCLUSIVE MODE');
      const ws = makeWorkspace({ ...SPEC, lockTimeoutMs: 50 });
      const events: EngineEvent[] = [];
      const first = await withMigration(db.url, ws, (m) => m.runAll(), events);
      const retries = events.filter((e): e is Extract<EngineEvent, { type: 'retry' }> => e.type === 'retry');
      const failedAt = events.find(
        (e): e is Extract<EngineEvent, { type: 'statement-finished' }> =>
          e.type === 'statement-finished' && e.outcome === 'error',
      );
      const statement =
        failedAt &&
        events.find(
          (e): e is Extract<EngineEvent, { type: 'statement-started' }> =>
            e.type === 'statement-started' && e.step === failedAt.step && e.index === failedAt.index,
        );
      const waits = retries.map((r) => r.waitMs);
      const backoff = waits.length >= 2 && waits.every((w, i) => i === 0 || w > waits[i - 1]!);
      const clear =
        !first.ok &&
        !!statement &&
        new RegExp(`line ${statement.line}\\b`).test(first.error!.oneLine) &&
        /lock/i.test(first.error!.oneLine) &&
        !first.error!.oneLine.includes('\n') &&
        / — .*(pg_stat_activity|pg_locks).*again/.test(first.error!.oneLine);

      assert.equal(first.ok, false, 'the run waited for the application forever or got through');
      assert.ok(statement, 'the failing statement is one of the run');
      assert.match(
        statement.sql,
        /dashboard_layouts/,
        'the statement that timed out is one that needs the locked table',
      );
      assert.ok(
        retries.length >= 2 && retries.every((r) => /lock timeout/i.test(r.reason)),
        `retried on the lock timeout: ${JSON.stringify(retries)}`,
      );
      assert.ok(backoff, `each wait longer than the last: ${waits.join(', ')} ms`);
      assert.ok(
        clear,
        `one line naming the statement (line ${statement.line}), the lock and what to do: ${first.error?.oneLine}`,
      );
      const retriedInAudit = (
        await db.client.query(
          `SELECT count(*)::int AS n FROM tenant_migration.audit WHERE outcome = 'retried' AND error ~* 'lock timeout'`,
        )
      ).rows[0].n;
      assert.equal(retriedInAudit, retries.length, 'every retry is in the audit log');
      const runs = (await db.client.query(`SELECT status FROM tenant_migration.runs ORDER BY id`)).rows.map(
        (r) => r.status,
      );
      assert.deepEqual(runs, ['failed']);

      await app.query('ROLLBACK');
      const rerun = await withMigration(db.url, ws, (m) => m.runAll());
      assert.ok(rerun.ok, rerun.error?.oneLine);
      const diff = stateDiff(reference.state, await migratedState(db.client));
      const lost = Object.values(await rowsLost(db.client, reference.original)).reduce((a, b) => a + b, 0);
      const backups = await backupStates(db.client, reference.original);
      const intact = backups.length === 3 && backups.every(backupIntact);
      fig.record({
        kind: 'fault',
        point: `lock held by the application on dashboard_layouts (${retries.length} retries, waits ${waits.join('/')} ms)`,
        step: statement.step,
        where: 'lock timeout',
        fault: 'lock timeout',
        interrupted: true,
        converged: diff.length === 0 && clear && backoff,
        rowsLost: lost,
        backupsIntact: intact,
      });
      assert.deepEqual(diff, [], 'the re-run converges to the state of an uninterrupted run');
      assert.equal(lost, 0);
      assert.ok(intact, JSON.stringify(backups));
    } finally {
      await app.end().catch(() => undefined);
      await db.drop();
    }
  });
});
