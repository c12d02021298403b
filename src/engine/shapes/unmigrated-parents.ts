// A parent rule through a table the spec does not migrate: its org column is read as it is (the plan says so, and
// which rows of the parent hold no org are counted by the gaps), never written, and left as it is by rollback.
import { displayName } from '../db/sql';
import { keyLabel } from '../key-columns';
import type { ShapeDetector, ShapeFinding } from './finding';

export const unmigratedParents: ShapeDetector = async (_session, model) =>
  model.tables.flatMap((t): ShapeFinding[] => {
    if (t.rule.kind !== 'parent' || t.rule.parentMigrated) return [];
    const table = displayName(t.name);
    const parent = displayName(t.rule.parent);
    return [
      {
        kind: 'unmigrated-parent',
        table,
        object: parent,
        blocking: false,
        message:
          `${table} takes its org from ${parent} by ${keyLabel(t.rule.columns)}, and the spec does not migrate ${parent}: its ${model.orgColumn} values are read as they are ` +
          `(never written, no policies, untouched by rollback); a row written later gets the org its parent holds then`,
      },
    ];
  });
