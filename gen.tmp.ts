import { createTestDatabase } from './test/support/database';
import { makeWorkspace, withMigration } from './test/support/migration-helpers';
import fs from 'node:fs';
(async () => {
  const src = fs.readFileSync('test/engine/composite-mapping.test.ts', 'utf8');
  const schema = eval(src.slice(src.indexOf('const SCHEMA = ') + 15, src.indexOf(';`;', src.indexOf('const SCHEMA')) + 2).replace(/\$\{orgOf\('([^']+)'\)\}/g, (_m, e) => `('00000000-0000-0000-0001-' || lpad(to_hex(${e}), 12, '0'))::uuid`));
  const db = await createTestDatabase();
  try {
    await db.client.query(schema);
    const ws = makeWorkspace({ batchSize: 100, mapping: { table: 'customer_org_map', keyColumn: ['shop_id', 'customer_no'], orgColumn: 'org_id' },
      tables: [{ name: 'customers', orgFrom: { mapping: { column: ['shop_id', 'customer_no'] } } }, { name: 'invoices', orgFrom: { parent: { table: 'customers', column: ['shop_id', 'customer_no'] } } }], tenantCredentials: undefined });
    await withMigration(db.url, ws, (m) => m.generate());
    fs.copyFileSync(`${ws.folder}/scripts/migrate_to_multitenant.sql`, '/tmp/composite.sql');
  } finally { await db.drop(); const { stopTestServer } = await import('./test/support/database'); await stopTestServer(); }
})();
