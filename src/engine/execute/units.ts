// Groups script items into units the runner executes and retries as a whole: a statement, or BEGIN … COMMIT.
import type { ScriptItem, SqlStatement, MetaCommand } from '../script/parse';
import { STEP_MARKER } from '../script/generate';
import { LANE_MARKER, parseLaneMarker, type Lane } from '../script/lanes';
import type { HorizonUse } from '../script/classify';

export interface ExecutionUnit {
  readonly statements: SqlStatement[];
  readonly meta?: MetaCommand;
  readonly phase?: string;
  /** The lane it runs in beside other lanes (script/lanes.ts); outside any lane it runs alone. */
  readonly lane?: Lane;
  readonly horizon: HorizonUse;
  /** A SET or RESET of the session (what a lane's session must copy; what the backup step keeps of the header). */
  readonly setsSession: boolean;
}

type TransactionKind = 'begin' | 'commit' | 'rollback' | undefined;

export type ClassifyStatement = (sql: string) => {
  nodeType: string;
  transaction: TransactionKind;
  horizon: HorizonUse;
};

/** Marker comments (`-- @tenant-migration step=backfill`) at the start of a line between statements. */
function markers(text: string, items: ScriptItem[], prefix: string): { offset: number; value: string }[] {
  const found: { offset: number; value: string }[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(prefix, from);
    if (at === -1) break;
    from = at + prefix.length;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    if (text.slice(lineStart, at).trim() !== '') continue;
    if (items.some((item) => item.start <= at && at < item.end)) continue;
    const lineEnd = text.indexOf('\n', from);
    found.push({ offset: at, value: text.slice(from, lineEnd === -1 ? undefined : lineEnd).trim() });
  }
  return found;
}

export function phaseMarkers(text: string, items: ScriptItem[]): { offset: number; phase: string }[] {
  return markers(text, items, STEP_MARKER).map((m) => ({ offset: m.offset, phase: m.value }));
}

/** The lane at each offset: the last lane marker above it, unless a step marker or `lane=none` came after it. */
function laneAt(text: string, items: ScriptItem[]): (offset: number) => Lane | undefined {
  const boundaries = [
    ...markers(text, items, STEP_MARKER).map((m) => ({ offset: m.offset, lane: undefined })),
    ...markers(text, items, LANE_MARKER).flatMap((m) => {
      const lane = parseLaneMarker(m.value);
      return lane === undefined ? [] : [{ offset: m.offset, lane: lane === 'none' ? undefined : lane }];
    }),
  ].sort((a, b) => a.offset - b.offset);
  return (offset) => boundaries.filter((b) => b.offset < offset).at(-1)?.lane;
}

const IN_TRANSACTION: HorizonUse = { holds: true, needs: 'none' };
const NOTHING: HorizonUse = { holds: false, needs: 'none' };

export function executionUnits(text: string, items: ScriptItem[], classify: ClassifyStatement): ExecutionUnit[] {
  const phases = phaseMarkers(text, items);
  const phaseAt = (offset: number) => phases.filter((m) => m.offset < offset).at(-1)?.phase;
  const lane = laneAt(text, items);
  const units: ExecutionUnit[] = [];
  let open: SqlStatement[] | undefined;
  const unit = (
    statements: SqlStatement[],
    start: number,
    horizon: HorizonUse,
    setsSession = false,
  ): ExecutionUnit => ({
    statements,
    phase: phaseAt(start),
    lane: lane(start),
    horizon,
    setsSession,
  });
  for (const item of items) {
    if (item.kind === 'meta') {
      if (!open) units.push({ ...unit([], item.start, NOTHING), meta: item });
      continue;
    }
    const { nodeType, transaction, horizon } = classify(item.text);
    if (open) {
      open.push(item);
      if (transaction === 'commit' || transaction === 'rollback') {
        units.push(unit(open, open[0]!.start, IN_TRANSACTION));
        open = undefined;
      }
      continue;
    }
    if (transaction === 'begin') {
      open = [item];
      continue;
    }
    units.push(unit([item], item.start, horizon, nodeType === 'VariableSetStmt'));
  }
  if (open) units.push(unit(open, open[0]!.start, IN_TRANSACTION));
  return units;
}
