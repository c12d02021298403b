// How a cell came out, and why: the real cause (no policy, no grant, row-level security off, a role that bypasses it,
// a view that reads with its owner's rights), never a leak that was not seen.
import { INTEGRITY_CONSTRAINT_CLASS, SQLSTATE } from '../db/pg-errors';
import type { TableInfo } from '../introspect';
import { ISOLATION_POLICY } from '../names';
import type { Expected } from './expectations';
import type { Operation } from './matrix';
import { plural } from '../../shared/format';

export type Outcome = 'allowed' | 'denied (error)' | 'denied (no rows)' | 'unproven';

export interface CellResult {
  readonly rows: number;
  readonly error?: string;
  readonly code?: string;
}

export function classify(operation: Operation, r: CellResult): Outcome {
  // A constraint that stopped the write (foreign key, unique, not null, check) means the policies let it through.
  if (r.code?.startsWith(INTEGRITY_CONSTRAINT_CLASS)) return 'allowed';
  if (r.error) return r.code === SQLSTATE.insufficientPrivilege ? 'denied (error)' : 'unproven';
  // An INSERT is never filtered silently: without an error the policies accepted the row (ON CONFLICT may skip it).
  if (operation === 'INSERT') return 'allowed';
  return r.rows > 0 ? 'allowed' : 'denied (no rows)';
}

export function judge(expected: Expected, outcome: Outcome): boolean {
  if (outcome === 'unproven') return false;
  if (expected === 'either') return true;
  return expected === 'allow' ? outcome === 'allowed' : outcome !== 'allowed';
}

/** What denied an error: a policy's WITH CHECK, or a missing privilege (named). */
export function denialCause(error: string): string {
  if (/row-level security/.test(error)) return 'a row-level security policy rejected the row';
  const object = /permission denied for (\w+) (.+)$/.exec(error);
  if (object) return `no grant: the role has no privilege on ${object[1]} ${object[2]}`;
  return error;
}

export interface RoleFacts {
  readonly role: string;
  readonly bypassesRls: boolean;
  readonly ownsTable: boolean;
}

/** Why an actor reached rows it must not: the first cause that holds. */
export function leakCause(table: TableInfo, role: RoleFacts): string {
  if (role.bypassesRls) return `the role ${role.role} bypasses row-level security (superuser or BYPASSRLS)`;
  if (!table.rlsEnabled) return 'row-level security is not enabled on the table';
  if (role.ownsTable && !table.rlsForced) return `row-level security is not forced and ${role.role} owns the table`;
  const permissive = table.policies.filter((p) => p.permissive).map((p) => p.name);
  if (!table.policies.some((p) => p.name === ISOLATION_POLICY)) {
    return `the isolation policy ${ISOLATION_POLICY} is missing${permissive.length ? `; the permissive policies ${permissive.join(', ')} let it through` : ''}`;
  }
  return `the policies on the table let it through (permissive: ${permissive.join(', ') || 'none'}); the isolation policy may have been changed`;
}

/** Why a member was kept from their own org's rows (not a leak: the application would fail, not expose). */
export function ownDenialCause(table: TableInfo, operation: Operation, error: string | undefined): string {
  if (error) return denialCause(error);
  const permissive = table.policies.filter(
    (p) => p.permissive && ['*', operation[0]!.toLowerCase()].includes(p.command),
  );
  return permissive.length === 0
    ? `no permissive policy lets a member ${operation} their own org's rows`
    : `the permissive policies (${permissive.map((p) => p.name).join(', ')}) do not let a member ${operation} this row of their own org`;
}

export interface Verdict {
  readonly leaks: number;
  readonly ownDenied: number;
  readonly unproven: number;
  readonly summary: string;
  readonly next?: string;
}

/** The step's summary and what to do next, saying exactly what was seen. */
export function verdict(
  cells: { ok: boolean; expected: Expected; outcome: Outcome; table: string; cause?: string }[],
  leakingViews: string[],
  escapingRoles: string[] = [],
): Verdict {
  const failed = cells.filter((c) => !c.ok);
  const leaks = failed.filter((c) => c.expected === 'deny' && c.outcome === 'allowed');
  const ownDenied = failed.filter((c) => c.expected === 'allow' && c.outcome !== 'allowed' && c.outcome !== 'unproven');
  const unproven = failed.filter((c) => c.outcome === 'unproven');
  const tables = (list: typeof cells) => [...new Set(list.map((c) => c.table))].join(', ');
  const parts: string[] = [];
  const next: string[] = [];
  if (leaks.length || leakingViews.length) {
    parts.push(
      `a tenant reached rows it must not: ${plural(leaks.length, 'cell')}${leaks.length ? ` on ${tables(leaks)}` : ''}${leakingViews.length ? `; through ${leakingViews.join(', ')}` : ''}`,
    );
    next.push('Do not open the system: fix the causes named in the failed checks (or roll back), then verify again.');
  }
  if (escapingRoles.length) {
    parts.push(
      `${escapingRoles.length === 1 ? 'tenant role' : 'tenant roles'} ${escapingRoles.join(', ')} may take a role that reads every org (a role membership around row-level security)`,
    );
    next.push('Do not open the system: REVOKE the membership named in the failed checks, then verify again.');
  }
  if (ownDenied.length) {
    parts.push(
      `members are kept from their own org's rows in ${plural(ownDenied.length, 'cell')} on ${tables(ownDenied)}`,
    );
    next.push(
      'The application would fail there (no data is exposed): add the grant or policy named in the failed checks.',
    );
  }
  if (unproven.length) {
    parts.push(`${plural(unproven.length, 'cell')} on ${tables(unproven)} could not be proven`);
    next.push(
      `Unproven is not a leak: ${unproven[0]!.cause ?? 'see the failed checks'}. Fix that, or prove those cells by hand.`,
    );
  }
  const summary = parts.length ? parts.join('; ') : `${plural(cells.length, 'probe')} held`;
  return {
    leaks: leaks.length + leakingViews.length + escapingRoles.length,
    ownDenied: ownDenied.length,
    unproven: unproven.length,
    summary,
    next: next.length ? next.join(' ') : undefined,
  };
}
