// "Run as tenant…": the orgs to pick from, and the role a tenant's session uses.
import type { Session } from '../db/session';
import { quoteIdent, quoteQualified } from '../db/sql';
import type { LoadedSpec } from '../migration-spec/load';

export interface OrgChoice {
  readonly id: string;
  /** The org's name (or another descriptive column) when the orgs table has one. */
  readonly label?: string;
}

const LABEL_COLUMNS = ['name', 'title', 'slug', 'display_name'];

/** The orgs in the spec's orgs table (the first `limit`, by id), with a name when there is a column for one. */
export async function listOrgs(session: Session, spec: LoadedSpec, limit = 200): Promise<OrgChoice[]> {
  const id = quoteIdent(spec.spec.orgs.idColumn);
  const { rows } = await session.query<{ id: string; row: Record<string, unknown> }>(
    `SELECT ${id}::text AS id, to_jsonb(o) AS row FROM ${quoteQualified(spec.orgsTable)} o ORDER BY ${id} LIMIT $1`,
    [limit],
  );
  return rows.map((r) => {
    const column = LABEL_COLUMNS.find((c) => typeof r.row[c] === 'string' && r.row[c] !== '');
    return { id: r.id, label: column ? String(r.row[column]) : undefined };
  });
}

/** The role a tenant's statement runs as: the configured one when it exists, else Supabase's `authenticated`. */
export async function tenantRoleFor(session: Session, configured: string | undefined): Promise<string> {
  const candidates = configured ? [configured] : ['authenticated'];
  for (const role of candidates) {
    const { rows } = await session.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (rows.length) return role;
  }
  const error = new Error(`There is no role "${candidates[0]}" to run the statement as a tenant`) as Error & {
    next: string;
  };
  error.next =
    'Set tenantMigration.sqlEditor.tenantRole to the role your application connects as (it must not bypass row-level security).';
  throw error;
}
