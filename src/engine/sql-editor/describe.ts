// Answers psql's \d and \d+ from the catalog, as text a person reads in a hover or the results view.
import type { Session } from '../db/session';
import { parseQualifiedName } from '../db/sql';
import { findTable } from '../introspect';

export async function describeRelation(session: Session, name: string, verbose: boolean): Promise<string> {
  const table = await findTable(session, parseQualifiedName(name));
  if (!table) return `Did not find any relation named "${name}".`;
  const lines = [`Table "${table.name.schema}.${table.name.name}"`, ''];
  const width = Math.max(6, ...table.columns.map((c) => c.name.length));
  const typeWidth = Math.max(4, ...table.columns.map((c) => c.type.length));
  lines.push(`${'Column'.padEnd(width)} | ${'Type'.padEnd(typeWidth)} | Nullable`);
  lines.push(`${'-'.repeat(width)}-+-${'-'.repeat(typeWidth)}-+---------`);
  for (const c of table.columns)
    lines.push(`${c.name.padEnd(width)} | ${c.type.padEnd(typeWidth)} | ${c.notNull ? 'not null' : ''}`);
  const { rows: indexes } = await session.query<{ def: string }>(
    `SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = $1 ORDER BY 1`,
    [table.oid],
  );
  if (indexes.length) lines.push('Indexes:', ...indexes.map((i) => `    ${i.def}`));
  const { rows: constraints } = await session.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1 AND contype IN ('c', 'f') ORDER BY 1`,
    [table.oid],
  );
  if (constraints.length) lines.push('Constraints:', ...constraints.map((c) => `    "${c.name}" ${c.def}`));
  if (table.policies.length || table.rlsEnabled) {
    lines.push(
      `Policies${table.rlsForced ? ' (forced row security enabled)' : table.rlsEnabled ? ' (row security enabled)' : ' (row security disabled)'}:`,
    );
    lines.push(
      ...table.policies.map(
        (p) =>
          `    POLICY "${p.name}"${p.permissive ? '' : ' AS RESTRICTIVE'} FOR ${{ r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' }[p.command] ?? p.command} TO ${p.roles.join(', ')}`,
      ),
    );
  }
  if (verbose) {
    const { rows: triggers } = await session.query<{ def: string }>(
      `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY 1`,
      [table.oid],
    );
    if (triggers.length) lines.push('Triggers:', ...triggers.map((t) => `    ${t.def}`));
    lines.push(`Rows (estimate): ${table.estimatedRows}`, `Owner: ${table.owner}`);
  }
  return lines.join('\n');
}
