// Statement timeouts: a backfill that outlives the script's own statement_timeout, and a database-level
// statement_timeout where the script sets statement_timeout = 0. (The server restarted mid-backfill is
// server-restart.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type pg from 'pg';
import { figures } from './support/figures';
import { until } from './support/cli-process';
import { FAULT_DATASET, cloneDatabase, connect, referenceRun, templateDatabase } from './support/databases';
import { backupIntact, backupStates, migratedState, rowsLost, stateDiff } from './support/states';
import { makeWorkspace, withMigration } from '../support/migration-helpers';
import type { EngineEvent } from '../../src/engine/events';
import { splitScript } from '../../src/engine/script/parse';

const fig = figures(__filename);
// One session: beside the slowed reports backfill, a CONCURRENTLY build on another lane waits for its batches and would
// be the statement that times out first; these tests are about the backfill's statements.
const SPEC = { batchSize: 100, sessions: 1 };

/**
 * The script with its statement_timeout set to `value`: the statement of the script that sets it (found by the
 * engine's own splitter, wherever it is and however it is written) is replaced; without one, one is put first.
 */
async function withStatementTimeout(script: string, value: string): Promise<string> {
  const statement = (await splitScript(script)).find(
    (s) => s.kind === 'sql' && /^\s*SET\s+(SESSION\s+)?statement_timeout\b/i.test(s.text),
  );
  const setting = `SET statement_timeout = '${value}'`;
  if (!statement) return `${setting};\n${script}`;
  const at = script.indexOf(statement.text, statement.start);
  assert.ok(at >= 0, 'the statement is found where the splitter says');
  return `${script.slice(0, at)}${setting}${statement.text.trimEnd().endsWith(';') ? ';' : ''}${script.slice(at + statement.text.length)}`;
}

describe('statement timeouts', function () {
  this.timeout(180_000);
  let template: string;
  before(async () => {
    template = await templateDatabase(FAULT_DATASET);
  });

  /** An ALWAYS trigger (it fires in replica mode too) that makes every UPDATE statement on reports take 50 ms. */
  // Every updated row of reports costs 0.3 ms, in the backfill's replica mode too: a CHECK is checked on every
  // row version whatever the session_replication_role (an ENABLE ALWAYS trigger would do it too, but the plan now
  // refuses those). NOT VALID: the rows already there are not checked when it is added.
  async function slowReportUpdates(client: pg.Client): Promise<void> {
    await client.query(`CREATE FUNCTION slow_row() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0003); RETURN true; END $$;
      ALTER TABLE reports ADD CONSTRAINT slow_row CHECK (slow_row()) NOT VALID;`);
  }

  it("a backfill that outlives the script's statement_timeout fails naming the timeout and the statement; raised, the re-run resumes and converges", async () => {
    const reference = await referenceRun(template, SPEC);
    const db = await cloneDatabase(template);
    try {
      const ws = makeWorkspace(SPEC);
      // The team's reviewed script sets a statement_timeout of its own (the generated one sets 0).
      await withMigration(db.url, ws, (m) => m.generate());
      const script = fs.readFileSync(`${ws.folder}/scripts/migrate_to_multitenant.sql`, 'utf8');
      fs.writeFileSync(`${ws.folder}/scripts/migrate_to_multitenant.sql`, await withStatementTimeout(script, '300ms'));
      await slowReportUpdates(db.client);

      const events: EngineEvent[] = [];
      const first = await withMigration(db.url, ws, (m) => m.runAll(), events);
      assert.equal(
        first.ok,
        false,
        'the backfill of reports (21 batches of ≥ 100 ms) finished within a 300 ms statement_timeout',
      );
      const failedAt = events.find((e) => e.type === 'statement-finished' && e.outcome === 'error');
      const statement = events.find(
        (e) =>
          e.type === 'statement-started' &&
          failedAt?.type === 'statement-finished' &&
          e.index === failedAt.index &&
          e.step === failedAt.step,
      );
      assert.ok(
        statement?.type === 'statement-started' &&
          statement.phase === 'backfill' &&
          /UPDATE "?public"?\."?reports"?/.test(statement.sql),
        `the reports backfill timed out, not ${JSON.stringify(statement)?.slice(0, 300)}`,
      );
      assert.match(
        first.error!.oneLine,
        new RegExp(`line ${statement.line}\\b.*statement timeout`),
        'the error names the statement (its line) and the statement timeout',
      );
      assert.match(first.error!.oneLine, / — .*run again/);
      const audit = (await db.client.query(`SELECT outcome, error FROM tenant_migration.audit WHERE outcome = 'error'`))
        .rows;
      assert.equal(audit.length, 1);
      assert.match(audit[0].error, /statement timeout/);
      const backfill = (
        await db.client.query(
          `SELECT rows_done::int, completed_at FROM tenant_migration.backfill WHERE table_name = 'reports'`,
        )
      ).rows[0];
      assert.ok(
        backfill.rows_done > 0 && backfill.completed_at === null,
        `the batches committed before the timeout are kept: ${JSON.stringify(backfill)}`,
      );

      fs.writeFileSync(`${ws.folder}/scripts/migrate_to_multitenant.sql`, await withStatementTimeout(script, '10min'));
      const rerun = await withMigration(db.url, ws, (m) => m.runAll());
      assert.ok(rerun.ok, rerun.error?.oneLine);
      await db.client.query('ALTER TABLE reports DROP CONSTRAINT slow_row; DROP FUNCTION slow_row()');
      const diff = stateDiff(reference.state, await migratedState(db.client));
      const lost = Object.values(await rowsLost(db.client, reference.original)).reduce((a, b) => a + b, 0);
      const backups = await backupStates(db.client, reference.original);
      const intact = backups.length === 3 && backups.every(backupIntact);
      fig.record({
        kind: 'fault',
        point: 'statement_timeout during the reports backfill',
        step: 'migrate',
        where: 'statement timeout',
        fault: 'statement timeout',
        interrupted: true,
        converged: diff.length === 0,
        rowsLost: lost,
        backupsIntact: intact,
      });
      assert.deepEqual(diff, []);
      assert.equal(lost, 0);
      assert.ok(intact, JSON.stringify(backups));
    } finally {
      await db.drop();
    }
  });

  it('a database statement_timeout does not cut the backup short where the script (and psql -f) sets statement_timeout = 0', async () => {
    // The generated script's header sets statement_timeout = 0, so `migrate` and `psql -f` wait (up to lock_timeout,
    // 5 s here) for a lock the application holds. The backup step runs only the script's backup phases: it must run
    // them under the header's settings too, or a database-level statement_timeout of 300 ms cancels the backup.
    // The application's lock is held until the backup is seen waiting for it, then 600 ms more (past the 300 ms).
    const reference = await referenceRun(template, SPEC);
    const db = await cloneDatabase(template);
    const app = await connect(db.url);
    const watcher = await connect(db.url);
    try {
      await db.client.query(`ALTER DATABASE "${db.name}" SET statement_timeout = '300ms'`);
      const ws = makeWorkspace({ ...SPEC, lockTimeoutMs: 5000 });
      let locking: Promise<unknown> | undefined;
      let blocked = false;
      const events = [] as EngineEvent[];
      const listener = {
        push: (e: EngineEvent) => {
          events.push(e);
          if (!locking && e.type === 'step-started' && e.step === 'backup') {
            // What an application's ALTER TABLE in an open transaction holds (the backup reads dashboard_layouts last).
            locking = (async () => {
              await app.query('BEGIN; LOCK TABLE dashboard_layouts IN ACCESS EXCLUSIVE MODE');
              try {
                blocked = await until(
                  "the backup to wait for the application's lock",
                  async () =>
                    (
                      await watcher.query(
                        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenant-migration' AND wait_event_type = 'Lock'`,
                      )
                    ).rows.length > 0,
                  20_000,
                ).catch(() => false);
                if (blocked) await new Promise((r) => setTimeout(r, 600));
              } finally {
                await app.query('ROLLBACK');
              }
            })();
          }
          return 0;
        },
      } as unknown as EngineEvent[];
      const result = await withMigration(db.url, ws, (m) => m.runAll(), listener);
      await locking;
      const failedStatement = events.find((e) => e.type === 'statement-finished' && e.outcome === 'error');
      fig.record({
        kind: 'fault',
        point: 'database statement_timeout while the backup waits for a lock',
        step: 'backup',
        where: 'statement timeout',
        fault: 'statement timeout',
        interrupted: !result.ok,
        converged: result.ok,
        rowsLost: 0,
        backupsIntact: result.ok,
      });
      assert.ok(
        result.ok,
        `the backup step did not apply the script's own SET statement_timeout = 0: ${result.error?.oneLine} (${JSON.stringify(failedStatement)})`,
      );
      assert.ok(blocked, "the backup waited for the application's lock");
      await db.client.query(`ALTER DATABASE "${db.name}" RESET statement_timeout`);
      assert.deepEqual(stateDiff(reference.state, await migratedState(db.client)), []);
    } finally {
      await app.end().catch(() => undefined);
      await watcher.end().catch(() => undefined);
      await db.drop();
    }
  });
});
