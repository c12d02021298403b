// The legacy dataset, built once per run into a template database; every scenario gets a fresh copy of it.
import pg from 'pg';
import { BENCH, createLegacySchema, seedLegacyData, type DatasetSize } from '../test/fixtures/legacy-data';

export function scaledSize(scale: number): DatasetSize {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  return {
    orgs: BENCH.orgs,
    users: Math.max(1000, n(BENCH.users)),
    credentials: n(BENCH.credentials),
    reports: n(BENCH.reports),
    layouts: n(BENCH.layouts),
  };
}

export interface Server {
  readonly adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export async function admin<T>(
  server: Server,
  body: (client: pg.Client) => Promise<T>,
  database = 'postgres',
): Promise<T> {
  const client = new pg.Client({ connectionString: server.urlFor(database), application_name: 'bench-runner' });
  client.on('error', () => {
    /* surfaces as the next query's error */
  });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface Template {
  readonly name: string;
  readonly size: DatasetSize;
  readonly bytes: number;
  readonly buildMs: number;
  readonly reused: boolean;
}

/** Builds (or, on a server kept between runs, reuses) the template database for a dataset size. */
export async function buildTemplate(server: Server, size: DatasetSize): Promise<Template> {
  const name = `bench_tpl_${size.credentials}_${size.reports}_${size.layouts}`;
  const started = performance.now();
  const exists = await admin(
    server,
    async (c) =>
      (
        await c.query(
          `SELECT shobj_description(oid, 'pg_database') = 'complete' AS ok FROM pg_database WHERE datname = $1`,
          [name],
        )
      ).rows[0]?.ok === true,
  );
  if (!exists) {
    await admin(server, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.query(`CREATE DATABASE ${name}`);
    });
    await admin(
      server,
      async (c) => {
        await createLegacySchema(c);
        await seedLegacyData(c, size);
        // A settled production database: vacuumed (visibility map and hint bits set), statistics current.
        await c.query('VACUUM (ANALYZE)');
      },
      name,
    );
    await admin(server, (c) => c.query(`COMMENT ON DATABASE ${name} IS 'complete'`));
  }
  const bytes = await admin(server, async (c) =>
    Number((await c.query(`SELECT pg_database_size($1) AS b`, [name])).rows[0].b),
  );
  return { name, size, bytes, buildMs: performance.now() - started, reused: exists };
}

export async function copyOf(server: Server, template: Template, name: string): Promise<string> {
  await admin(server, async (c) => {
    const version = Number((await c.query('SHOW server_version_num')).rows[0].server_version_num);
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(
      `CREATE DATABASE ${name} TEMPLATE ${template.name}${version >= 150000 ? ' STRATEGY = FILE_COPY' : ''}`,
    );
    // Start every scenario from the same place: nothing dirty left to write from the previous one.
    await c.query('CHECKPOINT');
  });
  return server.urlFor(name);
}

export async function dropDatabase(server: Server, name: string): Promise<void> {
  await admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
