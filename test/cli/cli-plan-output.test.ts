// `plan` as a newcomer reads it: phases with what they hold (every statement with --statements), thousands
// separators, and the mapping gaps last with each sample once.
import assert from 'node:assert/strict';
import { buildCli, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import { statementKind } from '../../src/cli/render-plan';

describe('CLI: plan output', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    await buildCli();
    db = await createTestDatabase({ seed: { orgs: 5, users: 200, credentials: 1_500, reports: 2_000, layouts: 100 } });
  });
  after(async () => { ws?.remove(); await db?.drop(); });

  it('groups the statements by phase, names them, and puts the gaps last', async () => {
    ws = new Workspace(legacySpec());
    const r = await ws.run(['plan'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^ {2}prepare \(lines \d+–\d+\): \d+ statements — .*CREATE SCHEMA.*CREATE TABLE ×\d+/m);
    assert.match(out, /^ {2}backfill \(lines \d+–\d+\): \d+ statements? — DO block/m);
    assert.doesNotMatch(out, /^ {4}line +\d+ {2}DO \$tm\$/m, 'no statement list without --statements');
    assert.match(out, /tenant-migrate plan --statements/);
    assert.match(out, /of 1,500\b/, 'thousands separators');
    assert.doesNotMatch(out, /row\(s\)/);
    const gaps = out.indexOf('Mapping gaps:');
    assert.ok(gaps > out.indexOf('Statements ('), 'the gaps come after the statements');
    for (const line of out.split('\n').filter((l) => l.trimStart().startsWith('e.g. '))) {
      const samples = line.trim().slice(5).split(', ');
      assert.equal(new Set(samples).size, samples.length, `each sample once: ${line}`);
    }
    const full = await ws.run(['plan', '--statements'], { DATABASE_URL: db.url });
    assert.match(full.stdout, /^ {4}line +\d+ {2}DO \$tm\$/m);
    const bad = await ws.run(['status', '--statements'], { DATABASE_URL: db.url });
    assert.equal(bad.code, 2);
  });

  it('names statements by their first words', () => {
    assert.equal(statementKind('-- the state\nCREATE TABLE IF NOT EXISTS "tenant_migration"."snapshot" ('), 'CREATE TABLE');
    assert.equal(statementKind('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS x ON t (a)'), 'CREATE INDEX');
    assert.equal(statementKind('DO $tm$\nBEGIN END $tm$'), 'DO block');
    assert.equal(statementKind('SET lock_timeout = \'1s\';'), 'SET');
  });
});
