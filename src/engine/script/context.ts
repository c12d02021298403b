// How the current tenant is known inside the database, as a SQL expression of the orgs id type.
import type { TenantContext } from '../migration-spec/schema';
import { quoteLiteral } from '../db/sql';

export function currentOrgExpression(context: TenantContext, orgType: string): string {
  if (context.kind === 'supabase-jwt') {
    return `(SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> ${quoteLiteral(context.claim)})::${orgType})`;
  }
  return `(SELECT nullif(current_setting(${quoteLiteral(context.name)}, true), '')::${orgType})`;
}
