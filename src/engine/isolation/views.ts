// Ways around row-level security: views that read with their owner's rights (not security_invoker) and SECURITY
// DEFINER functions that read the tenant tables. A definer view a tenant role may read is probed on the probe rows:
// when another org sees org a's row through it, that is a leak seen, and the run fails.
import type { Session } from '../db/session';
import type { CheckResult } from '../events';
import { definerFunctionsReading } from '../shapes/function-reads';
import { runCell } from './probe';

export interface ViewTarget {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly label: string;
}

export interface ViewProbe {
  /** The tenant roles: a view any of them may read is probed as the first that may. */
  readonly roles: string[];
  /** The tenant context of org b (the other org), as a SELECT. */
  readonly otherOrgContext: string;
  /** Deletes org a's probe row of a table (inside a savepoint), or undefined when the table has none. */
  readonly deleteOwnRow: (tableOid: number) => string | undefined;
}

interface DefinerView {
  view: string;
  oid: number;
  table: number;
  invoker: boolean;
  readers: string[];
  tenantReads: boolean;
}

async function viewsOver(session: Session, tables: ViewTarget[], roles: string[]): Promise<DefinerView[]> {
  const { rows } = await session.query<{
    view: string;
    oid: number;
    table: number;
    reloptions: string[] | null;
    readers: string[];
  }>(
    `SELECT DISTINCT v.oid::regclass::text AS view, v.oid::int AS oid, d.refobjid::int AS "table", v.reloptions,
            ARRAY(SELECT r FROM unnest($2::text[]) r WHERE has_table_privilege(r, v.oid, 'SELECT') ORDER BY 1) AS readers
       FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid JOIN pg_class v ON v.oid = rw.ev_class
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = ANY($1::oid[]) AND v.relkind IN ('v', 'm') AND v.oid <> ALL($1::oid[])
      ORDER BY 1`,
    [tables.map((t) => t.oid), roles],
  );
  return rows.map((r) => ({
    view: r.view,
    oid: r.oid,
    table: r.table,
    readers: r.readers,
    tenantReads: r.readers.length > 0,
    invoker: (r.reloptions ?? []).some((o) => /^security_invoker=(true|on|1)$/i.test(o)),
  }));
}

async function countAs(session: Session, probe: ViewProbe, role: string, view: number): Promise<number | undefined> {
  const r = await runCell(session, role, probe.otherOrgContext, `SELECT 1 FROM ${await regclassText(session, view)}`);
  return r.error ? undefined : r.rows;
}

async function regclassText(session: Session, oid: number): Promise<string> {
  const { rows } = await session.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
    [oid],
  );
  return rows[0]!.name;
}

/** Whether another org sees org a's probe row through the view: rows seen with it, minus rows seen without it. */
async function showsOtherOrg(session: Session, probe: ViewProbe, v: DefinerView): Promise<boolean | undefined> {
  const remove = probe.deleteOwnRow(v.table);
  if (!remove) return undefined;
  const role = v.readers[0]!;
  const withRow = await countAs(session, probe, role, v.oid);
  await session.query('SAVEPOINT view_probe');
  try {
    await session.query(remove);
    const without = await countAs(session, probe, role, v.oid);
    return withRow === undefined || without === undefined ? undefined : withRow > without;
  } catch {
    return undefined;
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT view_probe');
  }
}

const FIX = 'ALTER VIEW … SET (security_invoker = true), or REVOKE SELECT from the tenant roles';

export async function waysAroundRls(
  session: Session,
  tables: ViewTarget[],
  probe: ViewProbe,
): Promise<{ checks: CheckResult[]; leakingViews: string[] }> {
  const checks: CheckResult[] = [];
  const leakingViews: string[] = [];
  for (const v of await viewsOver(session, tables, probe.roles)) {
    if (v.invoker) {
      checks.push({ name: `View ${v.view}`, ok: true, detail: 'security_invoker: the policies apply' });
      continue;
    }
    if (!v.tenantReads) {
      checks.push({
        name: `View ${v.view}`,
        ok: false,
        severity: 'warning',
        detail: `reads tenant tables with its owner's rights, bypassing row-level security; no tenant role (${probe.roles.join(', ') || 'none'}) may read it now: keep it so, or ${FIX}`,
      });
      continue;
    }
    const seen = await showsOtherOrg(session, probe, v);
    if (seen) leakingViews.push(v.view);
    checks.push({
      name: `View ${v.view}`,
      ok: seen === false,
      severity: seen ? 'error' : 'warning',
      detail: seen
        ? `a view that bypasses row-level security: it reads with its owner's rights and showed another org's probe row to a tenant: ${FIX}`
        : `reads tenant tables with its owner's rights and tenant role ${v.readers.join(', ')} may read it${seen === undefined ? ' (not proven either way on the probe rows)' : " (it did not show another org's probe row, but nothing in it applies the policies)"}: ${FIX}`,
    });
  }
  const functions = await definerFunctionsReading(
    session,
    tables.map((t) => ({ schema: t.schema, name: t.name })),
  );
  for (const f of functions)
    checks.push({
      name: `Function ${f.signature}`,
      ok: false,
      detail: "SECURITY DEFINER and reads a tenant table: it runs with its owner's rights, around row-level security",
      severity: 'warning',
    });
  if (checks.length === 0)
    checks.push({
      name: 'Ways around row-level security',
      ok: true,
      detail: 'no definer-rights views or SECURITY DEFINER functions read the tenant tables',
    });
  return { checks, leakingViews };
}
