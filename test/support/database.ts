// Gives each test a fresh database on a real PostgreSQL: the embedded server (TEST_PG_MAJOR=15|17, default 17)
// or the server behind TEST_DATABASE_URL. Nothing is mocked and nothing is skipped for want of a server.
import crypto from 'node:crypto';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer, type PgMajor } from './embedded-server';
import { createLegacySchema, seedLegacyData, SMALL, type DatasetSize } from '../fixtures/legacy-data';
import { definerRoleOf } from '../../src/engine/names';
import { quoteIdent } from '../../src/engine/db/sql';

interface Server { adminUrl: string; urlFor(database: string): string; stop(): Promise<void> }

let server: Promise<Server> | undefined;

function fromUrl(url: string): Server {
  const base = new URL(url);
  return {
    adminUrl: url,
    urlFor: (database) => { const u = new URL(base.toString()); u.pathname = `/${encodeURIComponent(database)}`; return u.toString(); },
    stop: async () => {},
  };
}

export function testServer(): Promise<Server> {
  server ??= process.env.TEST_DATABASE_URL
    ? Promise.resolve(fromUrl(process.env.TEST_DATABASE_URL))
    : startEmbeddedServer(Number(process.env.TEST_PG_MAJOR ?? 17) as PgMajor) as Promise<EmbeddedServer>;
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

export async function adminQuery(text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const admin = new pg.Client((await testServer()).adminUrl);
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    return await admin.query(text, values);
  } finally {
    await admin.end();
  }
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

export async function createTestDatabase(options: { seed?: DatasetSize | false } = {}): Promise<TestDatabase> {
  const srv = await testServer();
  const name = `tm_test_${crypto.randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = srv.urlFor(name);
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  await client.connect();
  if (options.seed !== false) {
    await createLegacySchema(client);
    await seedLegacyData(client, options.seed ?? SMALL);
  }
  return {
    name, url, client,
    drop: async () => {
      await client.end().catch(() => undefined);
      await dropDatabase(name);
    },
  };
}
