// The manual prerequisites (events.ts MANUAL_ITEMS) as recorded in tenant_migration.manual_items, and what a writing
// step does when some are not ticked: the caller says (refuse, or go on and say so in the audit log).
import type { Session } from './db/session';
import { refused } from './errors';
import { MANUAL_ITEMS, type ManualItem } from './events';
import { appendAudit, stateSchemaExists, type RunRecord } from './state';
import { names } from './names';

export interface ManualTick {
  /** The item's text, as MANUAL_ITEMS says it (the record keeps the text the operator ticked). */
  readonly item: string;
  readonly tickedBy: string;
  readonly tickedAt: string;
}

/**
 * What a writing step does when manual prerequisites are not ticked. `refuse`: stop before anything is written, with
 * what to do next as the caller words it. `goOn`: go on, and record in the audit log who said so and how (e.g. "--unticked-ok").
 * Absent: the caller has already asked (or the step is not the operator's), nothing is checked.
 */
export type UntickedPolicy =
  { readonly refuse: (unticked: readonly ManualItem[]) => string } | { readonly goOn: string };

export const MANUAL_ITEM_IDS = Object.keys(MANUAL_ITEMS) as ManualItem[];

export function isManualItem(value: string): value is ManualItem {
  return Object.hasOwn(MANUAL_ITEMS, value);
}

export async function manualTicks(session: Session): Promise<ManualTick[]> {
  if (!(await stateSchemaExists(session))) return [];
  const { rows } = await session.query<{ item: string; ticked_by: string; ticked_at: Date }>(
    `SELECT item, ticked_by, ticked_at FROM ${names.state('manual_items')} ORDER BY ticked_at`,
  );
  return rows.map((m) => ({ item: m.item, tickedBy: m.ticked_by, tickedAt: m.ticked_at.toISOString() }));
}

/** The manual prerequisites nobody has ticked on this database, in MANUAL_ITEMS order. Reads only. */
export async function untickedManualItems(session: Session): Promise<ManualItem[]> {
  const ticked = new Set((await manualTicks(session)).map((t) => t.item));
  return MANUAL_ITEM_IDS.filter((id) => !ticked.has(MANUAL_ITEMS[id]));
}

/** "Full database dump taken; Users notified of the maintenance window" */
export function describeManualItems(items: readonly ManualItem[]): string {
  return items.map((i) => MANUAL_ITEMS[i]).join('; ');
}

/** The refusal of a writing step: it names the items; `next` is the caller's way to tick them or go on. */
export function untickedRefusal(action: string, items: readonly ManualItem[], next: string): Error {
  return refused(
    `${action} refused: ${items.length} manual prerequisite${items.length === 1 ? ' is' : 's are'} not ticked (${describeManualItems(items)})`,
    next,
  );
}

/** The operator's answer about unticked items, in the audit log (it is append-only). */
export async function auditUntickedAnswer(
  session: Session,
  run: RunRecord | undefined,
  step: string,
  items: readonly ManualItem[],
  answer: string,
  outcome: 'ok' | 'cancelled' = 'ok',
): Promise<void> {
  await appendAudit(session, run, {
    step,
    statement: `unticked manual prerequisites (${describeManualItems(items)}): ${answer}`,
    outcome,
  });
}
