// Runs the engine the way the CLI does, against a test database, collecting events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveSpec } from '../../src/engine/migration-spec/load';
import { Migration } from '../../src/engine/migration';
import type { EngineEvent } from '../../src/engine/events';
import { legacySpec } from '../fixtures/legacy-data';

export interface Workspace { folder: string; specFile: string }

export function makeWorkspace(overrides: Record<string, unknown> = {}): Workspace {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-ws-'));
  const specFile = path.join(folder, 'tenant-migration.json');
  fs.writeFileSync(specFile, JSON.stringify(legacySpec(overrides), null, 2));
  return { folder, specFile };
}

export async function openMigration(url: string, ws: Workspace, events: EngineEvent[] = [], signal?: AbortSignal): Promise<Migration> {
  const spec = resolveSpec(JSON.parse(fs.readFileSync(ws.specFile, 'utf8')), ws.specFile);
  return Migration.connect({ database: url, spec, onEvent: (e) => events.push(e), signal });
}

export async function withMigration<T>(url: string, ws: Workspace, body: (m: Migration) => Promise<T>, events: EngineEvent[] = []): Promise<T> {
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
  if (!result.ok) throw new Error(`run failed: ${result.error?.oneLine}\n${JSON.stringify(result.steps.filter((s) => s.status === 'failed').map((s) => s.checks.filter((c) => !c.ok)), null, 1)}`);
}
