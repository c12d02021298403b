// (a) The hand-written script the issue describes: what a team writes without the tool. Backups with CREATE TABLE AS,
// the column, one bulk UPDATE … FROM per table through the mapping / parent / query join (and the default org for
// the rows left over), then SET NOT NULL, the foreign keys, the indexes, the tenant_credentials ledger, row-level
// security and ANALYZE. Autocommit, statement by statement, stopping at the first error: what psql -f does with
// ON_ERROR_STOP. It ends in the same schema as the engine's migration, minus the engine's state, triggers and VACUUM.
import pg from 'pg';
import { DEFAULT_ORG_ID } from '../test/fixtures/legacy-data';
import { backendCpuMs } from './cpu';
import type { StatementTiming } from './timeline';

const DEFAULT_ORG = `'${DEFAULT_ORG_ID}'::uuid`;
const TABLES = ['credentials', 'reports', 'dashboard_layouts'];
const ORG_CONTEXT = `nullif(current_setting('request.jwt.claims', true)::jsonb ->> 'org_id', '')::uuid`;

export const NAIVE_SCRIPT: string[] = [
  ...TABLES.map((t) => `CREATE TABLE backup_${t} AS TABLE ${t}`),
  ...TABLES.map((t) => `ALTER TABLE ${t} ADD COLUMN org_id uuid`),
  `UPDATE credentials AS c SET org_id = m.org_id FROM legacy_credential_org_map AS m WHERE m.credential_id = c.id`,
  `UPDATE credentials SET org_id = ${DEFAULT_ORG} WHERE org_id IS NULL`,
  `UPDATE reports AS r SET org_id = c.org_id FROM credentials AS c WHERE c.id = r.credential_id`,
  `UPDATE reports SET org_id = ${DEFAULT_ORG} WHERE org_id IS NULL`,
  `UPDATE dashboard_layouts AS d SET org_id = q.org_id
     FROM (SELECT DISTINCT ON (user_id) user_id AS key, org_id FROM org_members ORDER BY user_id, org_id) AS q WHERE q.key = d.user_id`,
  `UPDATE dashboard_layouts SET org_id = ${DEFAULT_ORG} WHERE org_id IS NULL`,
  ...TABLES.map((t) => `ALTER TABLE ${t} ALTER COLUMN org_id SET NOT NULL`),
  ...TABLES.map((t) => `ALTER TABLE ${t} ADD CONSTRAINT ${t}_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)`),
  ...TABLES.map((t) => `CREATE INDEX ${t}_org_id_idx ON ${t} (org_id)`),
  // The ledger filled first and its foreign keys added after, in bulk: per-row foreign-key checks on a million
  // inserts would make this baseline needlessly slow (and lock every credential FOR KEY SHARE).
  `CREATE TABLE tenant_credentials (
     credential_id bigint PRIMARY KEY,
     org_id uuid NOT NULL,
     source text NOT NULL,
     assigned_at timestamptz NOT NULL DEFAULT now())`,
  `INSERT INTO tenant_credentials (credential_id, org_id, source)
   SELECT c.id, c.org_id, CASE WHEN m.credential_id IS NOT NULL THEN 'mapping' ELSE 'default' END
     FROM credentials AS c LEFT JOIN (SELECT DISTINCT credential_id FROM legacy_credential_org_map) AS m ON m.credential_id = c.id`,
  `ALTER TABLE tenant_credentials ADD CONSTRAINT tenant_credentials_credential_id_fkey FOREIGN KEY (credential_id) REFERENCES credentials (id) ON DELETE CASCADE`,
  `ALTER TABLE tenant_credentials ADD CONSTRAINT tenant_credentials_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)`,
  ...[...TABLES, 'tenant_credentials'].flatMap((t) => [
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY ${t}_tenant_isolation ON ${t} AS RESTRICTIVE FOR ALL TO PUBLIC USING (org_id = ${ORG_CONTEXT}) WITH CHECK (org_id = ${ORG_CONTEXT})`,
  ]),
  `ANALYZE credentials, reports, dashboard_layouts, tenant_credentials`,
];

export interface NaiveRun {
  readonly ok: boolean;
  readonly error?: string;
  readonly statements: StatementTiming[];
  /** CPU time of the script's server backend. */
  readonly backendCpuMs?: number;
}

export async function runNaive(url: string): Promise<NaiveRun> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-naive' });
  client.on('error', () => {
    /* surfaces as the next query's error */
  });
  await client.connect();
  const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  const cpuAtStart = backendCpuMs(pid);
  const cpu = () => {
    const now = backendCpuMs(pid);
    return now === undefined || cpuAtStart === undefined ? undefined : now - cpuAtStart;
  };
  const statements: StatementTiming[] = [];
  try {
    for (const sql of NAIVE_SCRIPT) {
      const startEpochMs = Date.now();
      const started = performance.now();
      try {
        await client.query(sql);
      } catch (error) {
        statements.push({ phase: 'naive', sql, startEpochMs, durationMs: performance.now() - started, ok: false });
        return {
          ok: false,
          error: `${(error as Error).message} — at: ${sql.split('\n')[0]}`,
          statements,
          backendCpuMs: cpu(),
        };
      }
      statements.push({ phase: 'naive', sql, startEpochMs, durationMs: performance.now() - started, ok: true });
    }
    return { ok: true, statements, backendCpuMs: cpu() };
  } finally {
    await client.end().catch(() => undefined);
  }
}
