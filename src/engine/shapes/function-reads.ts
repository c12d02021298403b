// Which SECURITY DEFINER functions read a table: its qualified name in the body, or its bare name when the
// function's search_path reaches the table's schema (auth.users is not public.users).
import type { Session } from '../db/session';

export interface DefinerFunction {
  readonly signature: string;
  readonly owner: string;
  readonly ownerBypassesRls: boolean;
  /** The tables (schema.name keys) its body reads. */
  readonly reads: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const namePattern = (name: string) => `(?:${escape(name)}|"${escape(name.replace(/"/g, '""'))}")`;

function searchPath(config: string[] | null): string[] {
  const setting = (config ?? []).find((c) => c.startsWith('search_path='));
  const text = setting ? setting.slice('search_path='.length) : '"$user", public';
  return text.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
}

export function readsTable(body: string, config: string[] | null, table: { schema: string; name: string }): boolean {
  const name = namePattern(table.name);
  if (new RegExp(`(?<![\\w$])${namePattern(table.schema)}\\s*\\.\\s*${name}(?![\\w$])`, 'i').test(body)) return true;
  if (!searchPath(config).includes(table.schema)) return false;
  return new RegExp(`(?<![\\w$."])${name}(?![\\w$])`, 'i').test(body.replace(/\b\w+\s*\.\s*\w+/g, ' '));
}

export async function definerFunctionsReading(
  session: Session,
  tables: readonly { schema: string; name: string }[],
): Promise<DefinerFunction[]> {
  const { rows } = await session.query<{
    signature: string;
    owner: string;
    bypass: boolean;
    body: string;
    config: string[] | null;
  }>(
    `SELECT p.oid::regprocedure::text AS signature, r.rolname AS owner, r.rolsuper OR r.rolbypassrls AS bypass, p.prosrc AS body, p.proconfig AS config
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
      WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_migration') AND p.prorettype <> 'trigger'::regtype
      ORDER BY 1`,
  );
  return rows
    .map((r) => ({
      signature: r.signature,
      owner: r.owner,
      ownerBypassesRls: r.bypass,
      reads: tables.filter((t) => readsTable(r.body, r.config, t)).map((t) => `${t.schema}.${t.name}`),
    }))
    .filter((f) => f.reads.length > 0);
}
