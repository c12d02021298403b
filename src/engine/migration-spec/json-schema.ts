// The spec's JSON Schema, for VS Code's jsonValidation and any editor: generated from the zod schema.
import { z } from 'zod';
import { specSchema } from './schema';

export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://tenant-migration.dev/schemas/tenant-migration.schema.json',
    title: 'Tenant Migration spec (tenant-migration.json)',
    description:
      'How to migrate a PostgreSQL/Supabase database to a multi-tenant schema: the tables, how each row gets its org, and the tenant context.',
    allowComments: true,
    allowTrailingCommas: true,
  };
}
