// Databases for the reliability suite: the legacy dataset seeded once into a template, then cloned per test
// (CREATE DATABASE … TEMPLATE copies it byte for byte, created_at included, in a fraction of a second), and the state
// an uninterrupted run reaches (the digests themselves are support/states.ts).
import crypto from 'node:crypto';
import pg from 'pg';
import { createDatabase, createTestDatabase, testServer, type TestDatabase } from '../../support/database';
import type { DatasetSize } from '../../fixtures/legacy-data';
import { legacyRows, migratedState } from './states';

/** Large enough that every backfill takes several batches of 100 rows, small enough for 20+ full runs. */
export const FAULT_DATASET: DatasetSize = { orgs: 6, users: 120, credentials: 1200, reports: 3600, layouts: 600 };

const templates = new Map<string, Promise<string>>();

// Registered while the test files load (a hook added while mocha runs is never run): drops the templates at the end.
// It connects to the server the templates were made on, never through testServer(): when the root hook has already
// stopped the server, testServer() would start a new one that nothing stops, and mocha would never exit.
let templateServer: string | undefined;
after(async () => {
  const names = (await Promise.all([...templates.values()].map((t) => t.catch(() => undefined)))).filter(
    (n): n is string => !!n,
  );
  templates.clear();
  if (!templateServer || names.length === 0) return;
  const admin = new pg.Client({ connectionString: templateServer, connectionTimeoutMillis: 2000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch {
    // The server is already stopped: its data folder, templates included, is gone with it.
  } finally {
    await admin.end().catch(() => undefined);
  }
});

/** A seeded database used only as a template (nobody stays connected to it), made once per size and label. */
export function templateDatabase(
  size: DatasetSize,
  prepare?: (client: pg.Client) => Promise<unknown>,
  label = '',
): Promise<string> {
  const key = `${JSON.stringify(size)}${label}`;
  let t = templates.get(key);
  if (!t) {
    t = (async () => {
      templateServer = (await testServer()).adminUrl;
      const name = `tm_rel_tpl_${crypto.randomBytes(4).toString('hex')}`;
      await createDatabase(name, {
        seed: size,
        prepare: async (client) => {
          await prepare?.(client);
          await client.query('VACUUM ANALYZE');
        },
      });
      return name;
    })();
    templates.set(key, t);
  }
  return t;
}

/** A fresh copy of a template, with a superuser client for arranging and asserting. */
export function cloneDatabase(template: string): Promise<TestDatabase> {
  return createTestDatabase({ template, prefix: 'tm_rel' });
}

/** Waits until a backend has left the server (a dropped client's backend may still be finishing its statement). */
export async function waitForBackendGone(client: pg.ClientBase, pid: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (rows.length === 0) return;
    if (Date.now() > until) throw new Error(`backend ${pid} is still there after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Reference {
  /** The legacy rows before the migration. */
  readonly original: Awaited<ReturnType<typeof legacyRows>>;
  /** The state an uninterrupted run leaves. */
  readonly state: Record<string, unknown>;
  readonly events: import('../../../src/engine/events').EngineEvent[];
}

const references = new Map<string, Promise<Reference>>();

/** An uninterrupted `run` on a clone of the template (once per template and spec): what every faulted run must reach. */
export function referenceRun(template: string, spec: Record<string, unknown>): Promise<Reference> {
  const key = `${template} ${JSON.stringify(spec)}`;
  let r = references.get(key);
  if (!r) {
    r = (async () => {
      const { makeWorkspace, withMigration } = await import('../../support/migration-helpers');
      const db = await cloneDatabase(template);
      try {
        const original = await legacyRows(db.client);
        const events: import('../../../src/engine/events').EngineEvent[] = [];
        const result = await withMigration(db.url, makeWorkspace(spec), (m) => m.runAll(), events);
        if (!result.ok) throw new Error(`the uninterrupted reference run failed: ${result.error?.oneLine}`);
        return { original, state: await migratedState(db.client), events };
      } finally {
        await db.drop();
      }
    })();
    references.set(key, r);
  }
  return r;
}

/** A client of its own to `url`, its connection errors ignored (a restart or a drop cuts it on purpose). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
