// The PostgreSQL behind the VS Code tests: the embedded server (or TEST_DATABASE_URL's), a seeded template of the
// legacy dataset, and fresh copies of it (CREATE DATABASE … TEMPLATE). Used by run-all.mjs and the demo.
import pg from 'pg';
import { testServer, stopTestServer } from '../support/database';
import { createLegacySchema, seedLegacyData, legacySpec, SMALL, type DatasetSize } from '../fixtures/legacy-data';

export { legacySpec, SMALL };

/** For the in-host run: enough batches that the checklist shows the backfill's progress. */
export const MEDIUM: DatasetSize = { orgs: 8, users: 2_000, credentials: 20_000, reports: 40_000, layouts: 4_000 };

/** Big enough that a backfill takes a few seconds (the screenshots catch it running), small enough to seed fast. */
export const UI_SIZE: DatasetSize = { orgs: 12, users: 5_000, credentials: 60_000, reports: 160_000, layouts: 10_000 };

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client((await testServer()).adminUrl);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function adminUrl(): Promise<string> {
  return (await testServer()).adminUrl;
}

export async function urlFor(database: string): Promise<string> {
  return (await testServer()).urlFor(database);
}

/** A database with the legacy schema and data of the given size. */
export async function seeded(name: string, size: DatasetSize = SMALL): Promise<string> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const client = new pg.Client(await urlFor(name));
  client.on('error', () => undefined);
  await client.connect();
  try {
    await createLegacySchema(client);
    await seedLegacyData(client, size);
  } finally {
    await client.end();
  }
  return name;
}

export async function copyOf(template: string, name: string): Promise<string> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return name;
}

export async function sessionsOf(database: string): Promise<number> {
  return admin(async (c) => {
    await c.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const { rows } = await c.query<{ n: string }>('SELECT coalesce(sessions, 0)::text AS n FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0]?.n ?? 0);
  });
}

export async function query<R extends pg.QueryResultRow>(database: string, text: string, values?: unknown[]): Promise<R[]> {
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
