// Gives each test a fresh database on a real PostgreSQL: the embedded server (TEST_PG_MAJOR=15|17, default 17)
// or the server behind TEST_DATABASE_URL. Nothing is mocked and nothing is skipped for want of a server.
import crypto from 'node:crypto';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer, type PgMajor } from './embedded-server';
import { createLegacySchema, seedLegacyData, SMALL, type DatasetSize } from '../fixtures/legacy-data';
import { definerRoleOf } from '../../src/engine/names';
import { quoteIdent } from '../../src/engine/db/sql';

interface Server {
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

let server: Promise<Server> | undefined;

function fromUrl(url: string): Server {
  const base = new URL(url);
  return {
    adminUrl: url,
    urlFor: (database) => {
      const u = new URL(base.toString());
      u.pathname = `/${encodeURIComponent(database)}`;
      return u.toString();
    },
    stop: async () => {},
  };
}

export function testServer(): Promise<Server> {
  server ??= process.env.TEST_DATABASE_URL
    ? Promise.resolve(fromUrl(process.env.TEST_DATABASE_URL))
    : (startEmbeddedServer(Number(process.env.TEST_PG_MAJOR ?? 17) as PgMajor) as Promise<EmbeddedServer>);
  return server;
}

export async function stopTestServer(): Promise<void> {
  if (server) await (await server).stop();
  server = undefined;
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A superuser client for arranging and asserting; closed by drop(). */
  readonly client: pg.Client;
  drop(): Promise<void>;
}

/** Runs `body` on a superuser connection to the server's maintenance database. */
export async function withAdmin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client((await testServer()).adminUrl);
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    return await body(admin);
  } finally {
    await admin.end();
  }
}

export function adminQuery(text: string, values?: unknown[]): Promise<pg.QueryResult> {
  return withAdmin((admin) => admin.query(text, values));
}

/** The name of a database's definer role (names.ts), as the server computes it. */
export async function definerRoleName(database: string): Promise<string> {
  return (await adminQuery(`SELECT ${definerRoleOf('$1::name')} AS role`, [database])).rows[0].role as string;
}

/** Drops a database and the definer role a migration created for it (roles outlive databases). */
export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`DROP ROLE IF EXISTS ${quoteIdent(await definerRoleName(name))}`);
}

/** Where a new database comes from: a copy of a template (byte for byte, in a fraction of a second), or seeded. */
export type DatabaseSource =
  | { readonly template: string }
  | { readonly seed: DatasetSize | false; readonly prepare?: (client: pg.Client) => Promise<unknown> };

/**
 * The one way the tests make a database: `name` (replacing a database of that name) as a copy of a template or with
 * the legacy schema and data of a size (then `prepare`). Returns its URL.
 */
export async function createDatabase(name: string, source: DatabaseSource): Promise<string> {
  const srv = await testServer();
  await dropDatabase(name);
  await adminQuery(
    'template' in source ? `CREATE DATABASE "${name}" TEMPLATE "${source.template}"` : `CREATE DATABASE "${name}"`,
  );
  const url = srv.urlFor(name);
  if ('seed' in source && (source.seed !== false || source.prepare)) {
    const client = new pg.Client(url);
    client.on('error', () => undefined);
    await client.connect();
    try {
      if (source.seed !== false) {
        await createLegacySchema(client);
        await seedLegacyData(client, source.seed);
      }
      await source.prepare?.(client);
    } finally {
      await client.end();
    }
  }
  return url;
}

/** A fresh database of this test's own (seeded with the small legacy dataset unless told), with a superuser client. */
export async function createTestDatabase(
  options: { seed?: DatasetSize | false; template?: string; prefix?: string } = {},
): Promise<TestDatabase> {
  const name = `${options.prefix ?? 'tm_test'}_${crypto.randomBytes(5).toString('hex')}`;
  const url = await createDatabase(
    name,
    options.template ? { template: options.template } : { seed: options.seed ?? SMALL },
  );
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  await client.connect();
  return {
    name,
    url,
    client,
    drop: async () => {
      await client.end().catch(() => undefined);
      await dropDatabase(name);
    },
  };
}
