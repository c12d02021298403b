// `plan` as a newcomer reads it: phases with what they hold (every statement with --statements), thousands
// separators, and the mapping gaps last with each sample once.
import assert from 'node:assert/strict';
import { buildCli, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import fs from 'node:fs';
import path from 'node:path';
import { statementKind } from '../../src/cli/render-plan';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { NOTES } from '../fixtures/odd-tables';

describe('CLI: plan output', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    await buildCli();
    db = await createTestDatabase({ seed: { orgs: 5, users: 200, credentials: 1_500, reports: 2_000, layouts: 100 } });
    await db.client.query(fs.readFileSync(path.join(__dirname, '../fixtures/partitioned-schema.sql'), 'utf8'));
    await db.client.query(NOTES);
  });
  after(async () => {
    ws?.remove();
    await db?.drop();
  });

  it('groups the statements by phase, names them, and puts the gaps last', async () => {
    ws = new Workspace(
      legacySpec({
        tables: [
          ...GUIDE_SPEC.tables,
          { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
          { name: 'usage_records', orgFrom: { mapping: { column: 'credential_id' } } },
          { name: 'Team Notes', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
        ],
      }),
    );
    const r = await ws.run(['plan'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^ {2}prepare \(lines \d+–\d+\): \d+ statements$/m);
    // Each kind of statement once per phase, by what it does, with the tables it acts on.
    assert.match(
      out,
      /^ {6}backfill org_id in batches ×12: public\.credentials, public\.reports, public\.dashboard_layouts, public\.events_2025, and 8 more$/m,
    );
    assert.match(out, /^ {6}add foreign key org_id → public\.orgs \(NOT VALID\) ×12: /m);
    assert.match(out, /^ {6}build the index on org_id CONCURRENTLY ×12: /m);
    assert.match(
      out,
      /^ {6}back up every table once, in one snapshot, readable by the owner only: public\.credentials, .*public\."Team Notes"$/m,
    );
    assert.match(out, /^ {6}row-level security on, the isolation policy in transition mode ×16: /m);
    assert.doesNotMatch(out, /DO \$tm/, 'no DO block by its first line');
    assert.doesNotMatch(out, /^ {4}line +\d+/m, 'no statement list without --statements');
    assert.match(out, /tenant-migrate plan --statements/);
    assert.match(out, /of 1,500\b/, 'thousands separators');
    assert.doesNotMatch(out, /\(s\)/);
    // The mapping gaps come last, where the eye lands: after the statements, the roles and the shapes.
    const gaps = out.indexOf('\nMapping gaps:');
    for (const before of ['\nStatements (', '\nRoles that reach', '\nSchema shapes:', '\nOrg assignment:'])
      assert.ok(out.indexOf(before) >= 0 && out.indexOf(before) < gaps, `${before.trim()} before the gaps`);
    assert.doesNotMatch(
      out.slice(gaps),
      /^(Roles that reach|Schema shapes|Statements|Org assignment)/m,
      'nothing but the gaps after them',
    );
    for (const line of out.split('\n').filter((l) => l.trimStart().startsWith('e.g. '))) {
      const keys = line
        .trim()
        .slice(5)
        .split(/, |; /)
        .map((k) => k.replace(/ \(.*\)$/, ''));
      assert.equal(new Set(keys).size, keys.length, `each sample once: ${line}`);
    }
    assert.match(
      out,
      /e\.g\. 1, 51, 101, 151, 201 \(org 00000000-0000-0000-0001-000000000002\)$/m,
      'samples sharing a detail are listed together, the detail once',
    );
    const full = await ws.run(['plan', '--statements'], { DATABASE_URL: db.url });
    const total = Number(/^Statements \((\d+)\):/m.exec(full.stdout)![1]);
    assert.equal(
      full.stdout.split('\n').filter((l) => /^ {4}line +\d+ {2}/.test(l)).length,
      total,
      'every statement, one line each',
    );
    assert.match(full.stdout, /^ {4}line +\d+ {2}backfill org_id in batches — public\.events_2025$/m);
    assert.match(
      full.stdout,
      /^ {4}line +\d+ {2}add foreign key org_id → public\.orgs \(NOT VALID\) — public\."Team Notes"\n {16}↳ /m,
    );
    const bad = await ws.run(['status', '--statements'], { DATABASE_URL: db.url });
    assert.equal(bad.code, 2);
  });

  it('names statements by their first words', () => {
    assert.equal(
      statementKind('-- the state\nCREATE TABLE IF NOT EXISTS "tenant_migration"."snapshot" ('),
      'CREATE TABLE',
    );
    assert.equal(statementKind('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS x ON t (a)'), 'CREATE INDEX');
    assert.equal(statementKind('DO $tm$\nBEGIN END $tm$'), 'DO block');
    assert.equal(statementKind("SET lock_timeout = '1s';"), 'SET');
  });
});
