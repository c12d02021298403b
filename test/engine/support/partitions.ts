// Shared by the partitioned-table tests (partitions, partition-tenant-writes, partition-ledger, partition-late-and-enforce):
// the tables of test/fixtures/partitioned-schema.sql, the spec that migrates them, digests of their data, and an
// application writing through the parents as a tenant.
import { makeWorkspace, writeInLoop, type Workspace } from '../../support/migration-helpers';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { tableDigest } from '../../support/fingerprint';
import { GUIDE_SPEC } from '../../../src/engine/migration-spec/template';
import { ORG_PREFIX } from '../../fixtures/legacy-data';

export const PARTITIONED = ['events', 'usage_records'];
export const LEAVES = [
  'events_2025',
  'events_2026',
  'events_default',
  'usage_eu_0',
  'usage_eu_1',
  'usage_us_low',
  'usage_us_rest',
  'usage_other',
];
export const ALL_PARTITIONS = [...LEAVES, 'usage_eu', 'usage_us'];
export const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
export const spec = (overrides: Record<string, unknown> = {}) => ({
  batchSize: 100,
  tables: [
    ...GUIDE_SPEC.tables,
    { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
    { name: 'usage_records', orgFrom: { mapping: { column: 'credential_id' } } },
  ],
  ...overrides,
});

export async function addPartitionedTables(client: pg.Client): Promise<void> {
  await client.query(fs.readFileSync(path.join(__dirname, '../../fixtures/partitioned-schema.sql'), 'utf8'));
}

/** Digests of the partitioned tables over their own columns, and every row version (a rewrite changes xmin). */
export async function partitionedData(client: pg.Client) {
  const out: Record<string, unknown> = {};
  for (const t of PARTITIONED) {
    out[t] = await tableDigest(
      client,
      t,
      t === 'events' ? ['id', 'credential_id', 'happened_on', 'payload'] : ['id', 'region', 'credential_id', 'units'],
    );
  }
  return out;
}
export const rowVersions = async (client: pg.Client) =>
  (
    await client.query(
      `SELECT (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM events) AS e, (SELECT string_agg(xmin::text, ',' ORDER BY id, region) FROM usage_records) AS u`,
    )
  ).rows[0];

/** An application role (not owner, no BYPASSRLS) with a tenant context, as PostgREST runs a request: inserts and updates through the parents. */
export function tenantWriter(url: string, orgId: string) {
  return writeInLoop(url, async (client, round) => {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE authenticated`);
    await client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: 'w', org_id: orgId }),
    ]);
    await client.query(
      `INSERT INTO events (credential_id, happened_on, payload) VALUES (NULL, date '2025-03-01' + (random() * 600)::int, 'live')`,
    );
    await client.query(
      `INSERT INTO usage_records (id, region, credential_id, units) VALUES (100000 + $1, (ARRAY['eu','us','apac'])[1 + $1 % 3], NULL, 1)`,
      [round],
    );
    await client.query(`UPDATE usage_records SET units = units WHERE id = 1 + (random() * 2400)::int`);
    await client.query('COMMIT');
  });
}

/** Each test gets a fresh database with the partitioned tables and a workspace with their spec; dropped after it. */
export function usePartitionedDatabase(set: (db: TestDatabase, ws: Workspace) => void): void {
  let db: TestDatabase | undefined;
  beforeEach(async () => {
    db = await createTestDatabase();
    await addPartitionedTables(db.client);
    set(db, makeWorkspace(spec()));
  });
  afterEach(async () => {
    await db?.drop();
  });
}
