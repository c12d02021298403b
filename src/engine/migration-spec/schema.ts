// The migration spec (tenant-migration.json): the single source of what the migration does.
import { z } from 'zod';

/** PostgreSQL truncates a longer name to 63 bytes (not characters): refused, never truncated. */
export const MAX_IDENTIFIER_BYTES = 63;
const identifierPart = z
  .string()
  .min(1, 'must not be empty')
  .refine(
    (s) => Buffer.byteLength(s) <= MAX_IDENTIFIER_BYTES,
    "is longer than PostgreSQL's 63-byte identifier limit (it would be truncated)",
  )
  .refine((s) => !s.includes('\0'), 'must not contain a NUL character');
/** `table` or `schema.table`; a part containing a dot is written with double quotes: `"my.schema".t`. */
const qualifiedName = z
  .string()
  .min(1, 'must not be empty')
  .describe('A table name, optionally schema-qualified (public.credentials).');
const columnName = identifierPart.describe('A column name.');

export const orgIdSchema = z.union([z.string().min(1), z.number().int()]);

/** One column, or a list of columns for a composite key (in the order they pair with the other side's). */
const keyColumns = (what: string) =>
  z.union([columnName, z.array(columnName).min(1, 'must name at least one column')]).describe(what);
/** The columns of a key, whether the spec gave one name or a list. */
export const columnsOf = (key: string | readonly string[]): string[] => (typeof key === 'string' ? [key] : [...key]);

const orgFromMapping = z.strictObject({
  mapping: z.strictObject({
    column: keyColumns(
      "The column of this table matched to the mapping table's keyColumn, or a list for a composite key, paired in order with keyColumn.",
    ),
  }),
});
const orgFromParent = z.strictObject({
  parent: z
    .strictObject({
      table: qualifiedName.describe(
        "The parent table: one of the spec's tables, or a table the spec does not migrate that already has the org column.",
      ),
      column: keyColumns(
        'The column of this table that references the parent, or a list of columns for a composite key (["order_id", "shop_id"]).',
      ),
      references: keyColumns(
        'The parent\'s column(s) it references, paired in order with "column" (default: as the foreign key from "column" to the parent pairs them; for one column without one, the parent\'s primary key).',
      ).optional(),
    })
    .superRefine((parent, ctx) => {
      const columns = columnsOf(parent.column);
      const references = parent.references === undefined ? undefined : columnsOf(parent.references);
      if (references && references.length !== columns.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['column'],
          message: `${columns.length} column${columns.length === 1 ? '' : 's'} but references has ${references.length}: give the same number, paired in order`,
        });
      }
      if (new Set(columns).size !== columns.length)
        ctx.addIssue({ code: 'custom', path: ['column'], message: 'names a column twice' });
    }),
});
const orgFromQuery = z.strictObject({
  query: z.strictObject({
    column: columnName.describe("The column of this table matched to the query's key."),
    sql: z.string().min(1).describe('A query returning (key, org_id) pairs. Trusted: written by the workspace owner.'),
  }),
});

export const tableSpecSchema = z.strictObject({
  name: qualifiedName,
  orgFrom: z.union([orgFromMapping, orgFromParent, orgFromQuery]).describe("How each row's org is decided."),
});

export const tenantContextSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('supabase-jwt'),
    claim: identifierPart.default('org_id').describe('The JWT claim that holds the org id.'),
  }),
  z.strictObject({
    kind: z.literal('setting'),
    name: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/,
        'must be a custom setting name such as app.current_org_id',
      ),
  }),
]);

/** The migration lint's settings, as squawk users expect them (the editor's settings and `tenant-migrate lint` read them). */
export const lintSpecSchema = z
  .strictObject({
    postgresVersion: z
      .number()
      .int()
      .min(10)
      .max(18)
      .optional()
      .describe('The PostgreSQL major version the scripts run on (default 15): some rules depend on it.'),
    assumeInTransaction: z
      .boolean()
      .optional()
      .describe("The runner wraps each file in one transaction (squawk's --assume-in-transaction)."),
    rules: z
      .record(z.string(), z.boolean())
      .optional()
      .describe(
        'Rules turned on (true) or off (false), by the lint\'s id or squawk\'s name: {"not-idempotent": false}.',
      ),
  })
  .describe('The migration lint (tenant-migrate lint and the SQL editor).');

const roleName = identifierPart.describe('A database role.');

/** Supabase Custom Access Token Hook: the org claim from the membership table (never from user_metadata). */
export const authHookSchema = z.strictObject({
  membership: z.strictObject({
    table: qualifiedName.describe('The table of (user, org) memberships, for example org_members.'),
    userColumn: columnName.default('user_id').describe('The column holding the auth user id (auth.users.id).'),
    orgColumn: columnName.default('org_id').describe('The column holding the org id.'),
  }),
  activeOrg: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('only').describe('A user in exactly one org gets it; a user in several gets no org claim.'),
      }),
      z.strictObject({
        kind: z.literal('first'),
        orderBy: columnName.describe('A user in several orgs gets the first by this membership column.'),
      }),
      z.strictObject({
        kind: z.literal('app-metadata'),
        key: identifierPart.describe(
          'The app_metadata key (set by your backend, not editable by users) naming the active org; used only when the user is a member of it, else the "only" rule.',
        ),
      }),
    ])
    .default({ kind: 'only' })
    .describe('Which org a user in several orgs gets.'),
  function: qualifiedName.default('public.tenant_migration_access_token_hook').describe('The hook function to create.'),
  markerClaim: identifierPart
    .default('tenant_org_source')
    .describe(
      'A claim the hook always sets (membership / none / ambiguous / error), telling "hook ran, no org" apart from an older token.',
    ),
  jwtExpirySeconds: z
    .number()
    .int()
    .min(30)
    .max(604_800)
    .default(3600)
    .describe('Supabase Auth JWT expiry: enforcement waits this long after the hook first ran.'),
});

export const specSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1),
  orgs: z.strictObject({ table: qualifiedName, idColumn: columnName.default('id') }),
  defaultOrgId: orgIdSchema.describe('The org given to rows with no mapping.'),
  mapping: z
    .strictObject({
      table: qualifiedName,
      keyColumn: keyColumns(
        'The mapping table\'s key column, or a list of columns for a composite key (["shop_id", "customer_no"]).',
      ),
      orgColumn: columnName,
    })
    .optional(),
  orgColumn: columnName.default('org_id').describe('The column the migration adds to every table.'),
  tables: z.array(tableSpecSchema).min(1, 'must list at least one table'),
  tenantCredentials: z.strictObject({ table: qualifiedName, from: qualifiedName }).optional(),
  sharedTables: z
    .array(qualifiedName)
    .default([])
    .describe(
      'Reference data every org reads (a catalog, a roles table): not migrated, no org column, readable by every tenant; left out of the isolation probes and listed in the report.',
    ),
  views: z
    .record(qualifiedName, z.literal('security_invoker'))
    .default({})
    .describe(
      'Views over tenant tables to switch to security_invoker as part of the migration (PostgreSQL 15+), e.g. {"public.customer_list": "security_invoker"}: the view then reads with the caller\'s rights, so the policies apply through it; tenant roles need SELECT on its base tables. Rollback puts back the view\'s options exactly. Not for materialized views.',
    ),
  uniques: z
    .record(qualifiedName, z.literal('per-org'))
    .default({})
    .describe(
      'UNIQUE constraints or unique indexes (schema-qualified index name) to make per org as part of the migration, e.g. {"public.customers_slug_key": "per-org"}: replaced by one that leads with the org column, built CONCURRENTLY. Rollback puts back the original.',
    ),
  tenantContext: tenantContextSchema,
  crossTenantRoles: z
    .array(roleName)
    .default([])
    .describe(
      'Roles that read across orgs (service roles, supabase_auth_admin, reporting roles): the isolation policy does not apply to them.',
    ),
  authHook: authHookSchema
    .optional()
    .describe('For tenantContext supabase-jwt: generate a Custom Access Token Hook that adds the org claim.'),
  script: z.string().min(1).default('scripts/migrate_to_multitenant.sql'),
  batchSize: z
    .number()
    .int()
    .min(100)
    .max(1_000_000)
    .default(5000)
    .describe('Rows in the first backfill batch; each batch commits.'),
  batchTargetMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(100)
    .describe(
      'How long each backfill batch should take (and so hold its row locks): after each batch the next is sized to it, at most twice the last.',
    ),
  lockTimeoutMs: z
    .number()
    .int()
    .min(10)
    .max(600_000)
    .default(100)
    .describe(
      'How long a statement that blocks the application (ACCESS EXCLUSIVE) may wait for its lock before it gives up and is retried (every application query on the table queues behind it meanwhile).',
    ),
  sessions: z
    .number()
    .int()
    .min(1)
    .max(8)
    .default(2)
    .describe(
      "Sessions the migration runs the tables' lanes on, side by side (each can keep one of the server's CPUs busy); 1 runs the script in its order on one session, as psql -f does.",
    ),
  tests: z
    .array(z.strictObject({ name: z.string().min(1), command: z.string().min(1), cwd: z.string().optional() }))
    .default([]),
  lint: lintSpecSchema.optional(),
});

export type SpecInput = z.input<typeof specSchema>;
export type Spec = z.output<typeof specSchema>;
export type TableSpec = z.output<typeof tableSpecSchema>;
export type TenantContext = z.output<typeof tenantContextSchema>;
export type AuthHookSpec = z.output<typeof authHookSchema>;
export type OrgFrom = TableSpec['orgFrom'];
