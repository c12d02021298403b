// Shared by the preview tests: the legacy dataset and a partitioned table grown past the first answer's exact limit.
import type pg from 'pg';
import { addPartitionedTables } from './partitions';

export const ROWS = 60_000;
export const LARGE = { orgs: 20, users: 1000, credentials: ROWS, reports: ROWS, layouts: 80 };

/** Events (partitioned, parent rule) grown past the first answer's exact limit, and everything analysed. */
export async function growPartitioned(client: pg.Client): Promise<void> {
  await addPartitionedTables(client);
  await client.query(`INSERT INTO events (credential_id, happened_on, payload)
    SELECT CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + i % 5000 END, date '2024-07-01' + (i % 900), 'event ' || i FROM generate_series(1, ${ROWS}) i`);
  await client.query('ANALYZE');
}
