// Writing commands and the manual prerequisites (full dump, users notified, script reviewed): refused while any is
// unticked, nothing written; `tick` records them; `--unticked-ok` goes on and the audit log says so; --yes is not it.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { assertSameDigest, buildCli, databaseDigest, migrationTraces, Workspace } from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

interface AuditRow {
  run_id: string | null;
  actor: string;
  step: string;
  statement: string;
  outcome: string;
}

describe('CLI: manual prerequisites before a write', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let ws: Workspace;
  let env: Record<string, string>;

  before(() => buildCli());
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    env = { DATABASE_URL: db.url };
  });
  afterEach(async () => {
    ws.remove();
    await db.drop();
  });

  const audit = async (): Promise<AuditRow[]> =>
    (
      await db.client.query<AuditRow>(
        `SELECT run_id::text, actor, step, statement, outcome FROM tenant_migration.audit WHERE statement LIKE 'unticked%' ORDER BY id`,
      )
    ).rows;

  it('nothing ticked: migrate, backup and run --yes are refused in one line naming the items and the fix; nothing is written', async () => {
    const before = await databaseDigest(db.client);
    for (const args of [
      ['migrate', '--yes'],
      ['backup', '--yes'],
      ['run', '--yes'],
    ]) {
      const r = await ws.run(args, env);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(r.errorLines, [r.stderr.trimEnd()], 'one line');
      assert.match(
        r.stderr,
        /refused: 3 manual prerequisites are not ticked \(Full database dump taken; Users notified of the maintenance window; Migration script reviewed\)/,
      );
      assert.match(
        r.stderr,
        / — Tick them once done \("tenant-migrate tick full-dump users-notified script-reviewed"\), or pass --unticked-ok/,
      );
    }
    assertSameDigest(
      before,
      await databaseDigest(db.client),
      '--yes answers the confirmation, not the checklist: nothing written',
    );
    assert.equal((await migrationTraces(db.client)).stateSchema, false, 'not even the state schema');
    const j = await ws.run(['run', '--yes', '--json'], env);
    const doc = JSON.parse(j.stdout) as { exitCode: number; error: { message: string; next: string } };
    assert.equal(doc.exitCode, 3);
    assert.match(doc.error.message, /Run refused: 3 manual prerequisites/);
  });

  it("some ticked: the refusal names only the others, and the ticks leave the user's schema alone", async () => {
    const ticked = await ws.run(['tick', 'full-dump', 'script-reviewed'], env);
    assert.equal(ticked.code, 0, ticked.stderr);
    assert.match(ticked.stdout, /☑ Full database dump taken/);
    assert.match(ticked.stdout, /Not ticked yet: Users notified of the maintenance window\./);
    const before = await databaseDigest(db.client);
    const r = await ws.run(['migrate', '--yes'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /1 manual prerequisite is not ticked \(Users notified of the maintenance window\) — Tick them once done \("tenant-migrate tick users-notified"\)/,
    );
    assertSameDigest(before, await databaseDigest(db.client), 'the refusal writes nothing');
    assert.equal((await migrationTraces(db.client)).orgColumns.length, 0);
    const status = await ws.run(['status'], env);
    assert.match(
      status.stdout,
      /Manual prerequisites not ticked: Users notified of the maintenance window \(once done: "tenant-migrate tick users-notified"\)/,
    );
  });

  it('--unticked-ok goes on, and the audit log records it for each writing step of the run, with who and which run', async () => {
    const r = await ws.run(['run', '--yes', '--unticked-ok'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await migrationTraces(db.client)).orgColumns.length,
      4,
      'migrated: the three tables and the ledger have their org column',
    );
    const rows = await audit();
    assert.deepEqual(
      rows.map((a) => [a.step, a.outcome]),
      [
        ['backup', 'ok'],
        ['migrate', 'ok'],
      ],
    );
    for (const a of rows) {
      assert.equal(
        a.statement,
        'unticked manual prerequisites (Full database dump taken; Users notified of the maintenance window; Migration script reviewed): went on (--unticked-ok)',
      );
      assert.ok(a.run_id, 'recorded with the run');
      assert.ok(a.actor.length > 0, 'recorded with who');
    }
    const rollback = await ws.run(['rollback', '--yes', '--unticked-ok'], env);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.deepEqual(
      (await audit()).map((a) => a.step),
      ['backup', 'migrate', 'rollback'],
    );
  });

  it('every item ticked: run goes on without the flag and the audit log has the ticks, not a go-ahead', async () => {
    await ws.tickAll(env);
    const r = await ws.run(['run', '--yes'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await migrationTraces(db.client)).orgColumns.length, 4, 'migrated');
    assert.deepEqual(await audit(), []);
    const ticks = await db.client.query(
      `SELECT statement FROM tenant_migration.audit WHERE statement LIKE 'manual item ticked:%' ORDER BY id`,
    );
    assert.deepEqual(
      ticks.rows.map((t) => t.statement),
      [
        'manual item ticked: Full database dump taken',
        'manual item ticked: Users notified of the maintenance window',
        'manual item ticked: Migration script reviewed',
      ],
    );
    assert.match((await ws.run(['status'], env)).stdout, /Manual prerequisites: all ticked\./);
  });

  it('usage: tick needs known items (did you mean), --unticked-ok only on commands that write', async () => {
    const none = await ws.run(['tick'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No manual prerequisite given — .*full-dump, users-notified, script-reviewed/);
    const typo = await ws.run(['tick', 'full-dmp'], env);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /Unknown manual prerequisite "full-dmp" \(did you mean "full-dump"\?\)/);
    const plan = await ws.run(['plan', '--unticked-ok'], env);
    assert.equal(plan.code, 2);
    assert.match(plan.stderr, /--unticked-ok only applies to commands that change the database/);
    assert.equal((await migrationTraces(db.client)).stateSchema, false, 'no usage error wrote anything');
  });
});
