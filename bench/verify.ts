// After a scenario: which rows are left without an org (the writer's own rows counted apart), and the ledger.
import type pg from 'pg';
import { WRITER_TITLE } from './writer-title';

export interface OrgCounts {
  readonly withoutOrg: number;
  readonly byTable: Record<string, number>;
  readonly writerRows: number;
  readonly writerRowsWithoutOrg: number;
  readonly ledgerMissing?: number;
}

const TABLES = ['credentials', 'reports', 'dashboard_layouts'];

export async function countWithoutOrg(client: pg.Client): Promise<OrgCounts> {
  const byTable: Record<string, number> = {};
  const hasOrg = async (table: string) =>
    (
      await client.query(
        `SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'org_id' AND NOT attisdropped`,
        [table],
      )
    ).rowCount === 1;
  for (const t of TABLES) {
    const where = (await hasOrg(t)) ? 'WHERE org_id IS NULL' : '';
    byTable[t] = Number((await client.query(`SELECT count(*) AS n FROM ${t} ${where}`)).rows[0].n);
  }
  const writer = await client.query(
    `SELECT count(*) AS n, count(*) FILTER (WHERE ${(await hasOrg('reports')) ? 'org_id IS NULL' : 'true'}) AS missing FROM reports WHERE title = $1`,
    [WRITER_TITLE],
  );
  let ledgerMissing: number | undefined;
  if ((await client.query(`SELECT to_regclass('tenant_credentials') IS NOT NULL AS ok`)).rows[0].ok) {
    ledgerMissing = Number(
      (
        await client.query(
          `SELECT count(*) AS n FROM credentials c WHERE NOT EXISTS (SELECT 1 FROM tenant_credentials l WHERE l.credential_id = c.id)`,
        )
      ).rows[0].n,
    );
  }
  return {
    withoutOrg: Object.values(byTable).reduce((a, b) => a + b, 0),
    byTable,
    writerRows: Number(writer.rows[0].n),
    writerRowsWithoutOrg: Number(writer.rows[0].missing),
    ledgerMissing,
  };
}
