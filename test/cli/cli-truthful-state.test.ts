// The CLI tells the truth about the database's state: nothing to do is said (and nothing written), status after a
// rollback or a cancel, the last run agreeing with its steps, `run` after `cleanup`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { assertSameDigest, buildCli, CLI, databaseDigest, migrationTraces, Workspace } from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

interface StepJson {
  step: string;
  status: string;
  summary: string;
  nothingToDo?: boolean;
  undone?: boolean;
}
interface StatusJson {
  migrated: boolean;
  steps: StepJson[];
  lastRun?: { command: string; status: string };
  backfill: { table: string; rowsDone: number; pagesDone: number; pagesTotal: number; completed: boolean }[];
}

describe('CLI: truthful state', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let ws: Workspace;

  before(() => buildCli());
  afterEach(async () => {
    ws?.remove();
    await db?.drop();
  });

  const json = <T>(stdout: string) => JSON.parse(stdout) as { ok: boolean; exitCode: number; result: T };

  it('rollback, finalize and cleanup on a never-migrated database say there is nothing to do, exit 0 and write nothing', async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    const before = await databaseDigest(db.client);
    for (const [command, said] of [
      ['rollback', /Nothing to undo: this database was never migrated/],
      ['finalize', /Nothing to finalize/],
      ['cleanup', /Nothing to clean up: this database was never migrated/],
    ] as const) {
      const r = await ws.run([command, '--yes'], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, said);
      assert.doesNotMatch(r.stdout, /changes undone|legacy schema is back|dropped:/);
      const j = await ws.run([command, '--yes', '--json'], { DATABASE_URL: db.url });
      const doc = json<StepJson>(j.stdout);
      assert.deepEqual(
        { ok: doc.ok, exitCode: doc.exitCode, status: doc.result.status, nothingToDo: doc.result.nothingToDo },
        { ok: true, exitCode: 0, status: 'skipped', nothingToDo: true },
        command,
      );
    }
    assertSameDigest(before, await databaseDigest(db.client), 'nothing changed');
    assert.equal((await migrationTraces(db.client)).stateSchema, false, 'not even the state schema was created');
  });

  it('after run, cleanup and rollback: run again works, status shows the undone steps, a second rollback has nothing to undo', async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    const env = { DATABASE_URL: db.url };
    await ws.tickAll(env);
    assert.equal((await ws.run(['run', '--yes'], env)).code, 0);
    assert.equal((await ws.run(['cleanup', '--yes'], env)).code, 0);
    const again = await ws.run(['run', '--yes', '--json'], env);
    const rerun = json<{ steps: StepJson[] }>(again.stdout);
    assert.equal(rerun.exitCode, 0, again.stdout);
    const backup = rerun.result.steps.find((s) => s.step === 'backup')!;
    assert.equal(backup.status, 'skipped');
    assert.match(backup.summary, /cleanup dropped this migration's backups after sign-off/);

    assert.equal((await ws.run(['rollback', '--yes'], env)).code, 0);
    const text = await ws.run(['status'], env);
    assert.match(text.stdout, /not migrated/);
    assert.match(text.stdout, /undone\s+Migrate/);
    assert.doesNotMatch(text.stdout, /^\s+done\s+(Migrate|Validate|Verify isolation)/m);
    assert.match(text.stdout, /Last run: "rollback" .*: succeeded/);
    const status = json<StatusJson>((await ws.run(['status', '--json'], env)).stdout).result;
    for (const step of ['backup', 'migrate', 'validate', 'isolation']) {
      const s = status.steps.find((x) => x.step === step)!;
      assert.deepEqual({ status: s.status, undone: s.undone }, { status: 'pending', undone: true }, step);
    }
    const before = await databaseDigest(db.client);
    const second = await ws.run(['rollback', '--yes'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Nothing to undo: no trace of a migration/);
    assertSameDigest(before, await databaseDigest(db.client), 'a second rollback changes nothing');

    // The new migration after the rollback takes fresh backups (cleanup's dropped records no longer stand in for them).
    const fresh = await ws.run(['run', '--yes'], env);
    assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    assert.equal((await migrationTraces(db.client)).backups.length, 3);
  });

  it('the last run agrees with its step: a validate whose checks fail is a failed run', async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    const r = await ws.run(['validate', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, 1, r.stdout);
    const status = json<StatusJson>((await ws.run(['status', '--json'], { DATABASE_URL: db.url })).stdout).result;
    assert.equal(status.steps.find((s) => s.step === 'validate')!.status, 'failed');
    assert.deepEqual(status.lastRun && { command: status.lastRun.command, status: status.lastRun.status }, {
      command: 'validate',
      status: 'failed',
    });
  });

  it('status after Ctrl-C during the backfill shows how far it got', async () => {
    db = await createTestDatabase({ seed: { orgs: 5, users: 200, credentials: 2_000, reports: 40_000, layouts: 200 } });
    ws = new Workspace(legacySpec({ batchSize: 200 }));
    await ws.tickAll({ DATABASE_URL: db.url });
    const child = spawn(process.execPath, [CLI, 'migrate', '--yes'], {
      cwd: ws.dir,
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { rows } = await db.client.query(`SELECT to_regclass('tenant_migration.backfill') IS NOT NULL AS ok`);
      const started =
        rows[0].ok &&
        (
          await db.client.query(
            `SELECT 1 FROM tenant_migration.backfill WHERE table_name = 'reports' AND rows_done > 0 AND completed_at IS NULL`,
          )
        ).rows.length > 0;
      if (started) break;
      if (Date.now() > deadline) throw new Error('the backfill did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    assert.notEqual(await exited, 0);
    const text = await ws.run(['status'], { DATABASE_URL: db.url });
    assert.match(text.stdout, /Backfill so far \(the next "migrate" or "run" resumes here\):/);
    assert.match(text.stdout, /public\.reports: \d+% · [\d,]+ rows · pages [\d,]+ of [\d,]+/);
    assert.match(text.stdout, /public\.credentials: complete/);
    const status = json<StatusJson>((await ws.run(['status', '--json'], { DATABASE_URL: db.url })).stdout).result;
    const partial = status.backfill.filter((b) => !b.completed);
    assert.ok(partial.length > 0 && partial.every((b) => b.pagesDone < b.pagesTotal), JSON.stringify(status.backfill));
    assert.equal(status.lastRun?.status, 'cancelled');
  });
});
