// Runs the engine the way the CLI does, against a test database, collecting events.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { resolveSpec } from '../../src/engine/migration-spec/load';
import { Migration } from '../../src/engine/migration';
import type { EngineEvent } from '../../src/engine/events';
import { legacySpec } from '../fixtures/legacy-data';
import { createTestDatabase, type TestDatabase } from './database';

export interface Workspace {
  folder: string;
  specFile: string;
}

export function makeWorkspace(overrides: Record<string, unknown> = {}): Workspace {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-ws-'));
  const specFile = path.join(folder, 'tenant-migration.json');
  fs.writeFileSync(specFile, JSON.stringify(legacySpec(overrides), null, 2));
  return { folder, specFile };
}

export async function openMigration(
  url: string,
  ws: Workspace,
  events: EngineEvent[] = [],
  signal?: AbortSignal,
): Promise<Migration> {
  const spec = resolveSpec(JSON.parse(fs.readFileSync(ws.specFile, 'utf8')), ws.specFile);
  return Migration.connect({ database: url, spec, onEvent: (e) => events.push(e), signal });
}

export async function withMigration<T>(
  url: string,
  ws: Workspace,
  body: (m: Migration) => Promise<T>,
  events: EngineEvent[] = [],
): Promise<T> {
  const m = await openMigration(url, ws, events);
  try {
    return await body(m);
  } finally {
    await m.close();
  }
}

/** prerequisites → backup → migrate → validate → isolation, failing on the first failed step. */
export async function migrateFully(url: string, ws: Workspace): Promise<void> {
  const result = await withMigration(url, ws, (m) => m.runAll());
  if (!result.ok)
    throw new Error(
      `run failed: ${result.error?.oneLine}\n${JSON.stringify(
        result.steps.filter((s) => s.status === 'failed').map((s) => s.checks.filter((c) => !c.ok)),
        null,
        1,
      )}`,
    );
}

/**
 * The workspace's migration script run as a DBA would (psql -X -v ON_ERROR_STOP=1 -f) on a fresh legacy database that
 * `setup` shapes like the migrated one; `inspect` reads the result before that database is dropped.
 */
export async function scriptUnderPsql<T>(
  ws: Workspace,
  setup: string,
  inspect: (twin: TestDatabase) => Promise<T>,
): Promise<T> {
  const twin = await createTestDatabase();
  try {
    await twin.client.query(setup);
    const r = spawnSync(
      'psql',
      [
        twin.url,
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-f',
        path.join(ws.folder, 'scripts', 'migrate_to_multitenant.sql'),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`psql -f failed (${r.status}): ${r.stderr}`);
    return await inspect(twin);
  } finally {
    await twin.drop();
  }
}

/**
 * An application writing in a loop on its own connection until stopped: `write` is one round (its number given);
 * every error is kept, none stops the loop.
 */
export function writeInLoop(url: string, write: (client: pg.Client, round: number) => Promise<unknown>) {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  let stop = false;
  let writes = 0;
  const failures: string[] = [];
  const done = (async () => {
    await client.connect();
    while (!stop) {
      try {
        await write(client, writes);
        writes++;
      } catch (e) {
        failures.push((e as Error).message);
        await client.query('ROLLBACK').catch(() => undefined);
      }
    }
    await client.end();
  })();
  return {
    stop: async () => {
      stop = true;
      await done;
      return { failures, writes };
    },
  };
}

/**
 * A legacy application's login role on `db`: neither owner nor superuser, no BYPASSRLS, granted `grants` (SQL after
 * GRANT, e.g. "SELECT, INSERT ON reports"); its URL, and `drop` to remove it (roles outlive databases).
 */
export async function legacyAppRole(
  db: TestDatabase,
  grants: string[],
): Promise<{ url: string; drop: () => Promise<void> }> {
  const role = `tm_app_${db.name.slice(-10)}`;
  await db.client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app-pw' NOSUPERUSER NOBYPASSRLS;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role};
    ${grants.map((g) => `GRANT ${g} TO ${role};`).join('\n')}`);
  const url = new URL(db.url);
  url.username = role;
  url.password = 'app-pw';
  return {
    url: url.toString(),
    drop: () => db.client.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).then(() => undefined),
  };
}

/** A full run (migrateFully) while the application at `appUrl` writes; asserts it wrote during the run, and saw no error. */
export async function migrateWhileWriting(
  url: string,
  ws: Workspace,
  appUrl: string,
  write: (client: pg.Client, round: number) => Promise<unknown>,
): Promise<void> {
  const writer = writeInLoop(appUrl, write);
  const run = await migrateFully(url, ws).then(
    () => undefined,
    (e: unknown) => e,
  );
  const { failures, writes } = await writer.stop();
  if (run) throw run;
  assert.deepEqual(failures, [], 'the legacy application saw errors');
  assert.ok(writes > 0, 'the application wrote nothing while the migration ran');
}
