// A failure is printed once: what is wrong and what to do, in the last line; the checklist marks the step failed
// without repeating them. With --json, one valid document holds the error once.
import assert from 'node:assert/strict';
import pg from 'pg';
import { buildCli, Workspace, withPort, type CliResult } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import { NOTES } from '../fixtures/odd-tables';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { LOCK_RETRY } from '../../src/engine/execute/runner';

const occurrences = (text: string, part: string) => text.split(part).length - 1;

function printedOnce(r: CliResult, what: string, fix: string): void {
  const all = r.stdout + r.stderr;
  assert.equal(occurrences(all, what), 1, `"${what}" once:\n${all}`);
  assert.equal(occurrences(all, fix), 1, `the fix "${fix}" once:\n${all}`);
  assert.equal(r.errorLines.length, 1, all);
  assert.ok(r.errorLines[0]!.includes(what) && r.errorLines[0]!.includes(fix), `the last line says both:\n${all}`);
}

function jsonOnce(r: CliResult, what: string, fix: string): void {
  const doc = JSON.parse(r.stdout) as { ok: boolean; error: { message: string; next: string } };
  assert.equal(doc.ok, false);
  assert.ok(doc.error.message.includes(what), doc.error.message);
  assert.equal(doc.error.next.includes(fix), true, doc.error.next);
  // Once as the error (the failed statement's text, in details, is SQL and may quote the message it raises).
  assert.equal(occurrences(r.stdout, JSON.stringify(doc.error.message)), 1, `held once:\n${r.stdout}`);
  assert.equal(r.stderr, '', 'nothing beside the document');
}

describe('CLI: an error is printed once', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let ws: Workspace;
  const spec = (overrides: Record<string, unknown> = {}) =>
    legacySpec({
      tables: [
        ...GUIDE_SPEC.tables,
        { name: 'Team Notes', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
      ],
      ...overrides,
    });
  before(async () => {
    await buildCli();
    db = await createTestDatabase();
    await db.client.query(NOTES);
    await db.client.query(
      `INSERT INTO "Team Notes" (credential_id, n, title, kind) SELECT id, 1, 'note ' || id, 'plain' FROM credentials WHERE id <= 40`,
    );
    // The operator has ticked the manual prerequisites (the ticks live in the database): writing commands go on.
    const ticking = new Workspace(spec());
    await ticking.tickAll({ DATABASE_URL: db.url });
    ticking.remove();
  });
  afterEach(() => ws?.remove());
  after(async () => db?.drop());

  it('a connection refused', async () => {
    ws = new Workspace(spec());
    const url = withPort(db.url, 1);
    const r = await ws.run(['backup', '--yes'], { DATABASE_URL: url });
    assert.equal(r.code, 4);
    printedOnce(r, 'Nothing accepts connections at 127.0.0.1:1', 'Check the host and port');
    jsonOnce(
      await ws.run(['backup', '--yes', '--json'], { DATABASE_URL: url }),
      'Nothing accepts connections at 127.0.0.1:1',
      'Check the host and port',
    );
  });

  it('a refusal from the preflight (the default org is missing)', async () => {
    ws = new Workspace(spec({ defaultOrgId: '00000000-0000-0000-0000-00000000abcd' }));
    const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, 3);
    printedOnce(r, 'The default org 00000000-0000-0000-0000-00000000abcd does not exist', 'change defaultOrgId');
    jsonOnce(
      await ws.run(['run', '--yes', '--json'], { DATABASE_URL: db.url }),
      'The default org 00000000-0000-0000-0000-00000000abcd does not exist',
      'change defaultOrgId',
    );
  });

  it('a statement of the script that fails on the database, in a run: the failed step is marked, the reason is the last line', async () => {
    await db.client.query(
      `CREATE SCHEMA IF NOT EXISTS tenant_migration; CREATE TABLE tenant_migration."backup_Team Notes" (x int)`,
    );
    try {
      ws = new Workspace(spec());
      const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^✘ Back up \([^)]*\) failed$/m);
      printedOnce(r, 'exists but is not recorded as a backup', 'the script is idempotent and resumes where it stopped');
      // The statement named is the one that failed (the backup's DO block), not the BEGIN of its transaction.
      const line = Number(/The statement at line (\d+) failed/.exec(r.errorLines[0]!)![1]);
      const script = (await import('node:fs')).readFileSync(ws.scriptPath, 'utf8').split('\n');
      assert.match(script[line - 1]!, /^DO \$tm\$/);
      jsonOnce(
        await ws.run(['run', '--yes', '--json'], { DATABASE_URL: db.url }),
        'exists but is not recorded as a backup',
        'resumes where it stopped',
      );
    } finally {
      await db.client.query(`DROP TABLE tenant_migration."backup_Team Notes"`);
    }
  });

  it('a lock held by another session outlasts every lock_timeout retry', async () => {
    ws = new Workspace(spec({ lockTimeoutMs: 100 }));
    assert.equal((await ws.run(['backup', '--yes'], { DATABASE_URL: db.url })).code, 0);
    const holder = new pg.Client(db.url);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE "Team Notes" IN SHARE MODE');
      const r = await ws.run(['migrate', '--yes'], { DATABASE_URL: db.url });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^✘ Migrate \([^)]*\) failed$/m);
      printedOnce(
        r,
        `after ${LOCK_RETRY.attempts} attempts: canceling statement due to lock timeout`,
        'find it in pg_stat_activity / pg_locks',
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
