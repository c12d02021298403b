// The Supabase Custom Access Token Hook's inputs, resolved against the database: the membership table and its types.
import type { Session } from './db/session';
import { parseQualifiedName, type QualifiedName } from './db/sql';
import { usageError } from './errors';
import { column, findTable } from './introspect';
import type { LoadedSpec } from './migration-spec/load';
import type { AuthHookSpec } from './migration-spec/schema';
import { qualifiedType } from './script/qualify';

export interface AuthHookModel {
  readonly spec: AuthHookSpec;
  readonly function: Required<QualifiedName>;
  readonly membership: Required<QualifiedName>;
  readonly userColumn: string;
  readonly userType: string;
  readonly orgColumn: string;
}

export async function resolveAuthHook(session: Session, loaded: LoadedSpec): Promise<AuthHookModel | undefined> {
  const hook = loaded.spec.authHook;
  if (!hook) return undefined;
  const info = await findTable(session, parseQualifiedName(hook.membership.table));
  if (!info)
    throw usageError(
      `Table ${hook.membership.table} (spec field authHook.membership.table) does not exist`,
      'Name the table of (user, org) memberships.',
    );
  const need = (name: string, field: string) => {
    const found = column(info, name);
    if (!found)
      throw usageError(
        `Column "${name}" (spec field authHook.${field}) does not exist in ${hook.membership.table}`,
        `Use one of its columns: ${info.columns.map((c) => c.name).join(', ')}.`,
      );
    return found.type;
  };
  const userType = need(hook.membership.userColumn, 'membership.userColumn');
  need(hook.membership.orgColumn, 'membership.orgColumn');
  if (hook.activeOrg.kind === 'first') need(hook.activeOrg.orderBy, 'activeOrg.orderBy');
  const { rows } = await session.query(`SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin'`);
  if (rows.length === 0)
    throw usageError(
      'authHook is set but the role supabase_auth_admin does not exist: is this a Supabase database?',
      'Remove authHook from the spec on plain PostgreSQL.',
    );
  const fn = parseQualifiedName(hook.function);
  // The hook runs with an empty search_path: its type names its schema.
  return {
    spec: hook,
    function: { schema: fn.schema ?? 'public', name: fn.name },
    membership: info.name,
    userColumn: hook.membership.userColumn,
    userType: await qualifiedType(session, userType),
    orgColumn: hook.membership.orgColumn,
  };
}
