// Step 1: the plan — every statement of the script with its phase, the tables it touches, the locks it takes.
import type { ExecutionUnit } from './execute/units';
import type { GapReport } from './gaps';
import type { DiskEstimate } from './disk-estimate';
import type { MigrationModel } from './model';
import type { AccessRole } from './roles';
import { displayName } from './db/sql';
import { describeLocks, type LockInfo, type ParseSync } from './script/locks';
import type { ShapeFinding } from './shapes';
import { NAME_PREFIX } from './script/sections/common';

export interface PlannedStatement {
  readonly line: number;
  /** What it does, from the "-- does:" line above it in the script (what the script's generator named it). */
  readonly name?: string;
  readonly phase?: string;
  readonly sql: string;
  readonly locks: LockInfo[];
}

export interface TableEstimate {
  readonly table: string;
  readonly estimatedRows: number;
  readonly totalBytes: number;
}

export interface Plan {
  readonly scriptPath: string;
  readonly scriptExists: boolean;
  readonly statements: PlannedStatement[];
  readonly tables: TableEstimate[];
  readonly gaps: GapReport;
  /** Roles that reach the migrated tables; those not cross-tenant are held to their org once enforced. */
  readonly accessRoles?: AccessRole[];
  /** Objects the migration refuses (blocking) or that the operator must know about: inheritance, publications, views … */
  readonly shapes: ShapeFinding[];
  /** What the run will write to the server's disk, against its free space. */
  readonly disk?: DiskEstimate;
}

export function buildPlan(
  parseSync: ParseSync,
  model: MigrationModel,
  script: { text: string; units: ExecutionUnit[] },
  gaps: GapReport,
  shapes: ShapeFinding[],
  scriptExists: boolean,
): Plan {
  const statements: PlannedStatement[] = [];
  const lines = script.text.split('\n');
  const nameAbove = (line: number) => {
    const above = lines[line - 2]?.trim();
    return above?.startsWith(NAME_PREFIX) ? above.slice(NAME_PREFIX.length).trim() : undefined;
  };
  for (const unit of script.units) {
    if (unit.meta) {
      statements.push({ line: unit.meta.line, phase: unit.phase, sql: unit.meta.text, locks: [] });
      continue;
    }
    for (const s of unit.statements)
      statements.push({
        line: s.line,
        name: nameAbove(s.line),
        phase: unit.phase,
        sql: s.text,
        locks: describeLocks(parseSync, s.text, model, unit.phase),
      });
  }
  return {
    scriptPath: model.loaded.scriptPath,
    scriptExists,
    statements,
    tables: model.tables.map((t) => ({
      table: displayName(t.name),
      estimatedRows: t.info.estimatedRows,
      totalBytes: t.info.totalBytes,
    })),
    gaps,
    shapes,
  };
}
