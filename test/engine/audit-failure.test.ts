// An audit row that cannot be written is never silent: the step shows it as a warning check, the JSONL log and
// tenant_migration.steps have it, and the statement's own error is still what the step reports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MigrationError } from '../../src/engine/errors';
import type { CheckResult, EngineEvent } from '../../src/engine/events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, openMigration, withMigration, type Workspace } from '../support/migration-helpers';

describe('an audit row that cannot be written', () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('fails nothing silently: a warning check on the step, in the JSONL log and in tenant_migration.steps', async () => {
    await withMigration(db.url, ws, async (m) => {
      await m.backup();
      const { path: script } = await m.generate();
      // A statement that fails at run time (it parses), after everything else.
      fs.appendFileSync(script, '\nSELECT 1 / 0;\n');
    });
    await db.client.query(`CREATE FUNCTION tenant_migration.refuse_error_rows() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.outcome = 'error' THEN RAISE EXCEPTION 'the audit disk is full'; END IF; RETURN NEW; END $$`);
    await db.client.query(
      `CREATE TRIGGER refuse_error_rows BEFORE INSERT ON tenant_migration.audit FOR EACH ROW EXECUTE FUNCTION tenant_migration.refuse_error_rows()`,
    );

    const events: EngineEvent[] = [];
    const m = await openMigration(db.url, ws, events);
    const error = await m.migrate().then(
      () => undefined,
      (e: unknown) => e,
    );
    await m.close();

    assert.ok(error instanceof MigrationError);
    assert.match(error.message, /division by zero/);
    const warning = (c: CheckResult) =>
      c.name === 'Audit log' &&
      !c.ok &&
      c.severity === 'warning' &&
      /could not be written: the audit disk is full/.test(c.detail);
    assert.ok(
      events.some((e) => e.type === 'check' && e.step === 'migrate' && warning(e.check)),
      'a warning check event',
    );

    const runs = path.join(ws.folder, '.tenant-migration', 'runs');
    const log = fs
      .readdirSync(runs)
      .filter((f) => f.endsWith('-migrate.jsonl'))
      .map((f) => fs.readFileSync(path.join(runs, f), 'utf8'))
      .join('');
    assert.match(log, /"type":"check".*the audit disk is full/);

    const { rows } = await db.client.query<{ detail: { checks: CheckResult[] } }>(
      `SELECT detail FROM tenant_migration.steps WHERE step = 'migrate' ORDER BY started_at DESC LIMIT 1`,
    );
    assert.ok(rows[0]!.detail.checks.some(warning), JSON.stringify(rows[0]!.detail));
    // The audit kept what it could: the statements that succeeded.
    const audited = await db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tenant_migration.audit WHERE step = 'migrate' AND outcome = 'ok'`,
    );
    assert.ok(audited.rows[0]!.n > 10, `${audited.rows[0]!.n} audited statements`);
  });
});
