// What refuses a writing step before anything is written: a missing default org, a conflicting mapping, a schema shape.
import type { Session } from './db/session';
import { refused } from './errors';
import type { GapReport } from './gaps';
import { assertDefaultOrgExists, type MigrationModel } from './model';
import { assertMigratableShapes } from './shapes';

export async function assertCanWrite(
  session: Session,
  model: MigrationModel,
  gaps: () => Promise<GapReport>,
): Promise<void> {
  await assertDefaultOrgExists(session, model);
  await assertMigratableShapes(session, model);
  const blocking = (await gaps()).findings.filter((f) => f.blocking);
  if (blocking.length === 0) return;
  throw refused(
    `Conflicting mapping: ${blocking.map((f) => `${f.table}: ${f.message}`).join('; ')}`,
    `Resolve the rows named (${blocking.flatMap((f) => f.samples.slice(0, 3).map((s) => `${s.key}${s.detail ? ` ${s.detail}` : ''}`)).join('; ')}), then run again. "tenant-migrate plan" lists them all.`,
    blocking.flatMap((f) => f.samples.map((s) => `${f.table} ${s.key} ${s.detail ?? ''}`.trim())),
  );
}
