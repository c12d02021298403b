// Probe rows for NOT NULL columns of a domain: the base type's value, and for a domain with a CHECK the first of a few
// candidates it accepts (an email-like text, say). A domain no candidate satisfies is predicted by the plan and the
// prerequisites, naming the column and what to do; verify-isolation then says "unproven" for the same reason.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { legacySpec } from '../fixtures/legacy-data';

const DOMAINS = `
  CREATE DOMAIN email_addr AS text CHECK (VALUE ~ '^[^@\\s]+@[^@\\s]+\\.[a-z]+$');
  CREATE DOMAIN positive_cents AS bigint CHECK (VALUE > 0);
  CREATE DOMAIN plain_label AS varchar(80);
  CREATE DOMAIN voucher_code AS text CHECK (VALUE ~ '^VC-[0-9]{6}$');
  CREATE TABLE "Contacts" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, credential_id bigint REFERENCES credentials (id),
    email email_addr NOT NULL UNIQUE, balance positive_cents NOT NULL, label plain_label NOT NULL);
  CREATE TABLE vouchers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, credential_id bigint REFERENCES credentials (id),
    code voucher_code NOT NULL);
  GRANT SELECT, INSERT, UPDATE, DELETE ON "Contacts", vouchers TO authenticated;`;

const spec = () =>
  makeWorkspace({
    tables: [
      ...(legacySpec().tables as unknown[]),
      { name: 'Contacts', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
      { name: 'vouchers', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
    ],
  });

describe('probe rows for domain columns', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(DOMAINS);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('writes a value a CHECK domain accepts; predicts in the plan the table no value can be made for, and it stays unproven', async () => {
    const ws = spec();
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    const predicted = plan.shapes.filter((s) => s.kind === 'probe-row');
    assert.deepEqual(
      predicted.map((s) => s.object),
      ['public.vouchers.code'],
      'only the domain no candidate satisfies',
    );
    assert.match(
      predicted[0]!.message,
      /Isolation cannot be proven on public\.vouchers .*no value can be made for public\.vouchers\.code \(voucher_code, a domain whose CHECK refused every value tried, NOT NULL, no default\)/,
    );
    assert.match(
      predicted[0]!.fix!,
      /ALTER TABLE "public"\."vouchers" ALTER COLUMN "code" SET DEFAULT …\), or prove that table's isolation by hand/,
    );
    const prerequisites = await withMigration(db.url, ws, (m) => m.prerequisites());
    assert.ok(prerequisites.checks.some((c) => c.name === 'Shape: public.vouchers.code' && c.severity === 'warning'));

    await assert.rejects(migrateFully(db.url, ws), /Verify isolation failed/);
    const result = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    const contacts = result.probes!.filter((p) => p.table === 'public."Contacts"');
    assert.ok(
      contacts.length > 0 && contacts.every((p) => p.ok && p.outcome !== 'unproven'),
      JSON.stringify(contacts.filter((p) => !p.ok).slice(0, 2)),
    );
    const vouchers = result.probes!.filter((p) => p.table === 'public.vouchers');
    assert.ok(
      vouchers.length > 0 &&
        vouchers.every(
          (p) =>
            p.outcome === 'unproven' && /voucher_code, a domain whose CHECK refused every value tried/.test(p.detail),
        ),
    );
    assert.ok(
      result.probes!.filter((p) => p.outcome === 'unproven').every((p) => p.table === 'public.vouchers'),
      'nothing else is unproven',
    );
    assert.equal(
      Number((await db.client.query(`SELECT count(*) AS n FROM "Contacts"`)).rows[0].n),
      0,
      'the probe rows were rolled back',
    );

    // The plan's advice works: a default the domain accepts, and the table is proven.
    await db.client.query(
      `ALTER TABLE vouchers ALTER COLUMN code SET DEFAULT 'VC-' || lpad((random() * 999999)::int::text, 6, '0')`,
    );
    assert.equal(
      (await withMigration(db.url, ws, (m) => m.plan())).shapes.filter((s) => s.kind === 'probe-row').length,
      0,
    );
    const proven = await withMigration(db.url, ws, (m) => m.verifyIsolation());
    assert.equal(
      proven.status,
      'done',
      `${proven.summary}: ${JSON.stringify(proven.checks.filter((c) => !c.ok).slice(0, 2))}`,
    );
  });
});
