import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { schemaFingerprint, dataFingerprint } from '../support/fingerprint';
import { DEFAULT_ORG_ID, ORG_PREFIX, USER_PREFIX } from '../fixtures/legacy-data';
import { MigrationError } from '../../src/engine/errors';
import { findGaps } from '../../src/engine/gaps';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
const user = (n: number) => `${USER_PREFIX}${n.toString(16).padStart(12, '0')}`;

describe('org assignment', () => {
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('plan writes nothing, and reports the gaps with counts and samples', async () => {
    const schemaBefore = await schemaFingerprint(db.client, ['public', 'tenant_migration']);
    const dataBefore = await dataFingerprint(db.client);
    const plan = await withMigration(db.url, ws, (m) => m.plan());
    assert.deepEqual(await schemaFingerprint(db.client, ['public', 'tenant_migration']), schemaBefore);
    assert.deepEqual(await dataFingerprint(db.client), dataBefore);
    assert.equal((await db.client.query(`SELECT to_regnamespace('tenant_migration') AS s`)).rows[0].s, null);
    const credentials = plan.gaps.tables.find((t) => t.table === 'public.credentials')!;
    // every 7th of 200 credentials has no mapping
    assert.equal(credentials.toDefault, 28);
    assert.equal(credentials.assigned, 172);
    const unmapped = plan.gaps.findings.find((f) => f.kind === 'unmapped' && f.table === 'public.credentials')!;
    assert.deepEqual(
      unmapped.samples.map((s) => s.key),
      ['7', '14', '21', '28', '35'],
    );
    assert.ok(plan.gaps.findings.some((f) => f.kind === 'stale-mapping' && f.count === 2));
    assert.ok(plan.gaps.findings.some((f) => f.kind === 'duplicate-mapping' && f.count === 4));
    // The reports without a credential: named as rows without a key, not as rows whose parent is missing.
    const nullKeys = plan.gaps.findings.find((f) => f.kind === 'null-key' && f.table === 'public.reports')!;
    assert.equal(nullKeys.count, 54);
    assert.match(nullKeys.message, /54 rows have no credential_id \(NULL\), so no parent row, and get the default org/);
    assert.deepEqual(nullKeys.samples[0], { key: null, detail: 'no credential_id' });
    assert.ok(!plan.gaps.findings.some((f) => f.kind === 'orphan-child' && f.table === 'public.reports'));
    assert.equal(plan.gaps.blocking, false);
    assert.ok(
      plan.statements.some(
        (s) => /CREATE INDEX CONCURRENTLY/.test(s.sql) && s.locks.some((l) => l.mode === 'SHARE UPDATE EXCLUSIVE'),
      ),
    );
  });

  it('a quick preview of large tables estimates the default-org counts from a sample, and still finds every conflict exactly', async () => {
    await db.client.query('ANALYZE');
    // A conflict the sample cannot be relied on to see: one key, two orgs.
    await db.client.query(
      `INSERT INTO legacy_credential_org_map (credential_id, org_id) VALUES (8, '${org(1)}'), (8, '${org(4)}')`,
    );
    const { exact, quick } = await withMigration(db.url, ws, async (m) => {
      const model = await m.model();
      return {
        exact: await findGaps(m.session, model),
        // every table counts as large here; a table this small is sampled whole, so the estimate must equal the count
        quick: await findGaps(m.session, model, { quick: true, estimateAboveRows: 0 }),
      };
    });
    assert.ok(
      quick.tables.every((t) => t.estimated),
      'the quick preview did not estimate',
    );
    assert.ok(exact.tables.every((t) => !t.estimated));
    const counts = (r: typeof exact) => r.tables.map((t) => [t.table, t.rows, t.assigned, t.toDefault]);
    assert.deepEqual(counts(quick), counts(exact));
    const blocking = (r: typeof exact) =>
      r.findings.filter((f) => f.blocking).map((f) => [f.kind, f.table, f.count, f.samples]);
    assert.deepEqual(blocking(quick), blocking(exact));
    assert.deepEqual(blocking(quick), [
      ['conflict', 'public.credentials', 1, [{ key: '8', detail: `maps to ${[org(1), org(4)].sort().join(', ')}` }]],
    ]);
    assert.equal(quick.blocking, true);
  });

  it('assigns mapping → mapped org, none → default, parent → parent org, query → its org', async () => {
    await migrateFully(db.url, ws);
    const q = async (sql: string) => (await db.client.query(sql)).rows;
    // credential 1 is mapped to org 1 + 1 % 5 = 2; credential 7 has no mapping
    assert.deepEqual(await q(`SELECT id::int, org_id::text FROM credentials WHERE id IN (1, 7) ORDER BY id`), [
      { id: 1, org_id: org(2) },
      { id: 7, org_id: DEFAULT_ORG_ID },
    ]);
    const mismatched = await q(`SELECT count(*)::int AS n FROM credentials c
      LEFT JOIN (SELECT DISTINCT credential_id, org_id FROM legacy_credential_org_map) m ON m.credential_id = c.id
      WHERE c.org_id <> coalesce(m.org_id, '${DEFAULT_ORG_ID}')`);
    assert.equal(mismatched[0].n, 0);
    assert.equal(
      (
        await q(
          `SELECT count(*)::int AS n FROM reports r JOIN credentials c ON c.id = r.credential_id WHERE r.org_id <> c.org_id`,
        )
      )[0].n,
      0,
    );
    assert.equal(
      (
        await q(`SELECT count(*)::int AS n FROM reports WHERE credential_id IS NULL AND org_id <> '${DEFAULT_ORG_ID}'`)
      )[0].n,
      0,
    );
    // user 1 is a member of org 1 + 1 % 5 = 2 only; user 9 is in no org; user 13 is in two orgs: DISTINCT ON picks the smaller
    const layouts = await q(
      `SELECT DISTINCT user_id::text, org_id::text FROM dashboard_layouts WHERE user_id IN ('${user(1)}', '${user(9)}', '${user(13)}') ORDER BY 1`,
    );
    assert.deepEqual(layouts, [
      { user_id: user(1), org_id: org(2) },
      { user_id: user(9), org_id: DEFAULT_ORG_ID },
      { user_id: user(13), org_id: [org(1 + (13 % 5)), org(1 + (14 % 5))].sort()[0] },
    ]);
  });

  it('assignments follow the mapping until the backfill starts: fixes after the backups, and rows written before the triggers existed', async () => {
    await withMigration(db.url, ws, (m) => m.backup()); // takes the backups; no assignment read, no trigger yet
    // The operator fixes the mapping after the backups: credential 1 moves to org 4, credential 7 gets org 3.
    await db.client.query(`UPDATE legacy_credential_org_map SET org_id = '${org(4)}' WHERE credential_id = 1`);
    await db.client.query(`INSERT INTO legacy_credential_org_map (credential_id, org_id) VALUES (7, '${org(3)}')`);
    // The application meanwhile adds a credential and its mapping row (no trigger gives it an org yet).
    const {
      rows: [added],
    } = await db.client.query(
      `INSERT INTO credentials (user_id, provider, secret) SELECT user_id, 'new', 'sk' FROM credentials WHERE id = 2 RETURNING id::int`,
    );
    await db.client.query(`INSERT INTO legacy_credential_org_map (credential_id, org_id) VALUES ($1, '${org(5)}')`, [
      added.id,
    ]);
    await migrateFully(db.url, ws);
    const { rows } = await db.client.query(
      `SELECT id::int, org_id::text FROM credentials WHERE id IN (1, 7, $1) ORDER BY id`,
      [added.id],
    );
    assert.deepEqual(rows, [
      { id: 1, org_id: org(4) },
      { id: 7, org_id: org(3) },
      { id: added.id, org_id: org(5) },
    ]);
    const ledger = await db.client.query(
      `SELECT credential_id::int AS id, org_id::text FROM tenant_credentials WHERE credential_id IN (1, 7) ORDER BY 1`,
    );
    assert.deepEqual(ledger.rows, [
      { id: 1, org_id: org(4) },
      { id: 7, org_id: org(3) },
    ]);
  });

  for (const [name, arrange, pattern] of [
    [
      'a credential mapped to two orgs',
      `INSERT INTO legacy_credential_org_map VALUES (1, '${org(3)}')`,
      /credentials: 1 key maps to more than one org/,
    ],
    [
      'a mapping to an org that does not exist',
      `INSERT INTO legacy_credential_org_map VALUES (7, '00000000-0000-0000-0009-000000000000')`,
      /points? to an org that does not exist/,
    ],
    [
      'a missing default org',
      `UPDATE legacy_credential_org_map SET org_id = org_id; DELETE FROM orgs WHERE id = '${DEFAULT_ORG_ID}'`,
      /default org .* does not exist/,
    ],
  ] as const) {
    it(`refuses ${name} before writing anything, naming the rows`, async () => {
      await db.client.query(arrange);
      const before = await schemaFingerprint(db.client, ['public']);
      const data = await dataFingerprint(db.client);
      const error = await withMigration(db.url, ws, async (m) => {
        try {
          await m.migrate();
        } catch (e) {
          return e as MigrationError;
        }
        return undefined;
      });
      assert.ok(error instanceof MigrationError, 'the migration was not refused');
      assert.equal(error.exitCode, 3);
      assert.match(error.message, pattern);
      if (name.includes('two orgs')) assert.match(error.next, /\b1 maps to/);
      assert.deepEqual(await schemaFingerprint(db.client, ['public']), before);
      assert.deepEqual(await dataFingerprint(db.client), data);
    });
  }

  it('the script refuses a conflict on its own too (psql -f), before any change', async () => {
    await withMigration(db.url, ws, (m) => m.generate());
    await db.client.query(`INSERT INTO legacy_credential_org_map VALUES (2, '${org(5)}')`);
    const { spawnSync } = await import('node:child_process');
    const before = await schemaFingerprint(db.client, ['public']);
    const r = spawnSync(
      'psql',
      [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', `${ws.folder}/scripts/migrate_to_multitenant.sql`],
      { encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /conflicting org assignments .*2 -> \{/);
    assert.deepEqual(await schemaFingerprint(db.client, ['public']), before);
  });
});
