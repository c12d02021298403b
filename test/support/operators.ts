// Databases set up as on Supabase: the operator is not a superuser (CREATEROLE, BYPASSRLS), owns the database and the
// tables, and the API roles get every new table by default privileges.
import pg from 'pg';
import { adminQuery, createTestDatabase, type TestDatabase } from './database';

export async function connectAs(db: TestDatabase, user: string, password: string): Promise<pg.Client> {
  const url = new URL(db.url);
  url.username = user;
  url.password = password;
  const client = new pg.Client(url.toString());
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A fresh seeded database whose operator is `operator` (created once per cluster, LOGIN with `password`). */
export async function operatorDatabase(
  operator: string,
  password: string,
): Promise<{ db: TestDatabase; operatorUrl: string }> {
  await adminQuery(
    `DO $$ BEGIN IF to_regrole('${operator}') IS NULL THEN CREATE ROLE ${operator} LOGIN PASSWORD '${password}' CREATEROLE BYPASSRLS; END IF; END $$`,
  );
  const db = await createTestDatabase();
  await db.client.query(`ALTER DATABASE "${db.name}" OWNER TO ${operator}`);
  await db.client.query(`DO $$ DECLARE t record; BEGIN
    FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' LOOP
      EXECUTE format('ALTER TABLE public.%I OWNER TO ${operator}', t.relname);
    END LOOP; END $$`);
  await db.client.query(`ALTER FUNCTION touch_updated_at() OWNER TO ${operator}`);
  await db.client.query(`GRANT SET ON PARAMETER session_replication_role TO ${operator}`); // as Supabase grants postgres
  await db.client.query(`GRANT anon, authenticated, service_role TO ${operator}`);
  // Common on Supabase: every new table the operator creates is granted to the API roles.
  await db.client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${operator} GRANT ALL ON TABLES TO anon, authenticated`);
  await db.client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${operator} GRANT ALL ON FUNCTIONS TO anon, authenticated`);
  const url = new URL(db.url);
  url.username = operator;
  url.password = password;
  return { db, operatorUrl: url.toString() };
}
