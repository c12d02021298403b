// The application as PostgREST runs a request, and what a rollback must leave as it found it.
import type pg from 'pg';

/** In one transaction as the authenticated role (not owner, no BYPASSRLS) with the org claim; committed. */
export async function asTenant<T>(client: pg.Client, orgId: string, body: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL ROLE authenticated');
    await client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: 'app', org_id: orgId, role: 'authenticated' }),
    ]);
    const result = await body();
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}

/** A database digest (support/cli.ts) without the tool's state schema: rollback keeps its records and backups there. */
export const outsideState = (digest: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(digest).map(([key, value]) => [
      key,
      Array.isArray(value)
        ? value.filter((x) => !JSON.stringify(x).includes('tenant_migration'))
        : Object.fromEntries(
            Object.entries(value as Record<string, unknown>).filter(([name]) => !name.startsWith('tenant_migration.')),
          ),
    ]),
  );
