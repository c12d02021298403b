// Step 5: the isolation matrix. Every probe runs as a real application role in a transaction that is rolled back:
// table × SELECT/INSERT/UPDATE/DELETE × (own org, another org, no tenant context, anonymous, service role).
import type { Session } from './db/session';
import { INTEGRITY_CONSTRAINT_CLASS, SQLSTATE, sqlStateOf } from './db/pg-errors';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { CheckResult } from './events';
import type { MigrationModel } from './model';
import type { TenantContext } from './spec/schema';
import { findTable, type TableInfo } from './introspect';
import { MEMBER_POLICY } from './names';
import { definerFunctionsReading } from './shapes/function-reads';

export type Operation = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
export type Actor = 'own org' | 'another org' | 'no tenant context' | 'anonymous' | 'service role';
export type Outcome = 'allowed' | 'denied (error)' | 'denied (no rows)' | 'inconclusive';

export interface Probe {
  readonly table: string;
  readonly operation: Operation;
  readonly actor: Actor;
  /** 'either': the table kept its own permissive policies, which decide what a member may do in their org. */
  readonly expected: 'allow' | 'deny' | 'either';
  readonly outcome: Outcome;
  readonly ok: boolean;
  readonly detail: string;
}

export interface IsolationResult {
  readonly probes: Probe[];
  readonly bypasses: CheckResult[];
}

const OPERATIONS: Operation[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const PROBE_ROLE = 'tenant_migration_probe';

interface Target { name: { schema: string; name: string }; info: TableInfo; orgColumn: string }

async function roleExists(session: Session, role: string): Promise<boolean> {
  return (await session.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role])).rows.length > 0;
}

/** The role a tenant's session uses: Supabase's authenticated, or a probe role with the grants an application has. */
async function tenantRole(session: Session, context: TenantContext, targets: Target[]): Promise<string> {
  if (context.kind === 'supabase-jwt' && await roleExists(session, 'authenticated')) return 'authenticated';
  if (!await roleExists(session, PROBE_ROLE)) await session.query(`CREATE ROLE ${qi(PROBE_ROLE)} NOLOGIN NOBYPASSRLS`);
  for (const t of targets) {
    await session.query(`GRANT USAGE ON SCHEMA ${qi(t.name.schema)} TO ${qi(PROBE_ROLE)}`);
    await session.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${qq(t.name)} TO ${qi(PROBE_ROLE)}`);
  }
  return PROBE_ROLE;
}

function contextSql(context: TenantContext, org: string | null, row: Record<string, unknown> | undefined): string {
  if (context.kind === 'supabase-jwt') {
    const claims: Record<string, unknown> = { role: 'authenticated' };
    if (org !== null) claims[context.claim] = org;
    if (row && typeof row.user_id === 'string') claims.sub = row.user_id; // the row's owner, for owner-only legacy policies
    return `SELECT set_config('request.jwt.claims', ${ql(JSON.stringify(claims))}, true)`;
  }
  return `SELECT set_config(${ql(context.name)}, ${ql(org ?? '')}, true)`;
}

async function twoOrgs(session: Session, t: Target): Promise<string[]> {
  const { rows } = await session.query<{ org: string }>(`SELECT ${qi(t.orgColumn)}::text AS org FROM ${qq(t.name)} GROUP BY 1 ORDER BY count(*) DESC LIMIT 2`);
  return rows.map((r) => r.org);
}

async function sampleRow(session: Session, t: Target, org: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await session.query(`SELECT to_jsonb(r) AS row FROM ${qq(t.name)} r WHERE ${qi(t.orgColumn)}::text = $1 LIMIT 1`, [org]);
  return rows[0]?.row as Record<string, unknown> | undefined;
}

function keyPredicate(t: Target, row: Record<string, unknown>): string {
  const cols = t.info.primaryKey.length > 0 ? t.info.primaryKey : t.info.columns.map((c) => c.name);
  return cols.map((c) => `${qi(c)}::text = ${ql(String(row[c]))}`).join(' AND ');
}

/** Puts the row back as the actor: the owner first removes it inside the probe's savepoint (no cascades fire). */
function reinsert(t: Target, row: Record<string, unknown>): { ownerSetup: string[]; sql: string } {
  const cols = t.info.columns.filter((c) => !c.generated).map((c) => qi(c.name)).join(', ');
  return {
    ownerSetup: ['SET LOCAL session_replication_role = replica', `DELETE FROM ${qq(t.name)} WHERE ${keyPredicate(t, row)}`, 'SET LOCAL session_replication_role = origin'],
    sql: `INSERT INTO ${qq(t.name)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_record(NULL::${qq(t.name)}, ${ql(JSON.stringify(row))})`,
  };
}

/** Runs inside verifyIsolation's transaction; each probe is undone by rolling back to its savepoint. */
async function probe(session: Session, setup: string[], sql: string): Promise<{ rows: number; error?: string; code?: string }> {
  await session.query('SAVEPOINT probe');
  try {
    for (const s of setup) await session.query(s);
    const result = await session.query(sql);
    return { rows: result.rowCount ?? 0 };
  } catch (e) {
    return { rows: 0, error: e instanceof Error ? e.message : String(e), code: sqlStateOf(e) };
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT probe');
  }
}

function judge(expected: Probe['expected'], result: { rows: number; error?: string; code?: string }): { outcome: Outcome; ok: boolean } {
  // A constraint that stopped the write (foreign key, unique, not null) means the policies let it through.
  if (result.code?.startsWith(INTEGRITY_CONSTRAINT_CLASS)) return judgeOutcome(expected, 'allowed');
  if (result.error && result.code !== SQLSTATE.insufficientPrivilege) return { outcome: 'inconclusive', ok: expected === 'deny' && /row-level security|permission denied/.test(result.error) };
  return judgeOutcome(expected, result.error ? 'denied (error)' : result.rows > 0 ? 'allowed' : 'denied (no rows)');
}

function judgeOutcome(expected: Probe['expected'], outcome: Outcome): { outcome: Outcome; ok: boolean } {
  if (expected === 'either') return { outcome, ok: true };
  return { outcome, ok: expected === 'allow' ? outcome === 'allowed' : outcome !== 'allowed' };
}

async function probeTable(session: Session, m: MigrationModel, t: Target, role: string, hasAnon: boolean, hasService: boolean): Promise<Probe[]> {
  const context = m.loaded.spec.tenantContext;
  const label = displayName(t.name);
  const [own, other] = await twoOrgs(session, t);
  if (!own || !other) return [{ table: label, operation: 'SELECT', actor: 'own org', expected: 'allow', outcome: 'inconclusive', ok: false, detail: 'needs rows of at least two orgs to probe' }];
  const ownRow = (await sampleRow(session, t, own))!;
  const memberAccess = t.info.policies.some((p) => p.name === MEMBER_POLICY);
  const actors: { actor: Actor; setup: string[]; expected: Probe['expected'] }[] = [
    { actor: 'own org', setup: [`SET LOCAL ROLE ${qi(role)}`, contextSql(context, own, ownRow)], expected: memberAccess ? 'allow' : 'either' },
    { actor: 'another org', setup: [`SET LOCAL ROLE ${qi(role)}`, contextSql(context, other, ownRow)], expected: 'deny' },
    { actor: 'no tenant context', setup: [`SET LOCAL ROLE ${qi(role)}`, contextSql(context, null, undefined)], expected: 'deny' },
  ];
  if (hasAnon) actors.push({ actor: 'anonymous', setup: ['SET LOCAL ROLE anon'], expected: 'deny' });
  if (hasService) actors.push({ actor: 'service role', setup: ['SET LOCAL ROLE service_role'], expected: 'allow' });
  const probes: Probe[] = [];
  for (const a of actors) {
    // "another org" acts on the own org's row with another tenant's context: it must neither see nor change it.
    const row = ownRow;
    const predicate = keyPredicate(t, row);
    const anyColumn = qi(t.info.columns.find((c) => !c.generated && c.identity === '' && !t.info.primaryKey.includes(c.name))?.name ?? t.orgColumn);
    const insert = reinsert(t, row);
    const statements: Record<Operation, string> = {
      SELECT: `SELECT 1 FROM ${qq(t.name)} WHERE ${predicate}`,
      INSERT: insert.sql,
      UPDATE: `UPDATE ${qq(t.name)} SET ${anyColumn} = ${anyColumn} WHERE ${predicate}`,
      DELETE: `DELETE FROM ${qq(t.name)} WHERE ${predicate}`,
    };
    for (const operation of OPERATIONS) {
      const setup = [...(operation === 'INSERT' ? insert.ownerSetup : []), 'SET LOCAL row_security = on', ...a.setup];
      const result = await probe(session, setup, statements[operation]);
      const { outcome, ok } = judge(a.expected, result);
      probes.push({ table: label, operation, actor: a.actor, expected: a.expected, outcome, ok, detail: result.error ?? `${result.rows} row(s)` });
    }
  }
  return probes;
}

/** Ways around row-level security: views that are not security_invoker, SECURITY DEFINER functions reading the tables. */
async function bypasses(session: Session, targets: Target[]): Promise<CheckResult[]> {
  const oids = targets.map((t) => t.info.oid);
  const views = await session.query<{ view: string; reloptions: string[] | null }>(
    `SELECT DISTINCT v.oid::regclass::text AS view, v.reloptions FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid JOIN pg_class v ON v.oid = rw.ev_class
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = ANY($1::oid[]) AND v.relkind IN ('v', 'm') AND v.oid <> ALL($1::oid[])`, [oids]);
  const results: CheckResult[] = views.rows.map((v) => {
    const invoker = (v.reloptions ?? []).some((o) => /^security_invoker=(true|on|1)$/i.test(o));
    return { name: `View ${v.view}`, ok: invoker, detail: invoker ? 'security_invoker: policies apply' : 'reads tenant tables with its owner\'s rights, bypassing row-level security: ALTER VIEW … SET (security_invoker = true)', severity: 'warning' as const };
  });
  const functions = await definerFunctionsReading(session, targets.map((t) => ({ schema: t.info.name.schema, name: t.info.name.name })));
  for (const f of functions) results.push({ name: `Function ${f.signature}`, ok: false, detail: 'SECURITY DEFINER and reads a tenant table: it runs with its owner\'s rights, around row-level security', severity: 'warning' });
  if (results.length === 0) results.push({ name: 'Ways around row-level security', ok: true, detail: 'no definer-rights views or SECURITY DEFINER functions read the tenant tables' });
  return results;
}

export async function verifyIsolation(session: Session, m: MigrationModel): Promise<IsolationResult> {
  const targets: Target[] = [];
  for (const t of m.tables) {
    const info = await findTable(session, t.name);
    if (info) targets.push({ name: t.name, info, orgColumn: m.orgColumn });
  }
  if (m.ledger) {
    const info = await findTable(session, m.ledger.name);
    if (info) targets.push({ name: m.ledger.name, info, orgColumn: 'org_id' });
  }
  const probes: Probe[] = [];
  await session.query('BEGIN');
  try {
    const role = await tenantRole(session, m.loaded.spec.tenantContext, targets);
    const hasAnon = await roleExists(session, 'anon');
    const hasService = (await session.query(`SELECT 1 FROM pg_roles WHERE rolname = 'service_role' AND rolbypassrls`)).rows.length > 0;
    for (const t of targets) {
      probes.push(...await probeTable(session, m, t, role, hasAnon, hasService));
    }
  } finally {
    await session.query('ROLLBACK');
  }
  return { probes, bypasses: await bypasses(session, targets) };
}
