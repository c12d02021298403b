// What a newcomer types first: --version, <command> --help, a mistyped command, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildCli, CLI, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';

describe('CLI basics', function () {
  this.timeout(180_000);
  let ws: Workspace;
  before(() => buildCli());
  beforeEach(() => {
    ws = new Workspace();
  });
  afterEach(() => ws.remove());

  it('--version prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = await ws.run([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `tenant-migrate ${version}\n`);
    }
  });

  it('<command> --help says what the command does and only its options, without connecting', async () => {
    const rollback = await ws.run(['rollback', '--help']);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, /^Usage: tenant-migrate rollback \[options\]\n\nUndo the migration/);
    assert.match(rollback.stdout, /--restore-data/);
    assert.match(rollback.stdout, /--yes/);
    assert.match(rollback.stdout, /asks for confirmation/);
    assert.doesNotMatch(rollback.stdout, /--exact|--force/);
    const plan = await ws.run(['plan', '-h']);
    assert.match(plan.stdout, /--exact/);
    assert.match(plan.stdout, /does not change the database/);
    assert.doesNotMatch(plan.stdout, /--yes|--restore-data/);
    assert.equal(plan.stderr, '');
  });

  it('a mistyped command: did you mean, exit 2, one line', async () => {
    const r = await ws.run(['rollbak']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.errorLines, [r.stderr.trimEnd()], 'the error is printed once');
    assert.match(
      r.stderr,
      /Unknown command "rollbak" \(did you mean "rollback"\?\) — Run "tenant-migrate rollback", or one of: init, plan/,
    );
    const far = await ws.run(['frobnicate']);
    assert.doesNotMatch(far.stderr, /did you mean/);
  });

  describe('with a database', () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase({
        seed: { orgs: 5, users: 200, credentials: 2_000, reports: 40_000, layouts: 200 },
      });
    });
    after(async () => db?.drop());

    it('Ctrl-C during a migration exits 130 and says how to continue', async () => {
      ws.writeSpec(legacySpec({ batchSize: 200 }));
      await ws.tickAll({ DATABASE_URL: db.url });
      const child = spawn(process.execPath, [CLI, 'migrate', '--yes'], {
        cwd: ws.dir,
        env: { ...process.env, DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const deadline = Date.now() + 120_000;
      while (
        !(
          await db.client.query(
            `SELECT to_regclass('tenant_migration.backfill') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%backfill%' AND pid <> pg_backend_pid()) AS going`,
          )
        ).rows[0].going
      ) {
        if (Date.now() > deadline) throw new Error(`the migration did not reach the backfill:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGINT');
      assert.equal(await exited, 130, output);
      assert.match(output, /run again to continue|Run again to continue/);
    });
  });
});
