// The isolation matrix as pgTAP files the team keeps and runs with `supabase test db` or `pg_prove`: one file per
// tenant table. Each file writes its own probe rows (two orgs and what the table references, parents first), sets
// the tenant context per cell as the application does, asserts, and rolls everything back. The same cells, probe
// rows and expectations as the live matrix (matrix.ts, rows.ts, expectations.ts); the live run supplies the exact
// error each denial raises, so `throws_ok` pins the row-level security message (42501 alone also means no grant).
import { dollarQuote, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../db/sql';
import type { MigrationModel } from '../model';
import { ISOLATION_POLICY } from '../names';
import type { MatrixRun, Probe } from '../isolation';
import { PROBE_ROLE } from '../names';
import {
  actorLabel,
  actorsFor,
  cellSql,
  contextSql,
  contextValues,
  moveSql,
  OPERATIONS,
  type ActorSpec,
  type Operation,
} from './matrix';
import { insertSql, keyPredicate, rowText, valueSql, type RefSql, type Side, type TablePlan } from './rows';

export const DEFAULT_EXPORT_DIR = 'supabase/tests/database';
const SETTING = 'tenant_migration_probe';

/** A probe row's column, read from the transaction-local setting its DO block stored the row in (any role may read it). */
const settingRef: RefSql = (tag, side, column, type) =>
  `(current_setting('${SETTING}.${tag}_${side}')::jsonb ->> ${ql(column)})::${type}`;

export interface ExportedFile {
  readonly name: string;
  readonly table: string;
  readonly tests: number;
  readonly text: string;
}

/** The plans a table's rows need, parents first (orgs, the rows it references, then its own). */
function closure(plans: TablePlan[], plan: TablePlan): TablePlan[] {
  const needed = new Set<string>([plan.tag]);
  for (let i = plans.length - 1; i >= 0; i--) {
    const p = plans[i]!;
    if (needed.has(p.tag)) for (const c of p.columns) if (c.value.kind === 'ref') needed.add(c.value.tag);
  }
  return plans.filter((p) => needed.has(p.tag));
}

const doBlock = (body: string) => `DO ${dollarQuote(`\nBEGIN\n${body}\nEND\n`, 'probe')};`;

function writeRow(m: MigrationModel, p: TablePlan, side: Side): string {
  const lines = ['  probe text;'];
  const context = m.loaded.spec.tenantContext;
  const org = settingRef('r0', side, m.orgs.idColumn, 'text');
  const steps: string[] = [];
  if (p.orgColumn) {
    steps.push(
      context.kind === 'supabase-jwt'
        ? `  PERFORM set_config('request.jwt.claims', jsonb_build_object(${ql(context.claim)}, ${org})::text, true);`
        : `  PERFORM set_config(${ql(context.name)}, ${org}, true);`,
    );
  }
  const insert = `${insertSql(p, side, settingRef, false)} RETURNING ${rowText('probe_row')} INTO probe;`;
  const refs = p.columns.filter((c) => c.value.kind === 'ref');
  if (refs.length > 0) {
    // A trigger may have written this row already for the same parents (the ledger row of a credential, say).
    const where = refs.map((c) => `${qi(c.name)} = ${valueSql(c, side, settingRef)}`).join(' AND ');
    steps.push(
      `  BEGIN\n    ${insert}\n  EXCEPTION WHEN unique_violation THEN\n    SELECT ${rowText('probe_row')} INTO probe FROM ${qq(p.table)} AS probe_row WHERE ${where} LIMIT 1;\n  END;`,
    );
  } else {
    steps.push(`  ${insert}`);
  }
  steps.push(`  PERFORM set_config('${SETTING}.${p.tag}_${side}', probe, true);`);
  return `DO ${dollarQuote(`\nDECLARE\n${lines.join('\n')}\nBEGIN\n${steps.join('\n')}\nEND\n`, 'probe')};`;
}

interface Rendered {
  readonly sql: string[];
  tests: number;
}

function assertion(out: Rendered, sql: string): void {
  out.sql.push(sql);
  out.tests++;
}

const q = (sql: string) => dollarQuote(sql, 'cell');

function asActor(m: MigrationModel, a: ActorSpec, p: TablePlan, body: string): string {
  const setup = contextSql(m.loaded.spec.tenantContext, a, contextValues(a, p, 'r0', m.orgs.idColumn, settingRef));
  return [
    doBlock(`  PERFORM ${setup.replace(/^SELECT /, '')};`),
    `SET LOCAL ROLE ${qi(a.role)};`,
    body,
    'RESET ROLE;',
  ].join('\n');
}

const rlsMessage = (p: TablePlan) => `new row violates row-level security policy for table "${p.table.name}"`;

function cellAssertion(p: TablePlan, probe: Probe, operation: Operation, target: Side, description: string): string {
  const sql = cellSql(p, operation, settingRef, target);
  const returning = operation === 'UPDATE' || operation === 'DELETE' ? `${sql} RETURNING 1` : sql;
  const desc = ql(description);
  if (probe.expected === 'allow')
    return operation === 'INSERT'
      ? `SELECT lives_ok(${q(sql)}, ${desc});`
      : `SELECT isnt_empty(${q(returning)}, ${desc});`;
  // Denied: an error where the live run saw one (WITH CHECK, or no grant), else rows silently filtered out.
  const error = probe.outcome === 'denied (error)' ? probe.error : operation === 'INSERT' ? rlsMessage(p) : undefined;
  return error
    ? `SELECT throws_ok(${q(sql)}, '42501', ${ql(error)}, ${desc});`
    : `SELECT is_empty(${q(returning)}, ${desc});`;
}

function structure(m: MigrationModel, run: MatrixRun, p: TablePlan, out: Rendered): void {
  const target = run.targets.find((t) => t.info.name.schema === p.table.schema && t.info.name.name === p.table.name)!;
  const reg = `${ql(qq(p.table))}::regclass`;
  out.sql.push(
    '-- Row-level security is enabled and forced, with the policies the migration left; no view reads around it.',
  );
  assertion(
    out,
    `SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = ${reg}), true, ${ql(`row-level security is enabled on ${p.label}`)});`,
  );
  assertion(
    out,
    `SELECT is((SELECT relforcerowsecurity FROM pg_class WHERE oid = ${reg}), true, ${ql(`row-level security is forced on ${p.label} (its owner is held to the policies too)`)});`,
  );
  const policies = target.info.policies.map((x) => ql(x.name));
  assertion(
    out,
    `SELECT policies_are(${ql(p.table.schema)}, ${ql(p.table.name)}, ARRAY[${policies.join(', ')}]::name[], ${ql(`the policies on ${p.label} are the ones verified when these tests were exported`)});`,
  );
  assertion(
    out,
    `SELECT is((SELECT polpermissive FROM pg_policy WHERE polrelid = ${reg} AND polname = ${ql(ISOLATION_POLICY)}), false, ${ql(`the isolation policy on ${p.label} is restrictive (every other policy must pass it too)`)});`,
  );
  const roles = [...run.roles.tenants, ...(run.roles.anon ? [run.roles.anon] : [])];
  const readable = roles.map((r) => `has_table_privilege(${ql(r)}, v.oid, 'SELECT')`).join(' OR ');
  assertion(
    out,
    `SELECT is_empty(${q(`SELECT v.oid::regclass::text FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid JOIN pg_class v ON v.oid = rw.ev_class
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = ${reg} AND v.relkind IN ('v', 'm') AND v.oid <> d.refobjid
       AND NOT coalesce(v.reloptions && ARRAY['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false)
       AND (${readable})`)}, ${ql(`no view a tenant role may read shows ${p.label} with its owner's rights (around row-level security)`)});`,
  );
}

export interface ExportOptions {
  readonly generatedAt: string;
  /** Where CREATE EXTENSION puts pgTAP when it is missing (Supabase keeps extensions in the schema extensions). */
  readonly extensionsSchema?: string;
}

function renderTable(m: MigrationModel, run: MatrixRun, p: TablePlan, options: ExportOptions): ExportedFile {
  const out: Rendered = { sql: [], tests: 0 };
  if (run.roles.tenants.length === 1 && run.roles.tenants[0] === PROBE_ROLE) {
    // No application role reaches the tables yet: a probe role with an application's grants, made here.
    out.sql.push(
      `DO $probe$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${ql(PROBE_ROLE)}) THEN CREATE ROLE ${qi(PROBE_ROLE)} NOLOGIN NOBYPASSRLS; END IF; END $probe$;`,
      `GRANT USAGE ON SCHEMA ${qi(p.table.schema)} TO ${qi(PROBE_ROLE)};`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${qq(p.table)} TO ${qi(PROBE_ROLE)};`,
      '',
    );
  }
  structure(m, run, p, out);
  const probes = run.probes.filter((x) => x.table === p.label);
  const unproven = probes.find((x) => x.outcome === 'unproven');
  if (unproven) {
    out.sql.push(`-- The matrix is not exported for ${p.label}: ${unproven.detail}`);
  } else {
    out.sql.push('', '-- Probe rows, one per org (a: the own org, b: another org), parents first.');
    for (const plan of closure(run.plans, p))
      for (const side of ['a', 'b'] as Side[]) out.sql.push(writeRow(m, plan, side));
    const actors = actorsFor(run.roles);
    const deletes: { a: ActorSpec; probe: Probe }[] = [];
    for (const a of actors) {
      for (const operation of OPERATIONS) {
        const probe = probes.find((x) => x.actor === a.actor && x.role === a.role && x.operation === operation)!;
        if (operation === 'DELETE') {
          deletes.push({ a, probe });
          continue;
        }
        out.sql.push('', `-- ${p.label} ${operation} as ${actorLabel(a)}: expected ${probe.expected}`);
        if (probe.expected === 'either') {
          out.sql.push("-- not asserted: the table's own policies decide what a member may do in the org");
          continue;
        }
        out.tests++;
        out.sql.push(
          asActor(
            m,
            a,
            p,
            cellAssertion(
              p,
              probe,
              operation,
              'a',
              `${p.label}: ${actorLabel(a)} ${operation === 'INSERT' ? 'inserts a row of org a' : `${operation}s org a's row`}: ${probe.expected}`,
            ),
          ),
        );
        if (
          a.actor === 'own org' &&
          a.role === run.roles.tenants[0] &&
          operation === 'UPDATE' &&
          probe.expected === 'allow'
        ) {
          const move = run.moves.get(p.label);
          const error = move?.error ?? rlsMessage(p);
          out.sql.push(`-- ${p.label}: the own org cannot move its row into another org (WITH CHECK)`);
          out.tests++;
          out.sql.push(
            asActor(
              m,
              a,
              p,
              `SELECT throws_ok(${q(moveSql(p, 'r0', m.orgs.idColumn, m.orgType, settingRef))}, ${ql(move?.code ?? '42501')}, ${ql(error)}, ${ql(`${p.label}: own org cannot move its row into another org`)});`,
            ),
          );
        }
      }
    }
    // Deletes last: the denied ones, a re-read that the row is still there, then the allowed ones (own org on org a's
    // row, a cross-tenant role on org b's); a row is deleted once: later allowed deletes of it are not asserted.
    const order = [
      ...deletes.filter((d) => d.probe.expected === 'deny'),
      ...deletes.filter((d) => d.probe.expected === 'allow'),
    ];
    let reread = false;
    const deleted = new Set<Side>();
    for (const { a, probe } of order) {
      const target: Side = a.actor === 'cross-tenant role' ? 'b' : 'a';
      if (probe.expected === 'allow' && deleted.has(target)) {
        out.sql.push(
          '',
          `-- ${p.label} DELETE as ${actorLabel(a)}: allowed in the live run; org ${target}'s row is deleted already here`,
        );
        continue;
      }
      if (probe.expected === 'allow') deleted.add(target);
      if (probe.expected === 'allow' && !reread) {
        reread = true;
        out.tests++;
        out.sql.push(
          '',
          `SELECT isnt_empty(${q(`SELECT 1 FROM ${qq(p.table)} WHERE ${keyPredicate(p, 'a', settingRef)}`)}, ${ql(`${p.label}: org a's row is still there after the denied deletes`)});`,
        );
      }
      out.sql.push('', `-- ${p.label} DELETE as ${actorLabel(a)}: expected ${probe.expected}`);
      out.tests++;
      out.sql.push(
        asActor(
          m,
          a,
          p,
          cellAssertion(
            p,
            probe,
            'DELETE',
            target,
            `${p.label}: ${actorLabel(a)} DELETEs org ${target}'s row: ${probe.expected}`,
          ),
        ),
      );
    }
  }
  const header = [
    `-- Tenant isolation of ${p.label}, exported by tenant-migrate export-tests on ${options.generatedAt}. Keep it in your repository`,
    '-- and run it with `supabase test db` or `pg_prove -d "$DATABASE_URL" <this folder>/*.sql`. It writes its own probe rows',
    "-- (two orgs and what the table references) in a transaction that is rolled back: the tables' triggers fire on them",
    '-- and their sequences advance; nothing is committed. Re-export after you change the policies on purpose.',
    'BEGIN;',
    `CREATE EXTENSION IF NOT EXISTS pgtap${options.extensionsSchema ? ` WITH SCHEMA ${qi(options.extensionsSchema)}` : ''};`,
    `SELECT plan(${out.tests});`,
    '',
  ];
  const name = `tenant_isolation_${`${p.table.schema}_${p.table.name}`.replace(/[^A-Za-z0-9_]+/g, '_')}.test.sql`;
  return {
    name,
    table: p.label,
    tests: out.tests,
    text: `${[...header, ...out.sql, '', 'SELECT * FROM finish();', 'ROLLBACK;'].join('\n')}\n`,
  };
}

export function renderPgtapFiles(m: MigrationModel, run: MatrixRun, options: ExportOptions): ExportedFile[] {
  return run.plans.filter((p) => p.orgColumn).map((p) => renderTable(m, run, p, options));
}
