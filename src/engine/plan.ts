// Step 1: the plan — every statement of the script with its phase, the tables it touches, the locks it takes.
import type { ExecutionUnit } from './execute/units';
import type { SqlStatement } from './script/parse';
import type { GapReport } from './gaps';
import type { DiskEstimate } from './disk-estimate';
import type { MigrationModel } from './model';
import type { AccessRole } from './roles';
import { displayName } from './db/sql';
import { describeLocks, type LockInfo, type ParseSync } from './script/locks';
import type { ShapeFinding } from './shapes';
import { NAME_PREFIX } from './script/sections/common';
import { mapInSlices } from './slices';

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

/** Every statement of the script with what it locks (the same for the first answer and the exact one). */
export function plannedStatements(
  parseSync: ParseSync,
  model: MigrationModel,
  script: { text: string; units: ExecutionUnit[] },
): Promise<PlannedStatement[]> {
  const lines = script.text.split('\n');
  const nameAbove = (line: number) => {
    const above = lines[line - 2]?.trim();
    return above?.startsWith(NAME_PREFIX) ? above.slice(NAME_PREFIX.length).trim() : undefined;
  };
  const rows = script.units.flatMap((unit) => (unit.meta ? [{ unit }] : unit.statements.map((s) => ({ unit, s }))));
  return mapInSlices(rows, ({ unit, s }: { unit: ExecutionUnit; s?: SqlStatement }): PlannedStatement => {
    if (!s) return { line: unit.meta!.line, phase: unit.phase, sql: unit.meta!.text, locks: [] };
    return {
      line: s.line,
      name: nameAbove(s.line),
      phase: unit.phase,
      sql: s.text,
      locks: describeLocks(parseSync, s.text, model, unit.phase),
    };
  });
}

export function buildPlan(
  model: MigrationModel,
  script: { statements: PlannedStatement[]; exists: boolean },
  gaps: GapReport,
  shapes: ShapeFinding[],
): Plan {
  return {
    scriptPath: model.loaded.scriptPath,
    scriptExists: script.exists,
    statements: script.statements,
    tables: model.tables.map((t) => ({
      table: displayName(t.name),
      estimatedRows: t.info.estimatedRows,
      totalBytes: t.info.totalBytes,
    })),
    gaps,
    shapes,
  };
}
