// The plan and the mapping gaps as text for a terminal: the statements grouped by phase with what they are (every
// statement with --statements), and the mapping gaps last, where the eye lands.
import type { Plan, PlannedStatement } from '../engine/plan';
import { formatBytes, formatCount, plural } from '../shared/format';
import { diskParts } from '../engine/disk-check';

/** What a statement is, from its first words: "CREATE TABLE", "ALTER TABLE", "DO block", "\set". */
export function statementKind(sql: string): string {
  const code = sql
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('--'))
    .join(' ');
  if (/^DO\b/i.test(code)) return 'DO block';
  if (code.startsWith('\\')) return code.split(/\s+/)[0]!;
  const words = code.replace(/\b(OR REPLACE|IF (NOT )?EXISTS|UNIQUE|CONCURRENTLY)\b\s*/gi, '').split(/\s+/);
  const two = ['CREATE', 'ALTER', 'DROP', 'COMMENT', 'GRANT', 'REVOKE'].includes(words[0]!.toUpperCase());
  return (two ? words.slice(0, 2) : words.slice(0, 1))
    .join(' ')
    .toUpperCase()
    .replace(/[;(].*$/, '');
}

/** A statement's name split into what it does and what it acts on; an unnamed one (a hand-written script's) is its kind. */
function whatAndObject(s: PlannedStatement): { what: string; object?: string } {
  if (!s.name) return { what: statementKind(s.sql) };
  const at = s.name.lastIndexOf(' — ');
  return at < 0 ? { what: s.name } : { what: s.name.slice(0, at), object: s.name.slice(at + 3) };
}

const MAX_OBJECTS = 4;

/** Each key once, the keys that share a detail together: "1, 51, 101 (org 2)". */
export function sampleText(samples: readonly { key: string; detail?: string }[]): string {
  const byDetail = new Map<string, string[]>();
  for (const { key, detail } of samples) {
    const keys = byDetail.get(detail ?? '') ?? [];
    if (!keys.includes(key)) keys.push(key);
    byDetail.set(detail ?? '', keys);
  }
  return [...byDetail].map(([detail, keys]) => `${keys.join(', ')}${detail ? ` (${detail})` : ''}`).join('; ');
}

/** One line per kind of statement in the phase: what it does, how many, and on what ("…, and 7 more"). */
function phaseLines(statements: PlannedStatement[]): string[] {
  const groups = new Map<string, { count: number; objects: string[] }>();
  for (const s of statements) {
    const { what, object } = whatAndObject(s);
    const group = groups.get(what) ?? { count: 0, objects: [] };
    group.count++;
    if (object && !group.objects.includes(object)) group.objects.push(object);
    groups.set(what, group);
  }
  return [...groups].map(([what, { count, objects }]) => {
    const shown = objects.slice(0, MAX_OBJECTS).join(', ');
    const more = objects.length > MAX_OBJECTS ? `, and ${formatCount(objects.length - MAX_OBJECTS)} more` : '';
    return `      ${what}${count > 1 ? ` ×${formatCount(count)}` : ''}${objects.length ? `: ${shown}${more}` : ''}`;
  });
}

export function renderPlan(plan: Plan, options: { statements?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Script: ${plan.scriptPath}${plan.scriptExists ? '' : ' (not written yet: generated from the spec)'}`, '');
  lines.push('Tables:');
  for (const t of plan.tables)
    lines.push(`  ${t.table}: ~${formatCount(t.estimatedRows)} rows, ${formatBytes(t.totalBytes)}`);
  lines.push('', `Statements (${plan.statements.length}):`);
  const phases = new Map<string, PlannedStatement[]>();
  for (const s of plan.statements) phases.set(s.phase ?? 'script', [...(phases.get(s.phase ?? 'script') ?? []), s]);
  for (const [phase, statements] of phases) {
    const blocking = [
      ...new Set(statements.flatMap((s) => s.locks.filter((l) => l.blocksWrites).map((l) => `${l.table}: ${l.mode}`))),
    ];
    lines.push(
      `  ${phase} (lines ${statements[0]!.line}–${statements.at(-1)!.line}): ${plural(statements.length, 'statement')}`,
    );
    if (!options.statements) lines.push(...phaseLines(statements));
    if (blocking.length) lines.push(`      blocks writes: ${blocking.join('; ')}`);
    if (!options.statements) continue;
    for (const s of statements) {
      const locks = s.locks.map((l) => `${l.table}: ${l.mode}${l.blocksWrites ? ' (blocks writes)' : ''}`).join('; ');
      lines.push(
        `    line ${String(s.line).padStart(4)}  ${s.name ?? s.sql.split('\n')[0]!.slice(0, 100)}${locks ? `\n                ↳ ${locks}` : ''}`,
      );
    }
  }
  if (!options.statements) lines.push('  (every statement with its line and locks: tenant-migrate plan --statements)');
  if (plan.accessRoles?.length) {
    lines.push(
      '',
      'Roles that reach these tables (crossTenantRoles in the spec read across orgs; the others are held to their org once enforced):',
    );
    for (const r of plan.accessRoles) {
      const kind = r.crossTenant
        ? 'cross-tenant (spec)'
        : r.bypassesRls
          ? 'bypasses row-level security'
          : r.ownsTables
            ? 'owner: held once enforced (FORCE)'
            : 'tenant role';
      lines.push(
        `  ${r.role}: ${kind}${r.via.length ? `; via ${r.via.join(', ')}` : ''}${r.tables.length ? ` on ${r.tables.join(', ')}` : ''}`,
      );
    }
  }
  if (plan.shapes.length > 0) {
    lines.push('', 'Schema shapes:');
    for (const s of plan.shapes) {
      lines.push(`  ${s.blocking ? '✘' : '•'} ${s.message}`);
      if (s.fix) lines.push(`      ${s.blocking ? 'Fix' : 'To do'}: ${s.fix}`);
    }
  }
  lines.push(...diskLines(plan), ...gapLines(plan));
  if (plan.shapes.some((s) => s.blocking))
    lines.push('', 'The run will refuse until the shapes marked ✘ are fixed: nothing is written before then.');
  return lines.join('\n');
}

/** What the run writes to the server's disk, against its free space. */
function diskLines(plan: Plan): string[] {
  const d = plan.disk;
  if (!d) return [];
  const free = d.free.known
    ? `${formatBytes(d.free.bytes)} free at ${d.free.where}${d.free.bytes < d.needed ? ': NOT ENOUGH, the run would fail partway' : ''}`
    : `free space unknown (${d.free.why}): make sure at least ${formatBytes(d.needed)} is free`;
  return ['', `Disk: about ${formatBytes(d.needed)} needed at the run's peak; ${free}`, `  ${diskParts(d)}`];
}

/** The org assignment and the mapping gaps; in a first answer, the exact checks still running. */
export function gapLines(plan: Plan): string[] {
  const lines: string[] = [];
  lines.push('', 'Org assignment:');
  for (const t of plan.gaps.tables) {
    const n = (count: number) => `${t.estimated ? '≈' : ''}${formatCount(count)}`;
    lines.push(
      `  ${t.table} (${t.rule}): ${n(t.assigned)} by rule, ${n(t.toDefault)} to the default org, of ${n(t.rows)}${t.estimated ? ' (estimated from a sample; `tenant-migrate plan --exact` counts every row)' : ''}`,
    );
  }
  if (plan.gaps.findings.length > 0) {
    lines.push('', 'Mapping gaps:');
    for (const f of plan.gaps.findings) {
      lines.push(`  ${f.blocking ? '✘' : '•'} ${f.table}: ${f.message}`);
      if (f.samples.length) lines.push(`      e.g. ${sampleText(f.samples)}`);
    }
  }
  if (plan.gaps.blocking) lines.push('', 'The run will refuse until the conflicts above are resolved.');
  const pending = plan.gaps.pending ?? [];
  if (pending.length > 0)
    lines.push('', `Not checked yet over every row (nothing is cleared until they answer): ${pending.join('; ')}`);
  return lines;
}

/** The exact answer after a first one: what the exact checks found. */
/** Said under a first answer while the exact checks run. */
export const CHECKING_EXACTLY = 'This is a first answer (estimates). Checking every row for what blocks a run …';

export function renderExactChecks(plan: Plan): string {
  const lines = ['', 'Exact checks answered:', ...gapLines(plan)];
  if (!plan.gaps.blocking) lines.push('', 'No blocking mapping gaps.');
  if (plan.shapes.some((s) => s.blocking))
    lines.push('', 'The run will refuse until the shapes marked ✘ are fixed: nothing is written before then.');
  return lines.join('\n');
}
