// The PostgreSQL behind the VS Code tests: the embedded server (or TEST_DATABASE_URL's), a seeded template of the
// legacy dataset, and fresh copies of it (CREATE DATABASE … TEMPLATE). Used by run-all.mjs and the demo.
import pg from 'pg';
import { createDatabase, testServer, stopTestServer, withAdmin } from '../support/database';
import { legacySpec, SMALL, type DatasetSize } from '../fixtures/legacy-data';

export { legacySpec, SMALL };

/** For the in-host run: enough batches that the checklist shows the backfill's progress. */
export const MEDIUM: DatasetSize = { orgs: 8, users: 2_000, credentials: 20_000, reports: 40_000, layouts: 4_000 };

/** Big enough that a backfill takes a few seconds (the screenshots catch it running), small enough to seed fast. */
export const UI_SIZE: DatasetSize = { orgs: 12, users: 5_000, credentials: 60_000, reports: 160_000, layouts: 10_000 };

export async function adminUrl(): Promise<string> {
  return (await testServer()).adminUrl;
}

export async function urlFor(database: string): Promise<string> {
  return (await testServer()).urlFor(database);
}

/** A database with the legacy schema and data of the given size (replacing one of that name). */
export async function seeded(name: string, size: DatasetSize = SMALL): Promise<string> {
  await createDatabase(name, { seed: size });
  return name;
}

/** A copy of a template (replacing a database of that name). */
export async function copyOf(template: string, name: string): Promise<string> {
  await createDatabase(name, { template });
  return name;
}

export async function sessionsOf(database: string): Promise<number> {
  return withAdmin(async (c) => {
    await c.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const { rows } = await c.query<{ n: string }>(
      'SELECT coalesce(sessions, 0)::text AS n FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(rows[0]?.n ?? 0);
  });
}

export async function query<R extends pg.QueryResultRow>(
  database: string,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client(await urlFor(database));
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export function stop(): Promise<void> {
  return stopTestServer();
}
