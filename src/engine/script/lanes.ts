// Lanes: the tables' blocks of the script that may run beside each other on two sessions.
import type { MigrationModel, TableModel } from '../model';
import { sameTable } from '../introspect';
import { displayName, type QualifiedName } from '../db/sql';
import { heapTablesOf } from './sections/partitions';

/**
 * `-- @tenant-migration lane=2 after=0` before a block: the statements down to the next marker belong to lane 2 (one
 * table), run in their order, and start only when every statement above them in lane 2, in lane 0 and outside any lane
 * is done. Statements outside a lane (before the first marker of a step, or after `lane=none`) run alone. psql -f reads
 * the markers as comments and runs everything in order, which satisfies all of them.
 */
export const LANE_MARKER = '-- @tenant-migration lane=';

export interface Lane {
  readonly id: number;
  readonly after: readonly number[];
}

/** The marker line, with the tables' names for the reader (control characters of odd names left out). */
export function laneMarker(lane: Lane | 'none', label: string): string {
  const plain = label.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (lane === 'none') return `${LANE_MARKER}none (${plain}: runs alone)`;
  return `${LANE_MARKER}${lane.id}${lane.after.length ? ` after=${lane.after.join(',')}` : ''} (${plain})`;
}

/** What follows LANE_MARKER on its line: a lane, `none`, or undefined when it is not a marker this runner reads. */
export function parseLaneMarker(rest: string): Lane | 'none' | undefined {
  const match = /^(none|\d+)(?: after=(\d+(?:,\d+)*))?(?:\s|$)/.exec(rest);
  if (!match) return undefined;
  if (match[1] === 'none') return 'none';
  return { id: Number(match[1]), after: match[2] ? match[2].split(',').map(Number) : [] };
}

/** The lane of the model's table `index`: after its parent's (when the parent is migrated too) if `waitsForParent`. */
export function tableLane(
  m: MigrationModel,
  index: number,
  waitsForParent: boolean,
  parentLanes = (i: number) => [i],
): Lane {
  const t = m.tables[index]!;
  const rule = t.rule;
  const parent =
    waitsForParent && rule.kind === 'parent' && rule.parentMigrated
      ? m.tables.findIndex((p) => sameTable(p.name, rule.parent))
      : -1;
  return { id: index, after: parent >= 0 ? parentLanes(parent) : [] };
}

/**
 * The lanes of each table's heaps in a step done heap by heap (the backfill, the rebuild): a plain table's one lane
 * is its own (`index`); a partitioned table's first leaf partition takes the table's, each other leaf one numbered
 * after the ledger's (m.tables.length), so that its partitions run side by side.
 */
export function heapLanes(m: MigrationModel): (index: number) => number[] {
  const lanes: number[][] = [];
  let next = m.tables.length + 1;
  m.tables.forEach((t, index) => {
    const extra = Math.max(0, heapTablesOf(t).length - 1);
    lanes.push([index, ...Array.from({ length: extra }, (_, k) => next + k)]);
    next += extra;
  });
  return (index) => lanes[index]!;
}

/**
 * Like perTableLanes, one block per heap: a partitioned table's leaf partitions in lanes of their own; a child
 * table's heaps after every heap of its parent's.
 */
export function perHeapLanes(
  m: MigrationModel,
  statementsOf: (t: TableModel, index: number, heap: Required<QualifiedName>) => string[],
  options: { waitsForParent?: boolean } = {},
): string[] {
  const lanesOf = heapLanes(m);
  const blocks = m.tables.flatMap((t, index) => {
    const { after } = tableLane(m, index, options.waitsForParent ?? false, lanesOf);
    const parent = after.length ? `, after ${displayName(m.tables[after[0]!]!.name)}` : '';
    return heapTablesOf(t).flatMap((heap, h) => {
      const statements = statementsOf(t, index, heap);
      if (statements.length === 0) return [];
      const label = sameTable(heap, t.name) ? displayName(t.name) : `${displayName(heap)}, of ${displayName(t.name)}`;
      return [laneMarker({ id: lanesOf(index)[h]!, after }, `${label}${parent}`), ...statements];
    });
  });
  return blocks.length ? [...blocks, laneMarker('none', 'the end of the lanes')] : [];
}

/** The ledger's lane: after every statement of the table it is filled from. */
export function ledgerLane(m: MigrationModel): Lane | undefined {
  if (!m.ledger) return undefined;
  const from = m.tables.findIndex((t) => sameTable(t.name, m.ledger!.from.name));
  return { id: m.tables.length, after: from >= 0 ? [from] : [] };
}

/**
 * Each table's statements under its lane's marker (none for a table with no statements), closed by `lane=none`: a
 * statement a team adds after the last block runs alone, as it would under psql -f.
 */
export function perTableLanes(
  m: MigrationModel,
  statementsOf: (t: TableModel, index: number) => string[],
  options: { waitsForParent?: boolean; alone?: (t: TableModel) => boolean } = {},
): string[] {
  const blocks = m.tables.flatMap((t, index) => {
    const statements = statementsOf(t, index);
    if (statements.length === 0) return [];
    const lane = options.alone?.(t) ? 'none' : tableLane(m, index, options.waitsForParent ?? false);
    const parent = lane !== 'none' && lane.after.length ? `, after ${displayName(m.tables[lane.after[0]!]!.name)}` : '';
    return [laneMarker(lane, `${displayName(t.name)}${parent}`), ...statements];
  });
  return blocks.length ? [...blocks, laneMarker('none', 'the end of the lanes')] : [];
}
