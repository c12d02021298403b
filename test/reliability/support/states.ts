// The digests that say whether two databases hold the same migrated state, whether a row was lost, whether a backup
// holds, and whether a rollback gave back the legacy state.
import type pg from 'pg';
import { acl, schemaFingerprint, tableDigest } from '../../support/fingerprint';

export const LEGACY = ['credentials', 'reports', 'dashboard_layouts'] as const;
/** Every table of the legacy database, the migrated ones and the ones the migration only reads. */
export const ALL_PUBLIC = ['orgs', 'users', 'org_members', 'legacy_credential_org_map', ...LEGACY] as const;

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function columnsOf(client: pg.ClientBase, relation: string): Promise<string[]> {
  return (
    await client.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [relation],
    )
  ).rows.map((r) => r.name);
}

/** One md5 per row over the given columns (a multiset of rows), to count rows lost or changed. */
export async function rowHashes(client: pg.ClientBase, relation: string, columns: string[]): Promise<string[]> {
  const row = columns.map((c) => `t.${ident(c)}`).join(', ');
  return (
    await client.query<{ h: string }>(`SELECT md5(ROW(${row})::text) AS h FROM ${relation} t ORDER BY 1`)
  ).rows.map((r) => r.h);
}

/** Rows of `before` (a multiset) that `after` does not hold. */
export function missingRows(before: string[], after: string[]): number {
  const counts = new Map<string, number>();
  for (const h of after) counts.set(h, (counts.get(h) ?? 0) + 1);
  let missing = 0;
  for (const h of before) {
    const n = counts.get(h) ?? 0;
    if (n === 0) missing++;
    else counts.set(h, n - 1);
  }
  return missing;
}

/** The legacy rows of every public table, by table: what "no row lost" is measured against. */
export async function legacyRows(
  client: pg.ClientBase,
): Promise<Record<string, { columns: string[]; hashes: string[] }>> {
  const out: Record<string, { columns: string[]; hashes: string[] }> = {};
  for (const t of ALL_PUBLIC) {
    const columns = (await columnsOf(client, t)).filter(
      (c) => c !== 'org_id' || !(LEGACY as readonly string[]).includes(t),
    );
    out[t] = { columns, hashes: await rowHashes(client, t, columns) };
  }
  return out;
}

/** How many legacy rows (all their legacy columns, timestamps included) are no longer in the tables. */
export async function rowsLost(
  client: pg.ClientBase,
  before: Record<string, { columns: string[]; hashes: string[] }>,
): Promise<Record<string, number>> {
  const lost: Record<string, number> = {};
  for (const [t, b] of Object.entries(before)) lost[t] = missingRows(b.hashes, await rowHashes(client, t, b.columns));
  return lost;
}

export interface BackupState {
  readonly table: string;
  readonly backupTable: string;
  readonly rowCount: number;
  readonly recordedDigest: string;
  readonly actualDigest: string;
  readonly actualRows: number;
  /** Rows of the pre-migration table that the backup does not hold, and rows it holds that the table never had. */
  readonly missing: number;
  readonly extra: number;
}

/** Each current backup: its recorded digest, the digest of what it holds now, and its rows against the original table. */
export async function backupStates(
  client: pg.ClientBase,
  before: Record<string, { columns: string[]; hashes: string[] }>,
): Promise<BackupState[]> {
  const present = (await client.query(`SELECT to_regclass('tenant_migration.backups') IS NOT NULL AS ok`)).rows[0]
    .ok as boolean;
  if (!present) return [];
  const { rows } = await client.query<{
    backup_table: string;
    table_name: string;
    columns: string[];
    row_count: string;
    digest: string;
  }>(
    `SELECT backup_table, table_name, columns, row_count::text, digest FROM tenant_migration.backups WHERE status = 'current' ORDER BY table_name`,
  );
  const out: BackupState[] = [];
  for (const r of rows) {
    const relation = `tenant_migration.${ident(r.backup_table)}`;
    const actual = (
      await client.query<{ row_count: string; digest: string }>(
        `SELECT * FROM tenant_migration.table_digest($1::regclass, $2::text[])`,
        [relation, r.columns],
      )
    ).rows[0]!;
    const original = before[r.table_name];
    const hashes = await rowHashes(client, relation, original?.columns ?? r.columns);
    out.push({
      table: r.table_name,
      backupTable: r.backup_table,
      rowCount: Number(r.row_count),
      recordedDigest: r.digest,
      actualDigest: actual.digest,
      actualRows: Number(actual.row_count),
      missing: original ? missingRows(original.hashes, hashes) : -1,
      extra: original ? missingRows(hashes, original.hashes) : -1,
    });
  }
  return out;
}

export const backupIntact = (b: BackupState) =>
  b.recordedDigest === b.actualDigest && b.rowCount === b.actualRows && b.missing === 0 && b.extra === 0;

/**
 * The migrated state, free of what legitimately differs between two runs (run ids, timestamps the migration itself
 * writes, backfill page bookkeeping): the schema of public and tenant_migration, every row of every public table, the
 * ledger, the assignments, the pre-migration snapshot and the backups' recorded digests.
 */
export async function migratedState(client: pg.ClientBase): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const t of [...ALL_PUBLIC, 'tenant_credentials']) {
    data[t] = await tableDigest(
      client,
      t,
      (await columnsOf(client, t)).filter((c) => c !== 'assigned_at'),
    );
  }
  const stateTables = (
    await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'tenant_migration' AND c.relkind = 'r' AND c.relname LIKE 'assign\\_%' ORDER BY 1`,
    )
  ).rows;
  for (const { name } of stateTables)
    data[`tenant_migration.${name}`] = await tableDigest(client, `tenant_migration.${ident(name)}`);
  const snapshot = (
    await client.query(
      `SELECT table_schema, table_name, had_org_column, rls_enabled, rls_forced, had_permissive_policies FROM tenant_migration.snapshot ORDER BY 1, 2`,
    )
  ).rows;
  const backups = (
    await client.query(
      `SELECT backup_table, table_schema, table_name, columns, row_count::text, digest, status FROM tenant_migration.backups ORDER BY 1`,
    )
  ).rows;
  const backfill = (
    await client.query(
      `SELECT table_schema, table_name, completed_at IS NOT NULL AS completed FROM tenant_migration.backfill ORDER BY 1, 2`,
    )
  ).rows;
  const invalidIndexes = Number(
    (await client.query(`SELECT count(*) AS n FROM pg_index WHERE NOT indisvalid`)).rows[0].n,
  );
  const sequences = (
    await client.query(
      `SELECT schemaname, sequencename, last_value::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1, 2`,
    )
  ).rows;
  const grants = (
    await client.query(`SELECT c.oid::regclass::text AS rel, ${acl('c.relacl')} AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public', 'tenant_migration') AND c.relkind IN ('r', 'S', 'v') ORDER BY 1`)
  ).rows;
  return {
    schema: await schemaFingerprint(client, ['public', 'tenant_migration']),
    data,
    snapshot,
    backups,
    backfill,
    invalidIndexes,
    sequences,
    grants,
  };
}

/**
 * The legacy state a rollback must give back: schema, rows (every column), identity sequences, grants, RLS flags,
 * policies and triggers of public; plus whether the legacy trigger still fires and the foreign keys still cascade.
 */
export async function legacyState(client: pg.ClientBase): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const t of ALL_PUBLIC) data[t] = await tableDigest(client, t, await columnsOf(client, t));
  const sequences = (
    await client.query(
      `SELECT schemaname, sequencename, last_value::text, start_value::text, increment_by::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1, 2`,
    )
  ).rows;
  const identities = (
    await client.query(`SELECT attrelid::regclass::text AS rel, attname, attidentity::text, pg_get_serial_sequence(attrelid::regclass::text, attname) AS seq
      FROM pg_attribute WHERE attidentity <> '' AND attrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public') ORDER BY 1, 2`)
  ).rows;
  const grants = (
    await client.query(`SELECT c.oid::regclass::text AS rel, ${acl('c.relacl')} AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v') ORDER BY 1`)
  ).rows;
  const foreignKeys = (
    await client.query(`SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def, convalidated, confdeltype::text FROM pg_constraint
      WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1, 2`)
  ).rows;
  const triggers = (
    await client.query(`SELECT tgrelid::regclass::text AS rel, tgname, tgenabled::text, pg_get_triggerdef(oid) AS def FROM pg_trigger
      WHERE NOT tgisinternal AND tgrelid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace) ORDER BY 1, 2`)
  ).rows;
  const functions = (
    await client.query(
      `SELECT p.oid::regprocedure::text AS fn, md5(p.prosrc) AS body FROM pg_proc p WHERE p.pronamespace IN ('public'::regnamespace, 'auth'::regnamespace) ORDER BY 1`,
    )
  ).rows;
  return {
    schema: await schemaFingerprint(client, ['public']),
    data,
    sequences,
    identities,
    grants,
    foreignKeys,
    triggers,
    functions,
  };
}

/** Lists what differs between two states, key by key (for assertion messages). */
export function stateDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[key];
    const y = b[key];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (Array.isArray(x) && Array.isArray(y)) {
      const left = new Set(x.map((v) => JSON.stringify(v)));
      const right = new Set(y.map((v) => JSON.stringify(v)));
      for (const v of left) if (!right.has(v)) out.push(`- ${key} ${v}`);
      for (const v of right) if (!left.has(v)) out.push(`+ ${key} ${v}`);
      if (left.size === right.size && [...left].every((v) => right.has(v))) out.push(`~ ${key} (order or duplicates)`);
    } else if (x && y && typeof x === 'object' && typeof y === 'object') {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
        const xv = JSON.stringify((x as Record<string, unknown>)[k]);
        const yv = JSON.stringify((y as Record<string, unknown>)[k]);
        if (xv !== yv) out.push(`~ ${key}.${k}: ${xv} → ${yv}`);
      }
    } else {
      out.push(`~ ${key}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
    }
  }
  return out;
}
