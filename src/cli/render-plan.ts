// The plan and the mapping gaps as text for a terminal: the statements grouped by phase with what they are (every
// statement with --statements), and the mapping gaps last, where the eye lands.
import type { Plan, PlannedStatement } from '../engine/plan';
import { formatBytes } from '../engine/preflight';
import { formatCount, plural } from '../shared/format';

/** What a statement is, from its first words: "CREATE TABLE", "ALTER TABLE", "DO block", "\set". */
export function statementKind(sql: string): string {
  const code = sql.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('--')).join(' ');
  if (/^DO\b/i.test(code)) return 'DO block';
  if (code.startsWith('\\')) return code.split(/\s+/)[0]!;
  const words = code.replace(/\b(OR REPLACE|IF (NOT )?EXISTS|UNIQUE|CONCURRENTLY)\b\s*/gi, '').split(/\s+/);
  const two = ['CREATE', 'ALTER', 'DROP', 'COMMENT', 'GRANT', 'REVOKE'].includes(words[0]!.toUpperCase());
  return (two ? words.slice(0, 2) : words.slice(0, 1)).join(' ').toUpperCase().replace(/[;(].*$/, '');
}

function phaseSummary(statements: PlannedStatement[]): string {
  const kinds = new Map<string, number>();
  for (const s of statements) kinds.set(statementKind(s.sql), (kinds.get(statementKind(s.sql)) ?? 0) + 1);
  return [...kinds].map(([kind, n]) => (n === 1 ? kind : `${kind} ×${n}`)).join(', ');
}

export function renderPlan(plan: Plan, options: { statements?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Script: ${plan.scriptPath}${plan.scriptExists ? '' : ' (not written yet: generated from the spec)'}`, '');
  lines.push('Tables:');
  for (const t of plan.tables) lines.push(`  ${t.table}: ~${formatCount(t.estimatedRows)} rows, ${formatBytes(t.totalBytes)}`);
  lines.push('', `Statements (${plan.statements.length}):`);
  const phases = new Map<string, PlannedStatement[]>();
  for (const s of plan.statements) phases.set(s.phase ?? 'script', [...(phases.get(s.phase ?? 'script') ?? []), s]);
  for (const [phase, statements] of phases) {
    const blocking = [...new Set(statements.flatMap((s) => s.locks.filter((l) => l.blocksWrites).map((l) => `${l.table}: ${l.mode}`)))];
    lines.push(`  ${phase} (lines ${statements[0]!.line}–${statements.at(-1)!.line}): ${plural(statements.length, 'statement')} — ${phaseSummary(statements)}`);
    if (blocking.length) lines.push(`      blocks writes: ${blocking.join('; ')}`);
    if (!options.statements) continue;
    for (const s of statements) {
      const locks = s.locks.map((l) => `${l.table}: ${l.mode}${l.blocksWrites ? ' (blocks writes)' : ''}`).join('; ');
      lines.push(`    line ${String(s.line).padStart(4)}  ${s.sql.split('\n')[0]!.slice(0, 100)}${locks ? `\n                ↳ ${locks}` : ''}`);
    }
  }
  if (!options.statements) lines.push('  (every statement with its locks: tenant-migrate plan --statements)');
  lines.push('', 'Org assignment:');
  for (const t of plan.gaps.tables) {
    const n = (count: number) => `${t.estimated ? '≈' : ''}${formatCount(count)}`;
    lines.push(`  ${t.table} (${t.rule}): ${n(t.assigned)} by rule, ${n(t.toDefault)} to the default org, of ${n(t.rows)}${t.estimated ? ' (estimated from a sample; `tenant-migrate plan --exact` counts every row)' : ''}`);
  }
  if (plan.gaps.findings.length > 0) {
    lines.push('', 'Mapping gaps:');
    for (const f of plan.gaps.findings) {
      lines.push(`  ${f.blocking ? '✘' : '•'} ${f.table}: ${f.message}`);
      const samples = [...new Set(f.samples.map((s) => (s.detail ? `${s.key} (${s.detail})` : s.key)))];
      if (samples.length) lines.push(`      e.g. ${samples.join(', ')}`);
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
  if (plan.gaps.blocking) lines.push('', 'The run will refuse until the conflicts above are resolved.');
  if (plan.shapes.some((s) => s.blocking)) lines.push('', 'The run will refuse until the shapes marked ✘ are fixed: nothing is written before then.');
  return lines.join('\n');
}
