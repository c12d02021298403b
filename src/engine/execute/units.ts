// Groups script items into units the runner executes and retries as a whole: a statement, or BEGIN … COMMIT.
import type { ScriptItem, SqlStatement, MetaCommand } from '../script/parse';
import { STEP_MARKER } from '../script/generate';

export interface ExecutionUnit {
  readonly statements: SqlStatement[];
  readonly meta?: MetaCommand;
  readonly phase?: string;
}

type TransactionKind = 'begin' | 'commit' | 'rollback' | undefined;

export type ClassifyStatement = (sql: string) => { transaction: TransactionKind; nodeType: string };

/** Phase markers (`-- @tenant-migration step=backfill`) are comments between statements. */
export function phaseMarkers(text: string, items: ScriptItem[]): { offset: number; phase: string }[] {
  const markers: { offset: number; phase: string }[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(STEP_MARKER, from);
    if (at === -1) break;
    from = at + STEP_MARKER.length;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    if (text.slice(lineStart, at).trim() !== '') continue;
    if (items.some((item) => item.start <= at && at < item.end)) continue;
    markers.push({
      offset: at,
      phase: text.slice(from, text.indexOf('\n', from) === -1 ? undefined : text.indexOf('\n', from)).trim(),
    });
  }
  return markers;
}

export function executionUnits(text: string, items: ScriptItem[], classify: ClassifyStatement): ExecutionUnit[] {
  const markers = phaseMarkers(text, items);
  const phaseAt = (offset: number) => markers.filter((m) => m.offset < offset).at(-1)?.phase;
  const units: ExecutionUnit[] = [];
  let open: SqlStatement[] | undefined;
  let openPhase: string | undefined;
  for (const item of items) {
    if (item.kind === 'meta') {
      if (!open) units.push({ statements: [], meta: item, phase: phaseAt(item.start) });
      continue;
    }
    const { transaction } = classify(item.text);
    if (open) {
      open.push(item);
      if (transaction === 'commit' || transaction === 'rollback') {
        units.push({ statements: open, phase: openPhase });
        open = undefined;
      }
      continue;
    }
    if (transaction === 'begin') {
      open = [item];
      openPhase = phaseAt(item.start);
      continue;
    }
    units.push({ statements: [item], phase: phaseAt(item.start) });
  }
  if (open) units.push({ statements: open, phase: openPhase });
  return units;
}
