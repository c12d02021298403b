// The lint's options from a migration spec: its tenant tables, cross-tenant roles and `lint` settings.
import type { LoadedSpec } from '../../migration-spec/load';
import type { LintOptions } from './types';

export function lintOptionsFromSpec(loaded: LoadedSpec): LintOptions {
  const tenantTables = loaded.tables.map((t) => `${t.name.schema}.${t.name.name}`);
  if (loaded.tenantCredentials)
    tenantTables.push(`${loaded.tenantCredentials.table.schema}.${loaded.tenantCredentials.table.name}`);
  // crossTenantRoles: the roles the plan lists as seeing every tenant, when the spec names them.
  const roles = (loaded.spec as { crossTenantRoles?: unknown }).crossTenantRoles;
  const crossTenantRoles = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : undefined;
  const lint = loaded.spec.lint;
  return {
    tenantTables,
    crossTenantRoles,
    postgresVersion: lint?.postgresVersion,
    assumeInTransaction: lint?.assumeInTransaction,
    rules: lint?.rules,
  };
}

/** Later options win where they say something (the command line over the spec, the spec over the defaults). */
export function mergeLintOptions(...layers: LintOptions[]): LintOptions {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      out[key] = key === 'rules' ? { ...(out.rules as object | undefined), ...(value as object) } : value;
    }
  }
  return out as LintOptions;
}
