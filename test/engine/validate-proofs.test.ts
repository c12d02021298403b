// Validation reads a table for "no NULL org" and "every org exists" only when the catalog does not already prove it
// (issue 17: no rescans a validated constraint answers). Without the proof it still counts the rows, and finds them.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import type { CheckResult } from '../../src/engine/events';

const MISSING_ORG = '00000000-0000-0000-0009-000000000999';

describe('validation: what the catalog proves is not read again', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({});
    await migrateFully(db.url, ws);
  });
  afterEach(async () => {
    await db.drop();
  });

  const checks = async () => (await withMigration(db.url, ws, (m) => m.validate())).checks as CheckResult[];
  const check = (all: CheckResult[], name: string) => {
    const found = all.find((c) => c.name === name);
    assert.ok(found, `no check named ${name}: ${all.map((c) => c.name).join(', ')}`);
    return found;
  };

  it('after the migration: NOT NULL and the validated foreign key answer, and every check passes', async () => {
    const all = await checks();
    assert.deepEqual(
      all.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
      [],
    );
    assert.match(check(all, 'public.reports: no NULL org_id').detail, /NOT NULL holds for every row/);
    assert.match(check(all, 'public.reports: every org exists').detail, /validated foreign key reports_org_id_fkey/);
    assert.match(check(all, 'public.tenant_credentials: one row per credential').detail, /per org/);
  });

  it('without the proofs (NOT NULL dropped, the foreign key NOT VALID) it counts, and finds a NULL and a missing org', async () => {
    await db.client.query(`ALTER TABLE reports DROP CONSTRAINT reports_org_id_fkey`);
    await db.client.query(`ALTER TABLE reports ALTER COLUMN org_id DROP NOT NULL`);
    // Written around the org trigger, as a superuser in replica mode can: what the counts exist to catch.
    await db.client.query(`BEGIN; SET LOCAL session_replication_role = replica;
      INSERT INTO reports (credential_id, title, org_id) VALUES (1, 'no org', NULL), (1, 'missing org', '${MISSING_ORG}'); COMMIT`);
    await db.client.query(
      `ALTER TABLE reports ADD CONSTRAINT reports_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID`,
    );
    const all = await checks();
    const nulls = check(all, 'public.reports: no NULL org_id');
    assert.equal(nulls.ok, false);
    assert.match(nulls.detail, /^1 row has no org/);
    const orphans = check(all, 'public.reports: every org exists');
    assert.equal(orphans.ok, false, 'a NOT VALID foreign key was taken as proof');
    assert.match(orphans.detail, /^1 row references a missing org/);
    assert.equal(check(all, 'public.credentials: every org exists').ok, true);
  });

  it('the ledger: a missing row and a row with another org are both found by its one join', async () => {
    await db.client.query(`DELETE FROM tenant_credentials WHERE credential_id = 1`);
    await db.client.query(
      `UPDATE tenant_credentials SET org_id = (SELECT id FROM orgs WHERE id <> tenant_credentials.org_id LIMIT 1) WHERE credential_id IN (2, 3)`,
    );
    const all = await checks();
    assert.match(
      check(all, 'public.tenant_credentials: one row per credential').detail,
      /^1 credential has no ledger row/,
    );
    assert.match(check(all, 'public.tenant_credentials: org matches the credential').detail, /^2 ledger rows disagree/);
  });

  it('one join of each backup with its table finds the rows lost and the rows off their rule; the parent check its children', async () => {
    // Credential 4 moves to another org by hand (its reports stay), one layout too; credential 5 is deleted (its reports
    // go with it, ON DELETE CASCADE). Written as the owner would: the org triggers let an explicit org through.
    const other = `(SELECT id FROM orgs WHERE id NOT IN (SELECT org_id FROM credentials WHERE id = 4) ORDER BY id LIMIT 1)`;
    await db.client.query(`UPDATE credentials SET org_id = ${other} WHERE id = 4`);
    await db.client.query(
      `UPDATE dashboard_layouts SET org_id = (SELECT id FROM orgs WHERE id <> dashboard_layouts.org_id ORDER BY id LIMIT 1) WHERE id = (SELECT min(id::text)::uuid FROM dashboard_layouts)`,
    );
    const { rows } = await db.client.query<{ reports4: number; reports5: number }>(
      `SELECT count(*) FILTER (WHERE credential_id = 4)::int AS reports4, count(*) FILTER (WHERE credential_id = 5)::int AS reports5 FROM reports`,
    );
    assert.ok(rows[0]!.reports4 > 0 && rows[0]!.reports5 > 0, 'the fixture gives credentials 4 and 5 reports');
    await db.client.query(`DELETE FROM credentials WHERE id = 5`);
    const all = await checks();
    assert.match(
      check(all, 'public.credentials: expected org assignments').detail,
      /^1 pre-migration row carries another org/,
    );
    assert.match(
      check(all, 'public.dashboard_layouts: expected org assignments').detail,
      /^1 pre-migration row carries another org/,
    );
    assert.match(check(all, 'public.credentials: no row lost').detail, /^1 backed-up row is no longer in the table/);
    assert.match(
      check(all, 'public.reports: no row lost').detail,
      new RegExp(`^${rows[0]!.reports5} backed-up rows? (is|are) no longer`),
    );
    assert.match(
      check(all, 'public.reports: same org as parent').detail,
      new RegExp(`^${rows[0]!.reports4} rows? differs? from their parent's org`),
    );
    assert.equal(check(all, 'public.dashboard_layouts: no row lost').ok, true);
    assert.equal(check(all, 'public.reports: backup intact').ok, true);
  });
});
