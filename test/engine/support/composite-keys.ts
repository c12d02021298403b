// Shared by the composite-key tests (composite-keys, composite-keys-tenant-writes, unmigrated-parents): the tables of
// test/fixtures/composite-keys.sql (orders keyed by (shop_id, id), lines referencing (order_id, shop_id)), the spec
// that migrates them, and digests of their legacy data.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { tableDigest } from '../../support/fingerprint';
import { GUIDE_SPEC } from '../../../src/engine/migration-spec/template';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../../fixtures/legacy-data';

export const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;
export const COMPOSITE_TABLES = [
  { name: 'shops', orgFrom: { mapping: { column: 'id' } } },
  { name: 'orders', orgFrom: { parent: { table: 'shops', column: 'shop_id' } } },
  // References left out: paired as the foreign key (order_id, shop_id) → orders (id, shop_id) pairs them, not by the primary key's order (shop_id, id).
  { name: 'order_lines', orgFrom: { parent: { table: 'orders', column: ['order_id', 'shop_id'] } } },
  // No foreign key: the spec pairs them.
  {
    name: 'line_allocations',
    orgFrom: { parent: { table: 'orders', column: ['shop_id', 'order_id'], references: ['shop_id', 'id'] } },
  },
];
export const spec = (overrides: Record<string, unknown> = {}) => ({
  batchSize: 100,
  tables: [...GUIDE_SPEC.tables, ...COMPOSITE_TABLES],
  ...overrides,
});
export const TABLES = ['shops', 'orders', 'order_lines', 'line_allocations'];
export const COLUMNS: Record<string, string[]> = {
  shops: ['id', 'name'],
  orders: ['shop_id', 'id', 'placed_on'],
  order_lines: ['id', 'order_id', 'shop_id', 'sku', 'qty'],
  line_allocations: ['shop_id', 'order_id', 'n', 'warehouse'],
};

export async function addCompositeTables(client: pg.Client): Promise<void> {
  await client.query(fs.readFileSync(path.join(__dirname, '../../fixtures/composite-keys.sql'), 'utf8'));
}
export const legacyData = async (client: pg.Client, withOrg = false) =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (t) => [t, await tableDigest(client, t, withOrg ? [...COLUMNS[t]!, 'org_id'] : COLUMNS[t])]),
    ),
  );

/** Rows whose org is not the one their composite key gives: the shop's mapped org through the order, the default without one. */
export async function wronglyAssigned(client: pg.Client) {
  const { rows } = await client.query(
    `WITH shop_org AS (SELECT s.id, coalesce((SELECT m.org_id FROM legacy_credential_org_map m WHERE m.credential_id = s.id LIMIT 1), $1::uuid) AS org FROM shops s)
    SELECT
      (SELECT count(*)::int FROM orders o JOIN shop_org s ON s.id = o.shop_id WHERE o.org_id <> s.org) AS orders,
      (SELECT count(*)::int FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id AND o.shop_id = l.shop_id LEFT JOIN shop_org s ON s.id = o.shop_id
        WHERE l.org_id IS DISTINCT FROM coalesce(s.org, $1::uuid)) AS lines,
      (SELECT count(*)::int FROM line_allocations a LEFT JOIN orders o ON o.shop_id = a.shop_id AND o.id = a.order_id LEFT JOIN shop_org s ON s.id = o.shop_id
        WHERE a.org_id IS DISTINCT FROM coalesce(s.org, $1::uuid)) AS allocations,
      (SELECT count(DISTINCT org_id)::int FROM order_lines) AS line_orgs`,
    [DEFAULT_ORG_ID],
  );
  return rows[0];
}
