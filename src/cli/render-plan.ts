// The plan and the mapping gaps as text for a terminal.
import type { Plan } from '../engine/plan';
import { formatBytes } from '../engine/preflight';

export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  lines.push(`Script: ${plan.scriptPath}${plan.scriptExists ? '' : ' (not written yet: generated from the spec)'}`, '');
  lines.push('Tables:');
  for (const t of plan.tables) lines.push(`  ${t.table}: ~${t.estimatedRows} rows, ${formatBytes(t.totalBytes)}`);
  lines.push('', 'Org assignment:');
  for (const t of plan.gaps.tables) {
    const n = (count: number) => `${t.estimated ? '≈' : ''}${count}`;
    lines.push(`  ${t.table} (${t.rule}): ${n(t.assigned)} by rule, ${n(t.toDefault)} to the default org, of ${n(t.rows)}${t.estimated ? ' (estimated from a sample; `tenant-migrate plan --exact` counts every row)' : ''}`);
  }
  if (plan.gaps.findings.length > 0) {
    lines.push('', 'Mapping gaps:');
    for (const f of plan.gaps.findings) {
      lines.push(`  ${f.blocking ? '✘' : '•'} ${f.table}: ${f.message}`);
      if (f.samples.length) lines.push(`      e.g. ${f.samples.map((s) => (s.detail ? `${s.key} (${s.detail})` : s.key)).join(', ')}`);
    }
  }
  if (plan.accessRoles?.length) {
    lines.push('', 'Roles that reach these tables (crossTenantRoles in the spec read across orgs; the others are held to their org once enforced):');
    for (const r of plan.accessRoles) {
      const kind = r.crossTenant ? 'cross-tenant (spec)' : r.bypassesRls ? 'bypasses row-level security' : r.ownsTables ? 'owner: held once enforced (FORCE)' : 'tenant role';
      lines.push(`  ${r.role}: ${kind}${r.via.length ? `; via ${r.via.join(', ')}` : ''}${r.tables.length ? ` on ${r.tables.join(', ')}` : ''}`);
    }
  }
  if (plan.shapes.length > 0) {
    lines.push('', 'Schema shapes:');
    for (const s of plan.shapes) {
      lines.push(`  ${s.blocking ? '✘' : '•'} ${s.message}`);
      if (s.fix) lines.push(`      ${s.blocking ? 'Fix' : 'To do'}: ${s.fix}`);
    }
  }
  lines.push('', `Statements (${plan.statements.length}):`);
  let phase: string | undefined;
  for (const s of plan.statements) {
    if (s.phase !== phase) { phase = s.phase; lines.push(`  [${phase ?? 'script'}]`); }
    const first = s.sql.split('\n')[0]!.slice(0, 100);
    const locks = s.locks.map((l) => `${l.table}: ${l.mode}${l.blocksWrites ? ' (blocks writes)' : ''}`).join('; ');
    lines.push(`    line ${String(s.line).padStart(4)}  ${first}${locks ? `\n                ↳ ${locks}` : ''}`);
  }
  if (plan.gaps.blocking) lines.push('', 'The run will refuse until the conflicts above are resolved.');
  if (plan.shapes.some((s) => s.blocking)) lines.push('', 'The run will refuse until the shapes marked ✘ are fixed: nothing is written before then.');
  return lines.join('\n');
}
