// A partitioned credentials table and the tenant_credentials ledger: refused when partitioned by something other than
// its key; referenced when partitioned by it (the tables and spec: ./support/partitions).
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { schemaFingerprint, tableDigest } from '../support/fingerprint';
import { addPartitionedTables, spec } from './support/partitions';

describe(`partitioned tables (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
    await addPartitionedTables(db.client);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('refuses in the plan, before any write, a ledger whose credentials table is partitioned by something other than its key', async () => {
    await db.client
      .query(`CREATE TABLE pcredentials (id bigint NOT NULL, provider text NOT NULL, secret text, PRIMARY KEY (id, provider)) PARTITION BY LIST (provider);
      CREATE TABLE pcredentials_github PARTITION OF pcredentials FOR VALUES IN ('github'); CREATE TABLE pcredentials_rest PARTITION OF pcredentials DEFAULT;
      INSERT INTO pcredentials SELECT i, (ARRAY['github', 'aws'])[1 + i % 2], 's' FROM generate_series(1, 50) i`);
    const refusing = makeWorkspace(
      spec({
        tables: [{ name: 'pcredentials', orgFrom: { mapping: { column: 'id' } } }],
        tenantCredentials: { table: 'tenant_credentials', from: 'pcredentials' },
      }),
    );
    const schema = await schemaFingerprint(db.client, ['public', 'tenant_migration']);
    const digest = await tableDigest(db.client, 'pcredentials');
    const error = await withMigration(db.url, refusing, (m) => m.plan()).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      /pcredentials \(tenantCredentials\.from\) is partitioned by provider, not by its key id alone/,
    );
    await assert.rejects(
      withMigration(db.url, refusing, (m) => m.runAll()),
      /partitioned by provider/,
    );
    assert.deepEqual(await schemaFingerprint(db.client, ['public', 'tenant_migration']), schema);
    assert.deepEqual(await tableDigest(db.client, 'pcredentials'), digest);
  });

  it('a credentials table partitioned by its key: the ledger references it, a plain child takes its org from it, rollback exact', async () => {
    await db.client.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL) PARTITION BY HASH (id);
      CREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      CREATE TABLE account_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint REFERENCES accounts (id), note text);
      INSERT INTO accounts SELECT i, 'a' || i FROM generate_series(1, 300) i;
      INSERT INTO account_notes (account_id, note) SELECT 1 + i % 300, 'n' || i FROM generate_series(1, 900) i;
      ANALYZE accounts, account_notes`);
    const schema = await schemaFingerprint(db.client);
    const keyed = makeWorkspace(
      spec({
        tables: [
          { name: 'accounts', orgFrom: { mapping: { column: 'id' } } },
          { name: 'account_notes', orgFrom: { parent: { table: 'accounts', column: 'account_id' } } },
        ],
        tenantCredentials: { table: 'tenant_credentials', from: 'accounts' },
      }),
    );
    // Each partition's backfill and rebuild in a lane of its own; the child's after both of them.
    const text = await withMigration(db.url, keyed, async (m) => (await m.scriptText()).text);
    const from = text.indexOf('step=backfill');
    const markers = text.slice(from, text.indexOf('step=constraints')).match(/^-- @tenant-migration lane=.*$/gm) ?? [];
    const lanes = (what: string) => markers.filter((l) => l.includes(`(${what}`)).map((l) => /lane=(\S+)/.exec(l)![1]);
    const [first, second] = [lanes('public.accounts_0'), lanes('public.accounts_1')];
    assert.equal(first.length, 2, 'accounts_0 in the groups and in the rebuild');
    assert.notEqual(first[0], second[0], 'the partitions in two lanes');
    const child = markers.find((l) => l.includes('(public.account_notes'))!;
    assert.match(child, new RegExp(`after=${first[0]},${second[0]} `), 'the child after every partition of its parent');
    await migrateFully(db.url, keyed);
    const { rows } = await db.client.query(`SELECT
      (SELECT count(*)::int FROM tenant_credentials) AS ledger,
      (SELECT count(*)::int FROM tenant_credentials t JOIN accounts a ON a.id = t.credential_id AND a.org_id = t.org_id) AS agreeing,
      (SELECT count(*)::int FROM account_notes n JOIN accounts a ON a.id = n.account_id WHERE n.org_id <> a.org_id) AS wrong_parent,
      (SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = 'tenant_credentials'::regclass AND contype = 'f' AND conparentid = 0 AND conname LIKE '%credential_id%') AS ledger_references`);
    assert.deepEqual(rows[0], { ledger: 300, agreeing: 300, wrong_parent: 0, ledger_references: 'accounts' });
    await withMigration(db.url, keyed, (m) => m.rollback({ restoreData: false }));
    assert.deepEqual(await schemaFingerprint(db.client), schema);
  });
});
