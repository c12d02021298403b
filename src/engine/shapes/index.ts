// The shape check: every object of the schema the migration cannot handle, found before anything is written.
import type { Session } from '../db/session';
import { refused } from '../errors';
import type { CheckResult } from '../events';
import type { MigrationModel } from '../model';
import type { ShapeDetector, ShapeFinding } from './finding';
import { inheritance } from './inheritance';
import { partitionOwners } from './partition-owner';
import { existingOrgColumn } from './org-column';
import { roleMemberships } from './memberships';
import { unprovableTables } from './probe-rows';
import { readers } from './readers';
import { publications } from './replication';
import { replicaTriggers } from './triggers';
import { sameNamedObjects } from './same-named';
import { sharedAndUnplaced } from './shared';
import { globalUniques } from './unique';
import { unmigratedParents } from './unmigrated-parents';

export type { ShapeFinding } from './finding';

const DETECTORS: ShapeDetector[] = [
  inheritance,
  partitionOwners,
  publications,
  existingOrgColumn,
  sameNamedObjects,
  replicaTriggers,
  globalUniques,
  readers,
  sharedAndUnplaced,
  unmigratedParents,
  roleMemberships,
  unprovableTables,
];

export async function findShapes(session: Session, model: MigrationModel): Promise<ShapeFinding[]> {
  const findings: ShapeFinding[] = [];
  for (const detect of DETECTORS) findings.push(...(await detect(session, model)));
  return findings;
}

const describe = (f: ShapeFinding) => `${f.message}${f.fix ? `. Fix: ${f.fix}` : ''}`;

/** The prerequisites' view: a failed check per refused shape, a warning per shape the operator must know about. */
export function shapeChecks(findings: ShapeFinding[]): CheckResult[] {
  const refusedOnes = findings.filter((f) => f.blocking);
  const checks: CheckResult[] = refusedOnes.map((f) => ({
    name: `Shape: ${f.object}`,
    ok: false,
    detail: describe(f),
    severity: 'error',
  }));
  for (const f of findings.filter((x) => !x.blocking && x.fix))
    checks.push({ name: `Shape: ${f.object}`, ok: false, detail: describe(f), severity: 'warning' });
  if (refusedOnes.length === 0)
    checks.push({
      name: 'Schema shapes',
      ok: true,
      detail: 'no inheritance, partition owner, replica identity, org column or trigger the migration cannot handle',
    });
  return checks;
}

/** Refuses a writing command, before it writes anything (even its state schema), when a shape cannot be migrated. */
export async function assertMigratableShapes(session: Session, model: MigrationModel): Promise<void> {
  const blocking = (await findShapes(session, model)).filter((f) => f.blocking);
  if (blocking.length === 0) return;
  throw refused(
    `The schema has ${blocking.length === 1 ? 'a shape' : `${blocking.length} shapes`} the migration cannot handle: ${blocking.map((f) => f.message).join('; ')}`,
    `Nothing was changed. ${blocking.map((f) => f.fix).join(' ')} Then run again ("tenant-migrate plan" lists them all).`,
    blocking.map(describe),
  );
}
