// The isolation matrix's cells and how one is probed: the application's roles, tables, starting points (variants)
// and tenant-context kinds; a probe runs one statement as one actor and checks what it did against the data.
import type pg from 'pg';
import { tableDigest } from '../../support/fingerprint';

export type Operation = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
export type Actor = 'own org' | 'another org' | 'no tenant context' | 'anonymous' | 'service role';
export type Outcome = 'allowed' | 'denied (error)' | 'denied (no rows)';
export const OPERATIONS: Operation[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
export const ACTORS: Actor[] = ['own org', 'another org', 'no tenant context', 'anonymous', 'service role'];
export const APP_ROLE = 'tm_reliability_app';

export interface Table {
  name: string;
  key: string;
  change: string;
}
export const TABLES: Table[] = [
  { name: 'credentials', key: 'id', change: `provider = provider || '~'` },
  { name: 'reports', key: 'id', change: `title = title || '~'` },
  { name: 'dashboard_layouts', key: 'id', change: `layout = layout || '{"probe": true}'` },
  { name: 'tenant_credentials', key: 'credential_id', change: `source = source || '~'` },
];

export interface Variant {
  name: string;
  sql: string;
  permissive: boolean;
}
export const VARIANTS: Variant[] = [
  { name: "the seed's owner-only policy on credentials", sql: '', permissive: false },
  {
    name: 'permissive USING (true) legacy policies on every table',
    permissive: true,
    sql: ['credentials', 'reports', 'dashboard_layouts']
      .map(
        (t) =>
          `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY; CREATE POLICY legacy_open_${t} ON ${t} USING (true) WITH CHECK (true);`,
      )
      .join('\n'),
  },
  {
    name: 'RLS disabled and no policies',
    sql: 'DROP POLICY credentials_owner ON credentials; ALTER TABLE credentials DISABLE ROW LEVEL SECURITY;',
    permissive: false,
  },
];

export interface Context {
  kind: 'supabase-jwt' | 'setting';
  spec: Record<string, unknown>;
  role: string;
}
export const CONTEXTS: Context[] = [
  { kind: 'supabase-jwt', spec: { kind: 'supabase-jwt', claim: 'org_id' }, role: 'authenticated' },
  { kind: 'setting', spec: { kind: 'setting', name: 'app.current_org_id' }, role: APP_ROLE },
];

/** The engine's cell for one of this test's: it probes the spec's roles (service_role only when the spec names it; on
 * plain PostgreSQL anon, having grants here, is one of the tenant roles, probed without a context). */
export function engineActor(ctx: Context, actor: Actor): { actor: string; role: string } {
  if (actor === 'service role') return { actor: 'cross-tenant role', role: 'service_role' };
  if (actor === 'anonymous')
    return { actor: ctx.kind === 'supabase-jwt' ? 'anonymous' : 'no tenant context', role: 'anon' };
  return { actor, role: ctx.role };
}

/** The statements that put a tenant in place, as the application would (transaction-local). */
function actorSetup(
  ctx: Context,
  actor: Actor,
  own: string,
  other: string,
  owner: string | undefined,
): { role: string; config: [string, string][] } {
  if (actor === 'anonymous') return { role: 'anon', config: [] };
  if (actor === 'service role') return { role: 'service_role', config: [] };
  const org = actor === 'own org' ? own : actor === 'another org' ? other : undefined;
  if (ctx.kind === 'supabase-jwt') {
    // The row's owner signs in (so owner-only legacy policies let them through): only the org claim differs.
    const claims: Record<string, unknown> = {
      role: 'authenticated',
      ...(owner ? { sub: owner } : {}),
      ...(org ? { org_id: org } : {}),
    };
    return { role: ctx.role, config: [['request.jwt.claims', JSON.stringify(claims)]] };
  }
  return { role: ctx.role, config: [['app.current_org_id', org ?? '']] };
}

/** What this test expects: only the own org and the service role get through, unless legacy policies decide within the org. */
function expected(ctx: Context, variant: Variant, table: Table, actor: Actor): 'allow' | 'deny' {
  if (actor === 'service role') return 'allow';
  if (actor !== 'own org') return 'deny';
  // The migration adds a permissive member policy only where the table had none; otherwise the legacy ones decide.
  if (table.name === 'credentials' && !variant.permissive && variant.sql === '')
    return ctx.kind === 'supabase-jwt' ? 'allow' : 'deny'; // owner-only, TO authenticated
  return 'allow';
}

export interface Result {
  table: string;
  operation: Operation;
  actor: Actor;
  outcome: Outcome;
  rows: number;
  changed: boolean;
  error?: string;
}

async function probe(
  client: pg.Client,
  ctx: Context,
  table: Table,
  operation: Operation,
  actor: Actor,
  orgs: { own: string; other: string },
): Promise<Result> {
  const row = (
    await client.query(
      `SELECT to_jsonb(t) AS row FROM ${table.name} t WHERE org_id = $1 ORDER BY ${table.key} LIMIT 1`,
      [orgs.own],
    )
  ).rows[0].row as Record<string, unknown>;
  const key = String(row[table.key]);
  const owner = typeof row.user_id === 'string' ? row.user_id : undefined;
  const setup = actorSetup(ctx, actor, orgs.own, orgs.other, owner);
  const cols = Object.keys(row)
    .map((c) => `"${c}"`)
    .join(', ');
  const statements: Record<Operation, { sql: string; values: unknown[] }> = {
    SELECT: { sql: `SELECT * FROM ${table.name} WHERE ${table.key}::text = $1`, values: [key] },
    INSERT: {
      sql: `INSERT INTO ${table.name} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_record(NULL::${table.name}, $1)`,
      values: [JSON.stringify(row)],
    },
    UPDATE: { sql: `UPDATE ${table.name} SET ${table.change} WHERE ${table.key}::text = $1`, values: [key] },
    DELETE: { sql: `DELETE FROM ${table.name} WHERE ${table.key}::text = $1`, values: [key] },
  };
  await client.query('BEGIN');
  try {
    if (operation === 'INSERT') {
      // The row is taken out first (as the owner, without cascades) so that the actor can try to put it back.
      await client.query(`SET LOCAL session_replication_role = replica`);
      await client.query(`DELETE FROM ${table.name} WHERE ${table.key}::text = $1`, [key]);
      await client.query(`SET LOCAL session_replication_role = origin`);
    }
    const before = await tableDigest(client, table.name);
    await client.query('SAVEPOINT probe');
    let rows = 0;
    let error: string | undefined;
    try {
      await client.query(`SET LOCAL ROLE ${setup.role}`);
      for (const [name, value] of setup.config) await client.query(`SELECT set_config($1, $2, true)`, [name, value]);
      rows = (await client.query(statements[operation].sql, statements[operation].values)).rowCount ?? 0;
      await client.query('RESET ROLE');
    } catch (e) {
      error = (e as Error).message;
      await client.query('ROLLBACK TO SAVEPOINT probe');
    }
    const after = await tableDigest(client, table.name);
    const changed = before.digest !== after.digest;
    const outcome: Outcome = error
      ? 'denied (error)'
      : (operation === 'SELECT' ? rows > 0 : changed)
        ? 'allowed'
        : 'denied (no rows)';
    return { table: table.name, operation, actor, outcome, rows, changed, error };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Runs the matrix on some tables, returning every result and every way it differs from what is expected. */
export async function runMatrix(
  client: pg.Client,
  ctx: Context,
  variant: Variant,
  tables: Table[],
  orgs: { own: string; other: string },
): Promise<{ results: Result[]; failures: string[] }> {
  const results: Result[] = [];
  const failures: string[] = [];
  for (const table of tables) {
    for (const operation of OPERATIONS) {
      for (const actor of ACTORS) {
        const r = await probe(client, ctx, table, operation, actor, orgs);
        results.push(r);
        const want = expected(ctx, variant, table, actor);
        const got = r.outcome === 'allowed' ? 'allow' : 'deny';
        if (got !== want)
          failures.push(
            `${table.name} ${operation} as ${actor}: expected ${want}, ${r.outcome}${r.error ? ` (${r.error})` : ''}`,
          );
        // The data agrees with what the statement said: a write that reported rows changed the table; a denied one nothing.
        if (operation !== 'SELECT' && !r.error && r.rows > 0 !== r.changed)
          failures.push(
            `${table.name} ${operation} as ${actor}: ${r.rows} row(s) reported but the table ${r.changed ? 'changed' : 'did not change'}`,
          );
      }
    }
  }
  return { results, failures };
}

export async function prepared(client: pg.Client): Promise<{ own: string; other: string }> {
  await client.query(
    `GRANT USAGE ON SCHEMA public TO ${APP_ROLE}; GRANT SELECT, INSERT, UPDATE, DELETE ON credentials, reports, dashboard_layouts, tenant_credentials TO ${APP_ROLE}`,
  );
  const orgRows = (
    await client.query(`SELECT org_id::text AS org FROM credentials GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2`)
  ).rows;
  return { own: orgRows[0].org as string, other: orgRows[1].org as string };
}
