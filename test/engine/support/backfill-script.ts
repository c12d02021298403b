// Shared by the backfill-group tests: the script generated with given group limits, and run through the engine's
// runner on a session of its own (returning its backend pid, so that a test can kill it part-way).
import fs from 'node:fs';
import { Session } from '../../../src/engine/db/session';
import { runScript } from '../../../src/engine/execute/runner';
import { resolveModel } from '../../../src/engine/model';
import { generateScript } from '../../../src/engine/script/generate';
import { resolveSpec } from '../../../src/engine/migration-spec/load';
import { ensureStateSchema } from '../../../src/engine/state';
import type { EngineEvent } from '../../../src/engine/events';
import type { Workspace } from '../../support/migration-helpers';

export async function scriptFor(
  url: string,
  ws: Workspace,
  groups: { minGroupBytes: number; maxGroups: number },
): Promise<string> {
  const spec = resolveSpec(JSON.parse(fs.readFileSync(ws.specFile, 'utf8')), ws.specFile);
  const session = await Session.open(url, {});
  try {
    return generateScript(await resolveModel(session, spec), { backfillGroups: groups });
  } finally {
    await session.close();
  }
}

export async function runBackfillScript(
  url: string,
  text: string,
  onEvent: (e: EngineEvent) => void = () => {},
): Promise<{ pid: number; done: Promise<void> }> {
  const session = await Session.open(url, {});
  await session.query('SET row_security = off');
  await ensureStateSchema(session);
  const done = runScript(text, { session, step: 'migrate', onEvent })
    .then(() => undefined)
    .finally(() => session.close().catch(() => undefined));
  return { pid: session.pid, done };
}
